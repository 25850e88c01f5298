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
    private readonly AlignedFloats _zs;
    private readonly AlignedFloats _activations;
    private readonly AlignedFloats _deltas;
    private readonly AlignedFloats _nabla;
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
    {
        ArgumentNullException.ThrowIfNull(network);
        Guard.Positive(capacity);
        Layout = network.Layout;
        long floats = (long)capacity * Layout.NeuronCount;
        if (floats > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity,
                $"capacity is {capacity}: {capacity} samples x {Layout.NeuronCount} neurons is {floats:N0} floats per arena, more than one array can hold ({Array.MaxLength:N0}).");
        }

        MemoryBudget.Check(RequiredBytes(Layout, capacity), nameof(capacity), $"a workspace for {Layout.Describe()} with capacity {capacity}");
        Capacity = capacity;
        _zs = new AlignedFloats((int)floats);
        _activations = new AlignedFloats((int)floats);
        _deltas = new AlignedFloats((int)floats);
        _nabla = new AlignedFloats(Layout.ParameterCount);
    }

    /// <summary>Bytes a workspace of <paramref name="capacity"/> samples for <paramref name="layout"/> allocates (its
    /// four arenas, each with up to a line's padding).</summary>
    internal static Int128 RequiredBytes(Layout layout, int capacity) =>
        (((Int128)3 * capacity * layout.NeuronCount) + layout.ParameterCount + (4 * (AlignedFloats.LineFloats - 1))) * sizeof(float);

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
    public ReadOnlySpan<float> Nabla => _nabla.Span;

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

    // The arenas carved into named views: layer l's block of m rows.
    internal Span<float> ZRows(int l, int m) => _zs.Slice(Capacity * Layout.NeuronOffset(l), m * Layout.Sizes[l]);

    internal Span<float> ARows(int l, int m) => _activations.Slice(Capacity * Layout.NeuronOffset(l), m * Layout.Sizes[l]);

    internal Span<float> DeltaRows(int l, int m) => _deltas.Slice(Capacity * Layout.NeuronOffset(l), m * Layout.Sizes[l]);

    internal Span<float> NablaWeights(int l) => _nabla.Slice(Layout.WeightOffset(l), Layout.Sizes[l] * Layout.Sizes[l - 1]);

    internal Span<float> NablaBiases(int l) => _nabla.Slice(Layout.BiasOffset(l), Layout.Sizes[l]);

    internal Span<float> NablaArena => _nabla.Span;
}
