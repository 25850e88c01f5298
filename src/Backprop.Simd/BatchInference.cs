using Backprop.Simd.Data;
using Backprop.Simd.Kernels;
using Backprop.Simd.Training;

namespace Backprop.Simd;

/// <summary>
/// Inference over many samples at once: blocks of samples go through the batched forward pass (one register-blocked
/// matrix product per layer and block), shared among a fixed set of threads created once. Each call first copies
/// every weight matrix transposed, so that the products can take the outer-product shape of
/// <c>Gemm.Multiply</c> (no horizontal sums; each weight load serves eight samples), and inputs that
/// are zero in all eight samples of a block are skipped (exact while the weights are finite); each worker owns a
/// workspace and takes blocks <c>w, w + threads, ...</c>; the outputs are bit-identical whatever the thread count.
/// Allocates nothing per call.
/// </summary>
/// <remarks>The network is only read; do not change its parameters while a call runs. Not thread-safe itself: one
/// caller at a time, and a second call while one runs (from another thread) throws an
/// <see cref="InvalidOperationException"/> instead of disturbing the first.</remarks>
public sealed class BatchInference : IDisposable, IParallelWork
{
    private readonly Network _network;
    private readonly WorkerPool _pool;
    private readonly bool _ownsPool;
    private readonly Workspace[] _workspaces;
    private readonly float[] _transposed; // (W^l)^T at each layer's weight offset, refreshed by every call
    private bool _skipZeros; // this call skips zero inputs: SkipZeroInputs is on and every parameter is finite (exact only then)
    private ReadOnlyMemory<float> _inputs;
    private Memory<float> _outputs;
    private Dataset? _data;
    private int _count;
    private int _correct;
    private int _busy; // 1 while a call runs: the pool and the fields above serve one call at a time

    /// <summary>Prepares batched inference for <paramref name="network"/> on <paramref name="threads"/> threads, in blocks of <paramref name="blockSize"/> samples.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> or <paramref name="blockSize"/> is below 1,
    /// <paramref name="threads"/> is above <see cref="TrainingOptions.MaxThreads"/>, <paramref name="blockSize"/> rows
    /// of the network's neurons exceed one array, or the arenas would exceed the memory available to the process (the
    /// exception names <paramref name="blockSize"/> when one thread's arenas do not fit, else <paramref name="threads"/>).</exception>
    public BatchInference(Network network, int threads = 1, int blockSize = Evaluation.BlockSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        Guard.Positive(threads);
        TrainingOptions.CheckThreads(threads, nameof(threads));
        Guard.Positive(blockSize);
        CheckMemory(network, threads, blockSize);
        _network = network;
        _pool = new WorkerPool(threads);
        _ownsPool = true;
        _transposed = new float[network.ParameterCount];
        _workspaces = new Workspace[threads];
        for (int w = 0; w < threads; w++)
        {
            _workspaces[w] = new Workspace(network, blockSize);
        }
    }

    // Blame the parameter that decides: blockSize when one worker's arenas do not fit (or exceed an array), threads
    // only when more than one of them pushes the total over.
    private static void CheckMemory(Network network, int threads, int blockSize)
    {
        long blockFloats = (long)blockSize * network.Layout.NeuronCount;
        if (blockFloats > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize,
                $"blockSize is {blockSize}: {blockSize} samples x {network.Layout.NeuronCount} neurons is {blockFloats:N0} floats per arena, more than one array can hold ({Array.MaxLength:N0}).");
        }

        Int128 transposed = (Int128)network.ParameterCount * sizeof(float);
        Int128 perThread = Workspace.RequiredBytes(network.Layout, blockSize);
        string what = $"batched inference for {network.Layout.Describe()} in blocks of {blockSize}";
        MemoryBudget.Check(transposed + perThread, nameof(blockSize), $"{what} on one thread");
        if (threads > 1)
        {
            MemoryBudget.Check(transposed + (perThread * threads), nameof(threads), $"{what} on {threads} threads");
        }
    }

    // Shares a trainer's pool; worker 0 uses the trainer's workspace.
    internal BatchInference(Network network, WorkerPool pool, Workspace first)
    {
        _network = network;
        _pool = pool;
        _transposed = new float[network.ParameterCount];
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
    /// Whether a block skips the inputs that are zero in all eight of its samples (default true). Skipping changes no
    /// output while every parameter is finite, and each call checks that first (a NaN or infinite weight turns it off
    /// for the call, so that it reaches every output as in the dense product). It pays on sparse inputs such as
    /// digits on a blank background; on inputs that are never zero it costs the scan that finds that out, one vector
    /// OR per eight loads, which turning it off saves.
    /// </summary>
    public bool SkipZeroInputs { get; set; } = true;

    /// <summary>
    /// <see cref="Network.FeedForward"/> for every row of <paramref name="inputs"/> (<c>count x n_0</c>, row-major),
    /// writing the rows of <paramref name="outputs"/> (<c>count x n_L</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths are not whole, equal numbers of input and output rows.</exception>
    /// <exception cref="InvalidOperationException">Another call is running (see the remarks).</exception>
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
            // Checked by hand: an interpolated description passed to Guard would be built (and allocated) on every call.
            throw new ArgumentException($"outputs has length {outputs.Length}, expected {count * nL} ({count} samples x output size {nL}).", nameof(outputs));
        }
        Enter();
        _count = inputs.Length / n0;
        _inputs = inputs;
        _outputs = outputs;
        try
        {
            TransposeWeights();
            _pool.Run(this);
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
    /// <exception cref="InvalidOperationException">Another call is running (see the remarks).</exception>
    public int Evaluate(Dataset data)
    {
        Backpropagation.CheckData(_network, data);
        Enter();
        _data = data;
        _correct = 0;
        try
        {
            TransposeWeights();
            _pool.Run(this);
        }
        finally
        {
            _data = null;
            Volatile.Write(ref _busy, 0);
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
        int block = ws.BatchCapacity, n0 = _network.InputSize, nL = _network.OutputSize;
        if (_data is { } data)
        {
            int correct = 0;
            for (int start = worker * block; start < data.Count; start += workers * block)
            {
                int count = Math.Min(block, data.Count - start);
                ReadOnlySpan<float> outputs = BatchedBackpropagation.FeedForwardTransposed(_network, ws, _transposed, data.InputRows(start, count), count, _skipZeros);
                correct += BatchedBackpropagation.Correct(outputs, nL, data, start);
            }

            Interlocked.Add(ref _correct, correct);
            return;
        }

        for (int start = worker * block; start < _count; start += workers * block)
        {
            int count = Math.Min(block, _count - start);
            BatchedBackpropagation.FeedForwardTransposed(_network, ws, _transposed, _inputs.Span.Slice(start * n0, count * n0), count, _skipZeros)
                .CopyTo(_outputs.Span.Slice(start * nL, count * nL));
        }
    }

    private void Enter()
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            throw new InvalidOperationException("BatchInference is already running a call, most likely on another thread: it serves one caller at a time, so give each thread its own.");
        }
    }

    // The network may have changed since the last call (a training epoch, say): about a microsecond per thousand weights.
    private void TransposeWeights()
    {
        Layout layout = _network.Layout;
        _skipZeros = SkipZeroInputs && Elementwise.AllFinite(_network.Parameters);
        for (int l = 1; l <= _network.OutputLayer; l++)
        {
            int rows = layout.Sizes[l], cols = layout.Sizes[l - 1];
            Gemm.Transpose(_network.WeightsUnchecked(l), rows, cols, _transposed.AsSpan(layout.WeightOffset(l), rows * cols));
        }
    }
}
