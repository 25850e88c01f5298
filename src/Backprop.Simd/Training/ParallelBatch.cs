using Backprop.Simd.Data;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Training;

/// <summary>Updates rows [start, end) of layer l's weights and biases (a part of one optimizer step).</summary>
internal interface IRowUpdate
{
    void UpdateRows(int layer, int start, int end);
}

/// <summary>
/// Spreads the batched path over a <see cref="WorkerPool"/>. Each matrix product is split by its OUTPUT: the forward
/// pass by neurons, the weight gradient by rows of <c>nabla_W</c>, BP2 by samples, the update by stretches of the
/// arena, evaluation by blocks of samples. Every output element is computed by exactly one worker with exactly the
/// arithmetic a single thread uses, and everything element-wise (activations, derivatives, bias sums) stays on the
/// calling thread with the same span boundaries as without workers (see
/// <see cref="BatchedBackpropagation.BackpropUnchecked"/>), so results are bit-identical whatever the number of
/// threads. Products too small to be worth waking the workers for run on the calling thread alone.
/// </summary>
internal sealed class ParallelBatch : IParallelWork, IDisposable
{
    /// <summary>Below this many multiply-adds a product runs on the calling thread: waking the others costs more.</summary>
    private const long ParallelThreshold = 32 * 1024;

    private readonly WorkerPool _pool;
    private readonly Network _network;
    private readonly Workspace _workspace;
    private readonly BatchInference _inference; // evaluation, on the same workers
    private Phase _phase;
    private int _layer;
    private int _m;
    private Epilogue _step;
    private IRowUpdate? _rows;
    private Dataset? _data;
    private int _next; // the next mini-batch's size (its indices are in the workspace)

    public ParallelBatch(Network network, Workspace workspace, int threads)
    {
        _network = network;
        _workspace = workspace;
        _pool = new WorkerPool(threads);
        _inference = new BatchInference(network, _pool, workspace);
    }

    internal enum Phase
    {
        Forward,
        Gradient,
        Bp2,
        Update,
    }

    public int Threads => _pool.Workers;

    public bool Worthwhile(long multiplyAdds) => _pool.Workers > 1 && multiplyAdds >= ParallelThreshold;

    /// <summary>
    /// Makes <paramref name="data"/> the batch's data set for the phases that follow; the first <paramref name="next"/>
    /// of <see cref="Workspace.NextIndices"/> are the samples of the mini-batch after this one.
    /// </summary>
    public void Begin(Dataset data, int next = 0)
    {
        _data = data;
        _next = next;
    }

    public void End() => _data = null;

    /// <summary>Runs one phase of layer <paramref name="layer"/> for a batch of <paramref name="m"/> on every worker.</summary>
    public void Run(Phase phase, int layer, int m, Epilogue step)
    {
        _phase = phase;
        _layer = layer;
        _m = m;
        _step = step;
        _pool.Run(this);
    }

    /// <summary>
    /// Runs one optimizer step for layer <paramref name="layer"/>, each worker updating the rows of <c>W^l</c> (and
    /// <c>b^l</c>) whose gradient it computed: the weights and gradients stay in the cache of the core that uses them.
    /// </summary>
    public void RunUpdate(int layer, IRowUpdate rows)
    {
        _rows = rows;
        Run(Phase.Update, layer, 0, default);
        _rows = null;
    }

    /// <summary>Counts the correctly classified samples, each worker evaluating its share of the blocks with its own workspace.</summary>
    public int Evaluate(Dataset data) => _inference.Evaluate(data);

    public void Execute(int worker, int workers)
    {
        Network network = _network;
        Workspace ws = _workspace;
        switch (_phase)
        {
            case Phase.Forward:
                BatchedBackpropagation.ForwardShare(network, ws, _data!.InputRows(0, _data.Count), ws.BatchIndices(_m), _layer, _m, worker, workers);
                break;
            case Phase.Gradient:
                BatchedBackpropagation.GradientShare(network, ws, _data!, _layer, _m, _step, worker, workers);
                if (_layer == 1)
                {
                    _data!.PrefetchInputs(ws.NextIndices(_next)); // into this core's cache, for the next forward pass
                }

                break;
            case Phase.Bp2:
                BatchedBackpropagation.Bp2Share(network, ws, _layer, _m, worker, workers);
                break;
            case Phase.Update:
            {
                (int start, int end) = BatchedBackpropagation.Share(network.Sizes[_layer], worker, workers);
                if (start < end)
                {
                    _rows!.UpdateRows(_layer, start, end);
                }

                break;
            }
        }
    }

    public void Dispose() => _pool.Dispose();
}
