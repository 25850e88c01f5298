using Backprop.Simd.Data;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Runtime;

/// <summary>
/// Inference over many samples at once, for apps that call it again and again: blocks of up to
/// <see cref="BlockSize"/> samples go through one outer-product matrix product per layer (each weight load serves
/// eight samples, no horizontal sums; layers of 64 neurons or more through packed panels of the weights, with the
/// same bits), shared among a fixed set of threads created once. The products read the
/// weights transposed; the transposed copy is refreshed only when the network's parameters have changed since the
/// last call. A call on fewer than four samples runs them one at a time through <see cref="Network.FeedForward"/>'s
/// kernel on the calling thread, so an app can call it per request too. Inputs that are zero in all
/// eight samples of a block are skipped (exact while the weights are finite). The outputs are bit-identical whatever
/// the thread count. Allocates nothing per call.
/// </summary>
/// <remarks>The network is only read; do not change its parameters while a call runs. Not thread-safe itself: one
/// caller at a time, and a second call while one runs (from another thread) throws an
/// <see cref="InvalidOperationException"/> instead of disturbing the first.</remarks>
public sealed class BatchInference : IDisposable, IWorkerShared
{
    /// <summary>Samples per block when no block size is given.</summary>
    public const int DefaultBlockSize = 64;

    // Calls on fewer samples than this go one sample at a time through FeedForward's matrix-vector kernel, whose
    // four rows per pass keep more multiply-add chains going than the outer-product tiles can on one or two samples.
    private const int SmallCall = 4;

    // Layers with at least this many neurons go through packed panels of W^T (Gemm.MultiplyAccumulate) in the blocks
    // that do not scan for zero inputs: 1.6x the outer-product tiles at 100 neurons, 2.7x at 1024 (one thread, this
    // session's scratch timings in docs/optimizing-backprop.md); narrower layers keep the outer-product tiles.
    private const int PanelOutputs = 64;

    private readonly Network _network;
    private readonly WorkerPool _pool;
    private readonly bool _ownsPool;
    private readonly Workspace[] _workspaces;
    private readonly ZeroSkipping[] _skipping; // per worker and layer: when to look for zero inputs
    private readonly AlignedFloats _transposed; // (W^l)^T at each layer's weight offset
    private AlignedFloats[]? _widened; // per worker: a block of a byte set's inputs widened to floats (allocated by the first such call)
    private long _transposedVersion = -1; // the network's Version the transposed copy was made from
    private bool _finite; // every parameter of the transposed copy's version is finite: skipping zero inputs is exact
    private bool _skipZeros; // this call skips zero inputs: SkipZeroInputs is on and the parameters are finite
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
    public BatchInference(Network network, int threads = 1, int blockSize = DefaultBlockSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        Guard.Positive(threads);
        TrainingOptions.CheckThreads(threads, nameof(threads));
        Guard.Positive(blockSize);
        CheckMemory(network, threads, blockSize);
        _network = network;
        _pool = new WorkerPool(threads);
        _ownsPool = true;
        _transposed = new AlignedFloats(network.ParameterCount);
        _workspaces = new Workspace[threads];
        for (int w = 0; w < threads; w++)
        {
            _workspaces[w] = new Workspace(network, blockSize);
        }

        _skipping = new ZeroSkipping[threads * network.Sizes.Length];
    }

    // Shares a trainer's pool; worker 0 uses the trainer's workspace.
    internal BatchInference(Network network, WorkerPool pool, Workspace first)
    {
        _network = network;
        _pool = pool;
        _transposed = new AlignedFloats(network.ParameterCount);
        _workspaces = new Workspace[pool.Workers];
        _workspaces[0] = first;
        for (int w = 1; w < pool.Workers; w++)
        {
            _workspaces[w] = new Workspace(network, first.Capacity);
        }

        _skipping = new ZeroSkipping[pool.Workers * network.Sizes.Length];
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

    /// <summary>Threads sharing each call.</summary>
    public int Threads => _pool.Workers;

    /// <summary>Samples per block: each worker's arenas hold one block.</summary>
    public int BlockSize => _workspaces[0].Capacity;

    /// <summary>
    /// Whether a block skips the inputs that are zero in all eight of its samples (default true). Skipping changes no
    /// output while every parameter is finite, and each call checks that first (a NaN or infinite weight turns it off
    /// for the call, so that it reaches every output as in the dense product). It pays on sparse inputs such as
    /// digits on a blank background; on inputs that are never zero the scans soon stop (they are retried at
    /// growing intervals), and turning it off saves even those.
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
        _count = count;
        _inputs = inputs;
        _outputs = outputs;
        try
        {
            if (count < SmallCall)
            {
                FeedForwardEach(inputs.Span, outputs.Span, count);
                return;
            }

            RefreshWeights();
            _pool.Run(this, Shares(count));
        }
        finally
        {
            _inputs = default;
            _outputs = default;
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Counts the samples of <paramref name="data"/> whose output's argmax equals their label. Inputs held as
    /// bytes (<see cref="Dataset.HoldsBytes"/>) are widened a block at a time, each worker into its own block of floats;
    /// the first such call allocates those blocks, once.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> does not fit the network.</exception>
    /// <exception cref="InvalidOperationException">Another call is running (see the remarks).</exception>
    public int Evaluate(Dataset data)
    {
        Evaluation.CheckData(_network, data);
        Enter();
        _data = data;
        _correct = 0;
        try
        {
            if (data.HoldsBytes)
            {
                ReserveWidening();
            }

            RefreshWeights();
            _pool.Run(this, Shares(data.Count));
        }
        finally
        {
            _data = null;
            Volatile.Write(ref _busy, 0);
        }

        return _correct;
    }

    /// <summary>Allocates each worker's block for widening a byte set's inputs, unless that was done already.</summary>
    internal void ReserveWidening()
    {
        if (_widened is null)
        {
            var blocks = new AlignedFloats[_workspaces.Length];
            for (int w = 0; w < blocks.Length; w++)
            {
                blocks[w] = new AlignedFloats(_workspaces[w].Capacity * _network.InputSize);
            }

            _widened = blocks;
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (_ownsPool)
        {
            _pool.Dispose();
        }
    }

    // One share per block (up to the pool's limit): each output is computed by one worker with the same arithmetic.
    private int Shares(int count) => Math.Clamp((count + BlockSize - 1) / BlockSize, 1, WorkerPool.MaxShares);

    // Share s of n takes the blocks from s * blocks / n up to the next share's first.
    void IWorkerShared.Execute(int share, int shares, int worker)
    {
        Workspace ws = _workspaces[worker];
        int block = ws.Capacity, n0 = _network.InputSize, nL = _network.OutputSize;
        int total = _data?.Count ?? _count, blocks = (total + block - 1) / block;
        int first = (int)((long)blocks * share / shares) * block, last = Math.Min(total, (int)((long)blocks * (share + 1) / shares) * block);
        using Workspace.Lease lease = ws.Use(block);
        if (_data is { } data)
        {
            int correct = 0;
            for (int start = first; start < last; start += block)
            {
                int count = Math.Min(block, data.Count - start);
                ReadOnlySpan<float> x;
                if (data.HoldsBytes)
                {
                    Span<float> widened = _widened![worker].Slice(0, count * n0);
                    data.CopyRows(start, count, widened);
                    x = widened;
                }
                else
                {
                    x = data.InputRows(start, count);
                }

                ReadOnlySpan<float> outputs = FeedForwardBlock(ws, worker, x, count);
                for (int i = 0; i < count; i++)
                {
                    if (Network.ArgMax(outputs.Slice(i * nL, nL)) == data.Label(start + i))
                    {
                        correct++;
                    }
                }
            }

            Interlocked.Add(ref _correct, correct);
            return;
        }

        for (int start = first; start < last; start += block)
        {
            int count = Math.Min(block, _count - start);
            FeedForwardBlock(ws, worker, _inputs.Span.Slice(start * n0, count * n0), count).CopyTo(_outputs.Span.Slice(start * nL, count * nL));
        }
    }

    // A^L of m samples: Z^l = A^{l-1} (W^l)^T + b^l through the transposed weights, then A^l = f(Z^l), layer by layer.
    private ReadOnlySpan<float> FeedForwardBlock(Workspace ws, int worker, ReadOnlySpan<float> x, int m)
    {
        ReadOnlySpan<int> n = _network.Sizes;
        Layout layout = _network.Layout;
        for (int l = 1; l <= _network.OutputLayer; l++)
        {
            ReadOnlySpan<float> input = l > 1 ? ws.ARows(l - 1, m) : x;
            ref ZeroSkipping skip = ref _skipping[(worker * n.Length) + l];
            bool scan = _skipZeros && skip.Scan();
            ReadOnlySpan<float> transposed = _transposed.Slice(layout.WeightOffset(l), n[l] * n[l - 1]);
            Span<float> z = ws.ZRows(l, m);
            if (!scan && n[l] >= PanelOutputs)
            {
                // Z = bias, then Z += A (W^T) through packed panels of W^T: the same chain per output as the
                // outer-product tiles (bias, then the inputs in order), without their one page per input step.
                ReadOnlySpan<float> bias = _network.BiasesOf(l);
                for (int i = 0; i < m; i++)
                {
                    bias.CopyTo(z.Slice(i * n[l], n[l]));
                }

                Gemm.MultiplyAccumulate(input, n[l - 1], 1, transposed, z, m, n[l - 1], n[l], 0, m);
            }
            else
            {
                int sparse = Gemm.Multiply(input, transposed, _network.BiasesOf(l), z, m, n[l], n[l - 1], scan);
                if (scan)
                {
                    _ = skip.Found(sparse > 0);
                }
            }

            ActivationFunctions.Apply(_network.Activations[l - 1], ws.ZRows(l, m), ws.ARows(l, m), n[l]);
        }

        return ws.ARows(_network.OutputLayer, m);
    }

    private void FeedForwardEach(ReadOnlySpan<float> inputs, Span<float> outputs, int count)
    {
        int n0 = _network.InputSize, nL = _network.OutputSize;
        Workspace ws = _workspaces[0];
        using Workspace.Lease lease = ws.Use(1);
        for (int i = 0; i < count; i++)
        {
            _network.FeedForwardOne(inputs.Slice(i * n0, n0), ws).CopyTo(outputs.Slice(i * nL, nL));
        }
    }

    private void Enter()
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            throw new InvalidOperationException("BatchInference is already running a call, most likely on another thread: it serves one caller at a time, so give each thread its own.");
        }
    }

    // The transposed copy is refreshed only when the parameters changed (a training step, say): about a microsecond
    // per thousand weights, which would otherwise dominate a call on a few samples.
    private void RefreshWeights()
    {
        long version = _network.Version;
        if (version != _transposedVersion)
        {
            Transpose();
            _finite = Elementwise.AllFinite(_network.Parameters);
            _transposedVersion = version;
        }

        _skipZeros = SkipZeroInputs && _finite;
    }

    private void Transpose()
    {
        Layout layout = _network.Layout;
        for (int l = 1; l <= _network.OutputLayer; l++)
        {
            int rows = layout.Sizes[l], cols = layout.Sizes[l - 1];
            Gemm.Transpose(_network.WeightsOf(l), rows, cols, _transposed.Slice(layout.WeightOffset(l), rows * cols));
        }
    }
}

/// <summary>
/// When <see cref="BatchInference"/> looks for zero inputs: a scan costs a pass over a block's inputs, and on inputs
/// that are never zero it finds nothing, so after a dense block the next scan waits 1 block, then 2, 4, ... up to
/// <see cref="MaxWait"/>; a block with enough zeros brings scanning back to every block. Skipping changes no result,
/// so neither does this policy: only the time.
/// </summary>
internal struct ZeroSkipping
{
    /// <summary>The longest wait, in blocks, between two scans.</summary>
    public const int MaxWait = 64;

    private int _wait;    // blocks to go before the next scan
    private int _backoff; // the wait after the next dense scan

    /// <summary>Whether to scan the next block (counts it when not).</summary>
    public bool Scan()
    {
        if (_wait > 0)
        {
            _wait--;
            return false;
        }

        return true;
    }

    /// <summary>Records what a scan found; returns <paramref name="sparse"/>.</summary>
    public bool Found(bool sparse)
    {
        _backoff = sparse ? 0 : Math.Min(Math.Max(1, 2 * _backoff), MaxWait);
        _wait = _backoff;
        return sparse;
    }
}
