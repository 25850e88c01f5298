using Backprop.Simd.Kernels;

namespace Backprop.Simd;

/// <summary>A piece of work split into shares, each done once by some worker; the split must be of outputs, never of a sum.</summary>
internal interface IShared
{
    /// <summary>Does share <paramref name="share"/> of <paramref name="shares"/>.</summary>
    void Execute(int share, int shares);
}

/// <summary>An <see cref="IShared"/> whose shares use per-worker state (a workspace each).</summary>
internal interface IWorkerShared
{
    /// <summary>Does share <paramref name="share"/> of <paramref name="shares"/> on worker <paramref name="worker"/>
    /// (0 is the calling thread), which runs one share at a time.</summary>
    void Execute(int share, int shares, int worker);
}

/// <summary>Threads that run every share of an <see cref="IShared"/>, each share once (the runtime's worker pool).</summary>
internal interface IWorkers
{
    /// <summary>How many threads share a run.</summary>
    int Count { get; }

    /// <summary>Runs every one of <paramref name="shares"/> shares of <paramref name="work"/>; returns when all are done.</summary>
    void Run(IShared work, int shares);

    /// <summary>Runs <paramref name="work"/> as <see cref="Run(IShared, int)"/> does, then <paramref name="tail"/> in one
    /// share per thread without waiting for it; the next run finishes it first (so may the pool's owner).</summary>
    void Run(IShared work, int shares, IShared? tail);

    /// <summary><see cref="Run(IShared, int, IShared)"/> for work that uses per-worker state.</summary>
    void Run(IWorkerShared work, int shares, IShared? tail);
}

/// <summary>
/// Where BP4's product goes: stored in <c>nabla_W^l</c>, or folded straight into the weights as a gradient step,
/// <c>W^l = Beta W^l + Alpha nabla_W^l</c>, each element the moment it is computed (so the weight gradient never
/// makes a pass of its own through memory); the biases then take <c>b^l = b^l + Alpha nabla_b^l</c> in the same share.
/// </summary>
internal readonly record struct Fold(bool IntoWeights, float Alpha, float Beta)
{
    public static Fold None => default;

    public static Fold Step(float alpha, float beta) => new(true, alpha, beta);
}

/// <summary>
/// One backprop's data and where its matrix products run: on the calling thread, or split among
/// <see cref="LayerProducts"/>' workers when a product is large enough to be worth waking them.
/// </summary>
internal readonly ref struct Pass(Network network, Workspace workspace, ReadOnlySpan<float> x, ReadOnlySpan<int> rows, int m,
    Fold fold = default, LayerProducts? parallel = null, ReadOnlySpan<int> next = default, IShared? after = null)
{
    public Network Network { get; } = network;

    public Workspace Workspace { get; } = workspace;

    /// <summary>Rows of the inputs <c>A^0</c>: row i is row <c>Rows[i]</c> of <c>X</c> (all of <c>X</c> in order when empty).</summary>
    public ReadOnlySpan<float> X { get; } = x;

    public ReadOnlySpan<int> Rows { get; } = rows;

    public int M { get; } = m;

    public Fold Fold { get; } = fold;

    /// <summary>Rows of <c>X</c> the next pass will read: prefetched while this one runs.</summary>
    public ReadOnlySpan<int> Next { get; } = next;

    /// <summary><c>Z^l = A^{l-1} (W^l)^T + b^l</c> and <c>A^l = f(Z^l)</c>, each share's neurons activated as soon as they
    /// are computed; for the first layer, the same share of the caller's work for the next pass (gathering its inputs) follows in the same run.</summary>
    public void Forward(int l)
    {
        if (l == 1 && parallel is { FirstLayerReady: true })
        {
            // The previous pass computed this layer in the shares of its gradients (LayerProducts.Begin's chain).
            after?.Execute(0, 1);
        }
        else if (parallel is not null && parallel.Worthwhile(LayerProducts.ForwardWork(Network.Sizes, l, M)))
        {
            parallel.Run(LayerProducts.Phase.Forward, l);
            Activation f = Network.Activations[l - 1];
            if (!ActivationFunctions.IsElementwise(f))
            {
                // Softmax normalises whole rows, which no share of neurons holds.
                ActivationFunctions.Apply(f, Workspace.ZRows(l, M), Workspace.ARows(l, M), Network.Sizes[l]);
            }
        }
        else
        {
            LayerProducts.Forward(Network, Workspace, X, Rows, l, M, 0, 1);
            if (l == 1)
            {
                after?.Execute(0, 1);
            }
        }

        // The next mini-batch's inputs start on their way from memory while the backward pass runs; when the first
        // layer's gradient is split, each worker fetches them into its own core's cache after its share instead.
        if (l == Network.OutputLayer && (parallel?.PrefetchesNext ?? true) && !(parallel is not null && parallel.Worthwhile(LayerProducts.BackwardWork(Network.Sizes, 1, M))))
        {
            Prefetch.Rows(X, Next, Network.InputSize);
        }
    }

    // The layers above the first, then the first with the next pass's forward product of the first layer in the same
    // shares: each share's rows of W^1 and b^1 have taken their step when it computes the same neurons of the next
    // batch, so one run of the workers does both. The layers above go first: the next batch's A^1 overwrites this one's.
    private void ChainedGradients(LayerProducts chain)
    {
        ReadOnlySpan<int> n = Network.Sizes;
        long upper = 0;
        for (int l = 2; l <= Network.OutputLayer; l++)
        {
            upper += LayerProducts.ForwardWork(n, l, M);
        }

        if (upper > 0 && chain.Worthwhile(upper))
        {
            chain.Run(LayerProducts.Phase.UpperGradients, 2);
        }
        else
        {
            for (int l = Network.OutputLayer; l >= 2; l--)
            {
                LayerProducts.Gradient(Network, Workspace, X, Rows, l, M, Fold, 0, 1);
            }
        }

        if (chain.Worthwhile(LayerProducts.BackwardWork(n, 1, M)))
        {
            chain.Run(LayerProducts.Phase.ChainedGradient, 1);
        }
        else
        {
            chain.ChainedGradient(0, 1);
        }
    }

    /// <summary>BP2, <c>Delta^{l-1} = (Delta^l W^l) ⊙ f'(Z^{l-1})</c>, each share's samples (below a wide layer, its
    /// neurons) multiplied by the derivative as soon as they are computed.</summary>
    public void PropagateError(int l)
    {
        if (parallel is not null && parallel.Worthwhile(LayerProducts.BackwardWork(Network.Sizes, l, M)))
        {
            parallel.Run(LayerProducts.Phase.PropagateError, l);
        }
        else
        {
            LayerProducts.PropagateError(Network, Workspace, l, M, 0, 1);
        }
    }

    /// <summary>
    /// BP3 and BP4 of every layer, <c>nabla_b^l</c> the sum of the rows of <c>Delta^l</c> and
    /// <c>nabla_W^l = (Delta^l)^T A^{l-1}</c>, stored or folded into <c>b^l</c> and <c>W^l</c>: after every BP2, which
    /// reads the weights, in one run of the workers, each share taking the same neurons of every layer.
    /// </summary>
    public void Gradients()
    {
        if (parallel is { Chains: true })
        {
            ChainedGradients(parallel);
            return;
        }

        if (parallel is not null && parallel.Worthwhile(LayerProducts.BackwardWork(Network.Sizes, 1, M)))
        {
            parallel.Run(LayerProducts.Phase.Gradients, 1);
        }
        else
        {
            for (int l = Network.OutputLayer; l >= 1; l--)
            {
                LayerProducts.Gradient(Network, Workspace, X, Rows, l, M, Fold, 0, 1);
            }
        }
    }
}

/// <summary>
/// The matrix products of backprop, each split among workers by its OUTPUT: the forward pass by neurons, the weight
/// gradient by rows of <c>nabla_W</c>, BP2 by samples (below a wide layer by its neurons). Every output element is
/// computed by exactly one worker with exactly the arithmetic one thread uses, so results are bit-identical whatever
/// the number of workers.
/// </summary>
internal sealed class LayerProducts(Network network, Workspace workspace, IWorkers workers) : IWorkerShared
{
    /// <summary>Below this many multiply-adds a product runs on the calling thread: waking the others costs more.</summary>
    private const long ParallelThreshold = 32 * 1024;

    /// <summary>At most this many shares per worker of a large product, so that a worker that falls behind leaves
    /// some of its shares to the others.</summary>
    private const int MaxSharesPerWorker = 4;

    /// <summary>Multiply-adds per share before a product gets more than one share per worker: every share costs a
    /// claim and a kernel call with its own edge tiles, which on two equal cores cost more than balancing gains
    /// (measured for [784,30,10] at m = 10 and [784,100,10] at m = 100; docs/optimizing-backprop.md, sixth session).</summary>
    private const long MinShareWork = 2 * 1024 * 1024;

    /// <summary>
    /// Shares of a product end at even rows: 100 neurons split 50 / 50, where multiples of the 4-row tile split them
    /// 48 / 52 and left one core waiting 8% of every phase. The kernels give the same bits at any split.
    /// </summary>
    private const int ShareAlign = 2;

    /// <summary>BP2 is split by columns of <c>Delta^{l-1}</c> when each share gets at least this many: two 512-bit pairs.</summary>
    private const int MinColumnsPerShare = 64;

    /// <summary>BP2's column shares end at multiples of a 64-byte line of floats.</summary>
    private const int ColumnAlign = 16;

    private ReadOnlyMemory<float> _x;
    private int _copyLength; // > 0: _x holds one copy of the inputs per worker, each this long (see Begin)
    private int[] _rows = [];
    private int[] _next = [];
    private int _m;
    private int _nextCount;
    private IShared? _after;
    private IShared? _afterChain;
    private bool _afterChainInTails;
    private Fold _fold;
    private Phase _phase;
    private int _layer;

    internal enum Phase
    {
        Forward,
        PropagateError,
        Gradients,
        UpperGradients,
        ChainedGradient,
    }

    /// <summary>Whether the pass's first layer was computed by the previous pass's chain (see <see cref="Begin"/>).</summary>
    public bool FirstLayerReady { get; private set; }

    /// <summary>Whether the pass computes the next one's first layer in the shares of its first layer's gradient.</summary>
    public bool Chains { get; private set; }

    /// <summary>Whether the pass prefetches the next pass's rows of the inputs (see <see cref="Begin"/>).</summary>
    public bool PrefetchesNext { get; private set; }

    /// <summary>
    /// Makes a pass over <paramref name="m"/> rows of <paramref name="x"/> (rows <paramref name="rows"/>), with BP4
    /// stored or folded as <paramref name="fold"/> says, the rows <paramref name="next"/> (the next pass's)
    /// prefetched during the gradients, and <paramref name="after"/>'s shares done in the shares of the first layer's
    /// forward product. With <paramref name="chain"/> (a folded step, at least two layers, a next pass), the shares
    /// of the first layer's gradient go on to the next pass's first-layer forward product, on the stepped weights,
    /// and then do <paramref name="afterChain"/>'s shares (in the workers' tails when the chain is split: nothing of
    /// this pass may read what it writes); that pass is then begun with <paramref name="firstLayerReady"/>.
    /// The workers read <paramref name="rows"/> and <paramref name="next"/>: keep them unchanged until the pass ends.
    /// With <paramref name="copyLength"/> above 0, <paramref name="x"/> holds a copy of the inputs for each worker,
    /// each that long, and worker w reads copy w (the calling thread, worker 0, the first), so that no worker reads
    /// rows another core wrote. Without <paramref name="prefetchNext"/> the next pass's rows are not prefetched: inputs
    /// the caller has just written itself (a gathered batch) are in its caches already.
    /// </summary>
    public Pass Begin(ReadOnlyMemory<float> x, int[] rows, int m, Fold fold, int[] next, int nextCount, IShared? after = null,
        bool firstLayerReady = false, bool chain = false, IShared? afterChain = null, int copyLength = 0, bool prefetchNext = true)
    {
        PrefetchesNext = prefetchNext;
        _after = after;
        _afterChain = afterChain;
        _x = x;
        _copyLength = copyLength;
        _rows = rows;
        _m = m;
        _fold = fold;
        _next = next;
        _nextCount = nextCount;
        FirstLayerReady = firstLayerReady;
        Chains = chain;
        System.Diagnostics.Debug.Assert(!chain || (fold.IntoWeights && nextCount > 0 && network.OutputLayer >= 2), "a chain needs a folded step, a next pass and two layers");
        return new Pass(network, workspace, InputsOf(0), rows.AsSpan(0, m), m, fold, this, next.AsSpan(0, nextCount), after);
    }

    /// <summary>The inputs worker <paramref name="worker"/> reads.</summary>
    private ReadOnlySpan<float> InputsOf(int worker) => _copyLength == 0 ? _x.Span : _x.Span.Slice(worker * _copyLength, _copyLength);

    /// <summary>Share <paramref name="share"/> of the first layer's gradient, then of the next pass's first-layer
    /// forward product (the same neurons), then of the work to do after it, on the calling thread.</summary>
    public void ChainedGradient(int share, int shares) => ChainedGradient(share, shares, 0, _afterChain);

    private void ChainedGradient(int share, int shares, int worker, IShared? afterChain)
    {
        ReadOnlySpan<float> x = InputsOf(worker);
        ReadOnlySpan<int> next = _next.AsSpan(0, _nextCount);
        if (PrefetchesNext)
        {
            Prefetch.Rows(x, next, network.InputSize); // on their way while the gradient runs
        }

        Gradient(network, workspace, x, _rows.AsSpan(0, _m), 1, _m, _fold, share, shares);
        Forward(network, workspace, x, next, 1, _nextCount, share, shares);
        afterChain?.Execute(share, shares);
    }

    public bool Worthwhile(long multiplyAdds) => workers.Count > 1 && multiplyAdds >= ParallelThreshold;

    public void Run(Phase phase, int layer)
    {
        _phase = phase;
        _layer = layer;
        long work = ForwardWork(network.Sizes, layer, _m); // each of the three products has this many multiply-adds
        int perWorker = (int)Math.Clamp(work / (workers.Count * MinShareWork), 1, MaxSharesPerWorker);

        // A chain's work after it (gathering a batch that only the next pass's chain reads) goes in the workers' tails:
        // each worker does its part while the caller goes on with the next pass's serial layers.
        _afterChainInTails = phase == Phase.ChainedGradient && _afterChain is not null;
        workers.Run(this, workers.Count * perWorker, _afterChainInTails ? _afterChain : null);
    }

    void IWorkerShared.Execute(int share, int shares, int worker)
    {
        ReadOnlySpan<float> x = InputsOf(worker);
        ReadOnlySpan<int> rows = _rows.AsSpan(0, _m);
        switch (_phase)
        {
            case Phase.Forward:
                Forward(network, workspace, x, rows, _layer, _m, share, shares);
                if (_layer == 1)
                {
                    _after?.Execute(share, shares);
                }

                break;
            case Phase.PropagateError:
                PropagateError(network, workspace, _layer, _m, share, shares);
                break;
            case Phase.Gradients:
                for (int l = network.OutputLayer; l >= 1; l--)
                {
                    Gradient(network, workspace, x, rows, l, _m, _fold, share, shares);
                }

                if (PrefetchesNext)
                {
                    Prefetch.Rows(x, _next.AsSpan(0, _nextCount), network.InputSize); // into this core's cache, for the next forward pass
                }
                break;
            case Phase.UpperGradients:
                for (int l = network.OutputLayer; l >= 2; l--)
                {
                    Gradient(network, workspace, x, rows, l, _m, _fold, share, shares);
                }

                break;
            case Phase.ChainedGradient:
                ChainedGradient(share, shares, worker, _afterChainInTails ? null : _afterChain);
                break;
        }
    }

    /// <summary>Multiply-adds of layer l's forward product.</summary>
    public static long ForwardWork(ReadOnlySpan<int> sizes, int l, int m) => (long)m * sizes[l] * sizes[l - 1];

    /// <summary>Multiply-adds of layer l's backward products (BP2's and BP4's; the first layer has no BP2).</summary>
    public static long BackwardWork(ReadOnlySpan<int> sizes, int l, int m) => (long)m * sizes[l] * sizes[l - 1] * (l > 1 ? 2 : 1);

    /// <summary>Share <paramref name="share"/>'s neurons of <c>Z^l = A^{l-1} (W^l)^T + b^l</c>, and of <c>A^l = f(Z^l)</c>
    /// while they are in this core's cache (all of <c>A^l</c> for one share; none for a row-wise <c>f</c> split in several).</summary>
    public static void Forward(Network network, Workspace ws, ReadOnlySpan<float> x, ReadOnlySpan<int> rows, int l, int m, int share, int shares)
    {
        ReadOnlySpan<int> n = network.Sizes;
        (int start, int end) = Split(n[l], share, shares); // the same neurons as Gradient's rows: they stay in one core's cache
        if (start < end)
        {
            ReadOnlySpan<int> picked = rows;
            ReadOnlySpan<float> input = InputOf(ws, x, ref picked, l, m, n[0]);
            Gemm.MultiplyTransposed(input, picked, network.WeightsOf(l), network.BiasesOf(l), ws.ZRows(l, m), m, n[l], n[l - 1], start, end);
            ActivationFunctions.ApplyColumns(network.Activations[l - 1], ws.ZRows(l, m), ws.ARows(l, m), m, n[l], start, end);
        }
    }

    /// <summary>
    /// Share <paramref name="share"/> of BP2, <c>Delta^{l-1} = (Delta^l W^l) ⊙ f'(Z^{l-1})</c>: below a wide layer, its
    /// neurons (columns of <c>Delta^{l-1}</c>, cut at multiples of 16 floats: whole lines where the rows start on one),
    /// so that each share packs and reads only its columns of <c>W^l</c>; otherwise its samples.
    /// </summary>
    public static void PropagateError(Network network, Workspace ws, int l, int m, int share, int shares)
    {
        ReadOnlySpan<int> n = network.Sizes;
        if (shares > 1 && n[l - 1] >= MinColumnsPerShare * shares)
        {
            (int q0, int q1) = Split(n[l - 1], share, shares, ColumnAlign);
            if (q0 < q1)
            {
                Gemm.MultiplyStrided(ws.DeltaRows(l, m), n[l], 1, network.WeightsOf(l), default, ws.DeltaRows(l - 1, m), m, n[l], n[l - 1], 0, m, q0, q1, 1f, 0f);
                ActivationFunctions.MultiplyByDerivativeColumns(network.Activations[l - 2], ws.DeltaRows(l - 1, m), ws.ZRows(l - 1, m), ws.ARows(l - 1, m), m, n[l - 1], q0, q1);
            }

            return;
        }

        (int start, int end) = Split(m, share, shares);
        if (start < end)
        {
            Gemm.MultiplyStrided(ws.DeltaRows(l, m), n[l], 1, network.WeightsOf(l), default, ws.DeltaRows(l - 1, m), m, n[l], n[l - 1], start, end, 1f, 0f);
            int from = start * n[l - 1], count = (end - start) * n[l - 1];
            ActivationFunctions.MultiplyByDerivative(network.Activations[l - 2], ws.DeltaRows(l - 1, m).Slice(from, count),
                ws.ZRows(l - 1, m).Slice(from, count), ws.ARows(l - 1, m).Slice(from, count));
        }
    }

    /// <summary>Share <paramref name="share"/>'s rows of BP4's <c>nabla_W^l = (Delta^l)^T A^{l-1}</c>, stored or folded
    /// into <c>W^l</c>, and the same neurons of BP3's <c>nabla_b^l</c>, always stored, and folded into <c>b^l</c> with the step's scale.</summary>
    public static void Gradient(Network network, Workspace ws, ReadOnlySpan<float> x, ReadOnlySpan<int> rows, int l, int m, Fold fold, int share, int shares)
    {
        ReadOnlySpan<int> n = network.Sizes;
        (int start, int end) = Split(n[l], share, shares);
        if (start < end)
        {
            Span<float> destination = fold.IntoWeights
                ? network.Mutable(network.Layout.WeightOffset(l), n[l] * n[l - 1])
                : ws.NablaWeights(l);
            ReadOnlySpan<int> picked = rows;
            ReadOnlySpan<float> input = InputOf(ws, x, ref picked, l, m, n[0]);
            Gemm.MultiplyStrided(ws.DeltaRows(l, m), 1, n[l], input, picked, destination, n[l], m, n[l - 1], start, end,
                fold.IntoWeights ? fold.Alpha : 1f, fold.IntoWeights ? fold.Beta : 0f);
            Span<float> nablaB = ws.NablaBiases(l)[start..end];
            Elementwise.SumRows(ws.DeltaRows(l, m), m, n[l], start, nablaB);
            if (fold.IntoWeights)
            {
                // b = b + Alpha nabla_b: the trainer's SGD rule for biases (no decay), element for element.
                Runtime.UpdateRules.Sgd(network.Mutable(network.Layout.BiasOffset(l) + start, end - start), nablaB, fold.Alpha, 1f, 0f);
            }
        }
    }

    /// <summary>
    /// What layer <paramref name="l"/>'s products read, <c>A^{l-1}</c>, and which of its rows (none: all, in order).
    /// Above the first layer, the workspace's <c>A^{l-1}</c>. For the first, the inputs' rows <paramref name="rows"/> of
    /// <paramref name="x"/>, as a block of it when they are consecutive (a gathered mini-batch's are): the tiles then step
    /// from row to row by a stride instead of reading each row's index on every step; the same values, so the same sums.
    /// </summary>
    private static ReadOnlySpan<float> InputOf(Workspace ws, ReadOnlySpan<float> x, ref ReadOnlySpan<int> rows, int l, int m, int width)
    {
        if (l > 1)
        {
            rows = default;
            return ws.ARows(l - 1, m);
        }

        if (rows.IsEmpty)
        {
            return x;
        }

        int first = rows[0];
        for (int i = 1; i < rows.Length; i++)
        {
            if (rows[i] != first + i)
            {
                return x;
            }
        }

        ReadOnlySpan<float> block = x.Slice(first * width, rows.Length * width);
        rows = default;
        return block;
    }

    /// <summary>Share <paramref name="share"/> of [0, <paramref name="total"/>), cut at multiples of <paramref name="align"/>
    /// (<see cref="ShareAlign"/> unless given).</summary>
    public static (int Start, int End) Split(int total, int share, int shares, int align = ShareAlign)
    {
        int chunks = (total + align - 1) / align;
        int start = Math.Min(total, (int)((long)chunks * share / shares) * align);
        int end = Math.Min(total, (int)((long)chunks * (share + 1) / shares) * align);
        return (start, end);
    }
}
