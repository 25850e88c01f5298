namespace Backprop.Simd;

/// <summary>
/// The preallocated arenas one thread needs to run a <see cref="Network"/> of a given shape on up to
/// <see cref="Capacity"/> samples at once, one row per sample: the weighted inputs <c>Z^l</c>, the activations
/// <c>A^l</c> and the errors <c>Delta^l</c> of layers 1..L (one contiguous arena each, carved into a
/// <c>Capacity x n_l</c> block per layer), and <c>nabla</c>, the gradient, laid out exactly like
/// <see cref="Network.Parameters"/>. Sized once at construction; nothing is allocated afterwards.
/// </summary>
/// <remarks>A workspace is not thread-safe: give each thread its own. Networks of the same sizes can share one. Every
/// public method that computes in a workspace claims it for the duration of the call, so a workspace used by two
/// threads at once makes the second call throw an <see cref="InvalidOperationException"/> instead of computing
/// garbage (one interlocked operation per call). A span a call returns (such as <see cref="Network.FeedForward"/>'s
/// output) points into the workspace and is valid only until the next call on that workspace from any thread.</remarks>
public sealed class Workspace
{
    private readonly float[] _zs;
    private readonly float[] _activations;
    private readonly float[] _deltas;
    private readonly float[] _nabla;
    private readonly int[] _blocks; // where layer l's block starts in each of the three arenas, a cache line from its start
    private readonly int[] _strides; // floats from one row of layer l to the next: n_l, or n_l padded to whole cache lines
    private readonly int _zsStart, _activationsStart, _deltasStart; // the arenas' first floats on a cache-line boundary
    private int _rows; // samples of the last computation: the rows the views show
    private int _inUse; // 1 while a call computes in this workspace (see Use)
    private int _claims; // calls so far (see Use): the trainer tells from it whether anyone else computed here in between

    /// <summary>Allocates the arenas for networks shaped like <paramref name="network"/>.</summary>
    /// <param name="network">A network of the shape to serve.</param>
    /// <param name="capacity">The most samples one call computes at once: 1 (the default) for one sample at a
    /// time, the mini-batch size for <see cref="Backpropagation.Backprop(Network, Workspace, ReadOnlySpan{float}, ReadOnlySpan{float})"/> on a whole mini-batch.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is below 1, or the arenas would exceed
    /// one array or the memory available to the process (the message says how much they need).</exception>
    public Workspace(Network network, int capacity = 1)
        : this(network, capacity, padRows: false)
    {
    }

    /// <summary>
    /// A workspace whose hidden layers' rows, with <paramref name="padRows"/>, start on cache lines (see
    /// <see cref="PaddedStride"/>), so that workers splitting a layer's neurons at multiples of <see cref="LineFloats"/>
    /// never write the same line. The kernels read and write only the first <c>n_l</c> floats of a row: the same bits
    /// as unpadded rows. Only the trainer's own passes use such a workspace; its <see cref="Z"/>, <see cref="A"/> and
    /// <see cref="Delta"/> views hold the padding between rows.
    /// </summary>
    internal Workspace(Network network, int capacity, bool padRows)
    {
        ArgumentNullException.ThrowIfNull(network);
        Guard.Positive(capacity);
        Layout = network.Layout;
        long floats = (long)capacity * (Layout.NeuronCount + (padRows ? (LineFloats - 1L) * Layout.Sizes.Length : 0));
        if (floats + ((long)LineFloats * Layout.Sizes.Length) > Array.MaxLength) // each layer's block and the arena rounded up to cache lines
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity,
                $"capacity is {capacity}: {capacity} samples x {Layout.NeuronCount} neurons is {floats:N0} floats per arena, more than one array can hold ({Array.MaxLength:N0}).");
        }

        MemoryBudget.Check(RequiredBytes(Layout, capacity, padRows), nameof(capacity), $"a workspace for {Layout.Describe()} with capacity {capacity}");
        Capacity = capacity;
        _strides = new int[Layout.Sizes.Length];
        for (int l = 1; l < _strides.Length; l++)
        {
            _strides[l] = padRows ? PaddedStride(network, l) : Layout.Sizes[l];
        }

        _blocks = new int[Layout.Sizes.Length];
        int arena = Blocks(capacity, _strides, _blocks);
        (_zs, _zsStart) = AllocateAligned(arena);
        (_activations, _activationsStart) = AllocateAligned(arena);
        (_deltas, _deltasStart) = AllocateAligned(arena);
        _nabla = new float[Layout.ParameterCount];
    }

    /// <summary>Floats in a cache line: layer blocks start on one, so that workers splitting a block's rows or
    /// columns at a multiple of it never write the same line.</summary>
    internal const int LineFloats = 16;

    /// <summary>Bytes a workspace of <paramref name="capacity"/> samples for <paramref name="layout"/> allocates (at
    /// most: padded rows take up to a cache line more per row).</summary>
    internal static Int128 RequiredBytes(Layout layout, int capacity, bool padRows = false) =>
        (((Int128)3 * ((capacity * ((Int128)layout.NeuronCount + (padRows ? (LineFloats - 1) * (Int128)layout.Sizes.Length : 0))) + (LineFloats * (Int128)layout.Sizes.Length)))
            + layout.ParameterCount) * sizeof(float);

    /// <summary>
    /// Layer l's row stride in a padded workspace: <c>n_l</c> rounded up to whole cache lines for a hidden layer of at
    /// least a line (the output layer, whose rows the cost reads whole, stays unpadded, as would a softmax layer, which
    /// normalises whole rows; a row shorter than a line gains nothing).
    /// </summary>
    internal static int PaddedStride(Network network, int l)
    {
        int n = network.Sizes[l];
        bool pad = l < network.OutputLayer && n >= LineFloats && n % LineFloats != 0 && ActivationFunctions.IsElementwise(network.Activations[l - 1]);
        return pad ? (n + LineFloats - 1) / LineFloats * LineFloats : n;
    }

    /// <summary>Floats from one row of layer <paramref name="l"/> to the next in <see cref="ZRows"/>, <see cref="ARows"/> and <see cref="DeltaRows"/>.</summary>
    internal int Stride(int l) => _strides[l];

    // Layer l's block of capacity rows starts at blocks[l], each block on a cache line; returns the arena's length.
    private static int Blocks(int capacity, int[] strides, int[] blocks)
    {
        long offset = 0;
        for (int l = 1; l < strides.Length; l++)
        {
            blocks[l] = (int)offset;
            offset += (((long)capacity * strides[l]) + LineFloats - 1) / LineFloats * LineFloats;
        }

        return checked((int)offset);
    }

    // A pinned arena (it never moves) with a cache line of slack, and where its first whole cache line starts.
    private static unsafe (float[] Arena, int Start) AllocateAligned(int floats)
    {
        float[] arena = GC.AllocateArray<float>(floats + LineFloats, pinned: true);
        fixed (float* first = arena)
        {
            int misalignment = (int)((nuint)first % (LineFloats * sizeof(float))) / sizeof(float);
            return (arena, (LineFloats - misalignment) % LineFloats);
        }
    }

    /// <summary>How many computations have claimed the workspace so far (wraps around).</summary>
    internal int Claims => _claims;

    /// <summary>The most samples one call computes at once.</summary>
    public int Capacity { get; }

    internal Layout Layout { get; }

    /// <summary>Neurons per layer of the networks this workspace serves, input first.</summary>
    public ReadOnlySpan<int> Sizes => Layout.Sizes;

    /// <summary>Samples the last computation ran on: the rows of <see cref="Z"/>, <see cref="A"/> and <see cref="Delta"/>.</summary>
    public int Rows => _rows;

    /// <summary>The gradient from the last <see cref="Backpropagation.Backprop(Network, Workspace, ReadOnlySpan{float}, ReadOnlySpan{float})"/>, summed over its samples, laid out like <see cref="Network.Parameters"/>.</summary>
    public ReadOnlySpan<float> Nabla => _nabla;

    /// <summary>The weighted inputs <c>Z^l</c> of the last computation, one row of <c>n_l</c> per sample. <paramref name="layer"/> is 1..L.</summary>
    public ReadOnlySpan<float> Z(int layer)
    {
        Layout.CheckLayer(layer);
        return ZRows(layer, _rows);
    }

    /// <summary>The activations <c>A^l</c> of the last computation, one row per sample. <paramref name="layer"/> is 1..L (<c>A^0</c> is the input itself).</summary>
    public ReadOnlySpan<float> A(int layer)
    {
        Layout.CheckLayer(layer);
        return ARows(layer, _rows);
    }

    /// <summary>The errors <c>Delta^l = dC/dZ^l</c> of the last backward pass, one row per sample. <paramref name="layer"/> is 1..L.</summary>
    public ReadOnlySpan<float> Delta(int layer)
    {
        Layout.CheckLayer(layer);
        return DeltaRows(layer, _rows);
    }

    /// <summary>The weight part of the gradient, <c>nabla_W^l</c>, row-major like <see cref="Network.Weights"/>.</summary>
    public ReadOnlySpan<float> NablaW(int layer)
    {
        Layout.CheckLayer(layer);
        return NablaWeights(layer);
    }

    /// <summary>The bias part of the gradient, <c>nabla_b^l</c>.</summary>
    public ReadOnlySpan<float> NablaB(int layer)
    {
        Layout.CheckLayer(layer);
        return NablaBiases(layer);
    }

    /// <summary>
    /// Claims the workspace for one computation on <paramref name="rows"/> samples; dispose the result to release it.
    /// Throws when another call holds it: two threads sharing a workspace would overwrite each other's arenas.
    /// </summary>
    internal Lease Use(int rows)
    {
        if (Interlocked.CompareExchange(ref _inUse, 1, 0) != 0)
        {
            ThrowInUse();
        }

        _rows = rows;
        _claims++;
        return new Lease(this);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowInUse() => throw new InvalidOperationException(
        "workspace is in use by another call, most likely on another thread: a Workspace serves one thread at a time, so give each thread its own (networks can be shared).");

    /// <summary>A claim on a workspace for the duration of one call (see <see cref="Use"/>).</summary>
    internal readonly ref struct Lease(Workspace workspace)
    {
        public void Dispose() => Volatile.Write(ref workspace._inUse, 0);
    }

    // The arenas carved into named views: layer l's block of m rows, Stride(l) apart (the last one without its padding).
    internal Span<float> ZRows(int l, int m) => new(_zs, _zsStart + _blocks[l], RowsLength(l, m));

    internal Span<float> ARows(int l, int m) => new(_activations, _activationsStart + _blocks[l], RowsLength(l, m));

    internal Span<float> DeltaRows(int l, int m) => new(_deltas, _deltasStart + _blocks[l], RowsLength(l, m));

    private int RowsLength(int l, int m) => m == 0 ? 0 : ((m - 1) * _strides[l]) + Layout.Sizes[l];

    internal Span<float> NablaWeights(int l) => new(_nabla, Layout.WeightOffset(l), Layout.Sizes[l] * Layout.Sizes[l - 1]);

    internal Span<float> NablaBiases(int l) => new(_nabla, Layout.BiasOffset(l), Layout.Sizes[l]);

    internal Span<float> NablaArena => _nabla;
}
