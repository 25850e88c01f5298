using Backprop.Simd.Data;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Runtime;

/// <summary>
/// A <see cref="QuantizedNetwork"/> over many samples, shared among a fixed set of threads created once (the runtime's
/// worker pool): the samples are cut into runs of <see cref="SamplesPerShare"/>, each run done by one thread, one
/// block of up to 32 samples at a time in that thread's own <see cref="QuantizedWorkspace"/>: the int8 layers sample
/// by sample, each activation (softmax too) once for the block, the outputs written in place. Each output is
/// computed by one thread with the arithmetic <see cref="QuantizedNetwork.FeedForward"/> uses, so the outputs are
/// bit-identical whatever the thread count. Allocates nothing per call.
/// </summary>
/// <remarks>Not thread-safe itself: one caller at a time; a second call while one runs throws an
/// <see cref="InvalidOperationException"/>.</remarks>
public sealed class QuantizedBatchInference : IDisposable, IWorkerShared
{
    /// <summary>Samples in one share of a call: enough that claiming a share costs little next to it.</summary>
    public const int SamplesPerShare = 64;

    // Samples between an input's prefetch and its use: about two microseconds of work ahead.
    private const int PrefetchDistance = 2;

    private readonly QuantizedNetwork _network;
    private readonly WorkerPool _pool;
    private readonly QuantizedWorkspace[] _workspaces;
    private ReadOnlyMemory<float> _inputs;
    private Memory<float> _outputs;
    private Dataset? _data;
    private int _count;
    private int _correct;
    private int _busy;

    /// <summary>Prepares batched inference for <paramref name="network"/> on <paramref name="threads"/> threads (the caller's included).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1 or above <see cref="TrainingOptions.MaxThreads"/>.</exception>
    public QuantizedBatchInference(QuantizedNetwork network, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(network);
        Guard.Positive(threads);
        TrainingOptions.CheckThreads(threads, nameof(threads));
        _network = network;
        _workspaces = new QuantizedWorkspace[threads];
        for (int w = 0; w < threads; w++)
        {
            _workspaces[w] = new QuantizedWorkspace(network);
        }

        _pool = new WorkerPool(threads);
    }

    /// <summary>Threads sharing each call.</summary>
    public int Threads => _pool.Workers;

    /// <summary>
    /// <see cref="QuantizedNetwork.FeedForward"/> for every row of <paramref name="inputs"/> (<c>count x n_0</c>,
    /// row-major), writing the rows of <paramref name="outputs"/> (<c>count x n_L</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths are not whole, equal numbers of input and output rows.</exception>
    /// <exception cref="InvalidOperationException">Another call is running.</exception>
    public void FeedForward(ReadOnlyMemory<float> inputs, Memory<float> outputs)
    {
        int n0 = _network.InputSize, nL = _network.OutputSize;
        if (inputs.Length % n0 != 0)
        {
            throw new ArgumentException($"inputs has length {inputs.Length}, expected a multiple of the input size {n0}.", nameof(inputs));
        }

        int count = inputs.Length / n0;
        if (outputs.Length != count * nL)
        {
            throw new ArgumentException($"outputs has length {outputs.Length}, expected {count * nL} ({count} samples x output size {nL}).", nameof(outputs));
        }

        Enter();
        try
        {
            _inputs = inputs;
            _outputs = outputs;
            _count = count;
            _pool.Run(this, Shares(count));
        }
        finally
        {
            _inputs = default;
            _outputs = default;
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Counts the samples of <paramref name="data"/> whose output's argmax equals their label.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> does not fit the network.</exception>
    /// <exception cref="InvalidOperationException">Another call is running.</exception>
    public int Evaluate(Dataset data)
    {
        _network.CheckData(data);
        Enter();
        try
        {
            _data = data;
            _count = data.Count;
            _correct = 0;
            _pool.Run(this, Shares(data.Count));
            return _correct;
        }
        finally
        {
            _data = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose() => _pool.Dispose();

    private static int Shares(int count) => Math.Clamp((count + SamplesPerShare - 1) / SamplesPerShare, 1, WorkerPool.MaxShares);

    void IWorkerShared.Execute(int share, int shares, int worker)
    {
        QuantizedWorkspace ws = _workspaces[worker];
        int first = (int)((long)_count * share / shares), last = (int)((long)_count * (share + 1) / shares);
        int n0 = _network.InputSize, nL = _network.OutputSize;
        using QuantizedWorkspace.Lease lease = ws.Use();
        Dataset? data = _data;
        ReadOnlySpan<float> inputs = _inputs.Span;
        Span<float> outputs = _outputs.Span;
        int correct = 0;
        for (int start = first; start < last; start += QuantizedNetwork.BlockSamples)
        {
            // Layer 1 sample by sample, then the later layers and the activations for the whole block.
            int count = Math.Min(QuantizedNetwork.BlockSamples, last - start);
            for (int s = 0; s < count; s++)
            {
                int i = start + s;
                if (data is not null)
                {
                    _network.FirstLayerOfBlock(data.Input(i, ws.Row), ws, s);
                    continue;
                }

                int ahead = i + PrefetchDistance; // a hint for the input two samples on (the first block's; FinishBlock fetches the others)
                if (ahead < last)
                {
                    Prefetch.Rows(inputs, new ReadOnlySpan<int>(in ahead), n0);
                }

                _network.FirstLayerOfBlock(inputs.Slice(i * n0, n0), ws, s);
            }

            if (data is null)
            {
                int next = start + count, upcoming = Math.Min(QuantizedNetwork.BlockSamples, last - next);
                _network.FinishBlock(ws, count, outputs.Slice(start * nL, count * nL), inputs.Slice(next * n0, upcoming * n0));
                continue;
            }

            Span<float> block = ws.BlockARows(_network.OutputLayer);
            _network.FinishBlock(ws, count, block);
            for (int s = 0; s < count; s++)
            {
                if (Network.ArgMax(block.Slice(s * nL, nL)) == data.Label(start + s))
                {
                    correct++;
                }
            }
        }

        if (data is not null)
        {
            Interlocked.Add(ref _correct, correct);
        }
    }

    private void Enter()
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            throw new InvalidOperationException("QuantizedBatchInference is already running a call, most likely on another thread: it serves one caller at a time, so give each thread its own.");
        }
    }
}
