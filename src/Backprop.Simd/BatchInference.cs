using Backprop.Simd.Data;
using Backprop.Simd.Training;

namespace Backprop.Simd;

/// <summary>
/// Inference over many samples at once: blocks of samples go through the batched forward pass (one register-blocked
/// matrix product per layer and block), shared among a fixed set of threads created once. Each worker owns a
/// workspace and takes blocks <c>w, w + threads, ...</c>; the outputs are bit-identical whatever the thread count.
/// Allocates nothing per call.
/// </summary>
/// <remarks>The network is only read; do not change its parameters while a call runs. Not thread-safe itself: one caller at a time.</remarks>
public sealed class BatchInference : IDisposable, IParallelWork
{
    private readonly Network _network;
    private readonly WorkerPool _pool;
    private readonly bool _ownsPool;
    private readonly Workspace[] _workspaces;
    private ReadOnlyMemory<float> _inputs;
    private Memory<float> _outputs;
    private Dataset? _data;
    private int _count;
    private int _correct;

    /// <summary>Prepares batched inference for <paramref name="network"/> on <paramref name="threads"/> threads, in blocks of <paramref name="blockSize"/> samples.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> or <paramref name="blockSize"/> is below 1.</exception>
    public BatchInference(Network network, int threads = 1, int blockSize = Evaluation.BlockSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        Guard.Positive(threads);
        Guard.Positive(blockSize);
        _network = network;
        _pool = new WorkerPool(threads);
        _ownsPool = true;
        _workspaces = new Workspace[threads];
        for (int w = 0; w < threads; w++)
        {
            _workspaces[w] = new Workspace(network, blockSize);
        }
    }

    // Shares a trainer's pool; worker 0 uses the trainer's workspace.
    internal BatchInference(Network network, WorkerPool pool, Workspace first)
    {
        _network = network;
        _pool = pool;
        _workspaces = new Workspace[pool.Workers];
        _workspaces[0] = first;
        for (int w = 1; w < pool.Workers; w++)
        {
            _workspaces[w] = new Workspace(network, first.BatchCapacity);
        }
    }

    /// <summary>Threads sharing each call.</summary>
    public int Threads => _pool.Workers;

    /// <summary>
    /// <see cref="Network.FeedForward"/> for every row of <paramref name="inputs"/> (<c>count x n_0</c>, row-major),
    /// writing the rows of <paramref name="outputs"/> (<c>count x n_L</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths are not whole, equal numbers of input and output rows.</exception>
    public void FeedForward(ReadOnlyMemory<float> inputs, Memory<float> outputs)
    {
        int n0 = _network.InputSize, nL = _network.OutputSize;
        if (inputs.Length % n0 != 0)
        {
            throw new ArgumentException($"inputs has length {inputs.Length}, expected a multiple of the input size {n0}.", nameof(inputs));
        }

        _count = inputs.Length / n0;
        if (outputs.Length != _count * nL)
        {
            // Checked by hand: an interpolated description passed to Guard would be built (and allocated) on every call.
            throw new ArgumentException($"outputs has length {outputs.Length}, expected {_count * nL} ({_count} samples x output size {nL}).", nameof(outputs));
        }
        _inputs = inputs;
        _outputs = outputs;
        try
        {
            _pool.Run(this);
        }
        finally
        {
            _inputs = default;
            _outputs = default;
        }
    }

    /// <summary>Counts the samples of <paramref name="data"/> whose output's argmax equals their label.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> does not fit the network.</exception>
    public int Evaluate(Dataset data)
    {
        Backpropagation.CheckData(_network, data);
        _data = data;
        _correct = 0;
        try
        {
            _pool.Run(this);
        }
        finally
        {
            _data = null;
        }

        return _correct;
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (_ownsPool)
        {
            _pool.Dispose();
        }
    }

    void IParallelWork.Execute(int worker, int workers)
    {
        Workspace ws = _workspaces[worker];
        if (_data is not null)
        {
            Interlocked.Add(ref _correct, BatchedBackpropagation.CountCorrect(_network, ws, _data, worker, workers));
            return;
        }

        int block = ws.BatchCapacity, n0 = _network.InputSize, nL = _network.OutputSize;
        for (int start = worker * block; start < _count; start += workers * block)
        {
            int count = Math.Min(block, _count - start);
            BatchedBackpropagation.FeedForwardUnchecked(_network, ws, _inputs.Span.Slice(start * n0, count * n0), default, count)
                .CopyTo(_outputs.Span.Slice(start * nL, count * nL));
        }
    }
}
