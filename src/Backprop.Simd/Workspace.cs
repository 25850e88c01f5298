using Backprop.Simd.Kernels;

namespace Backprop.Simd;

/// <summary>
/// The preallocated arenas one thread needs to run a <see cref="Network"/> of a given shape: the weighted inputs
/// <c>z^l</c>, the activations <c>a^l</c> and the errors <c>delta^l</c> of layers 1..L (one contiguous arena each),
/// and <c>nabla</c>, the gradient, laid out exactly like <see cref="Network.Parameters"/>. Sized once at
/// construction; nothing is allocated afterwards.
/// </summary>
/// <remarks>A workspace is not thread-safe: give each thread its own. Networks of the same sizes can share one. Every
/// public method that computes in a workspace claims it for the duration of the call, so a workspace used by two
/// threads at once makes the second call throw an <see cref="InvalidOperationException"/> instead of computing
/// garbage (one interlocked operation per call). The claim ends when the call returns: a span a call returns (such as
/// <see cref="Network.FeedForward"/>'s output) points into the workspace and is valid only until the next call on
/// that workspace from any thread.</remarks>
public sealed class Workspace
{
    private readonly float[] _zs;
    private readonly float[] _activations;
    private readonly float[] _deltas;
    private readonly float[] _nabla;

    private readonly int[] _batchIndices;       // the mini-batch's sample indices, where every worker can read them
    private readonly int[] _nextIndices;        // the next mini-batch's, for prefetching its inputs
    private readonly ZeroSkipping[] _zeroSkipping; // per layer: when the batched inference kernel scans for zero inputs
    private readonly float[] _batchTargets;     // capacity x n_L
    private readonly float[] _batchZs;          // per layer l, a capacity x n_l block
    private readonly float[] _batchActivations;
    private readonly float[] _batchDeltas;
    private int _inUse; // 1 while a call computes in this workspace (see Use)

    /// <summary>Allocates the arenas for networks shaped like <paramref name="network"/>.</summary>
    /// <param name="network">A network of the shape to serve.</param>
    /// <param name="batchCapacity">Samples the batched arenas hold (one row per sample) for the batched path
    /// (<see cref="Training.BatchedBackpropagation"/>): at least the mini-batch size; 0 (the default) for the
    /// per-sample path only. Batched evaluation runs in blocks of this many samples.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchCapacity"/> is negative, or the arenas
    /// would exceed one array or the memory available to the process (the message says how much they need).</exception>
    public Workspace(Network network, int batchCapacity = 0)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfNegative(batchCapacity);
        Layout = network.Layout;
        long batchFloats = (long)batchCapacity * Layout.NeuronCount;
        if (batchFloats > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(batchCapacity), batchCapacity,
                $"batchCapacity is {batchCapacity}: {batchCapacity} samples x {Layout.NeuronCount} neurons is {batchFloats:N0} floats per arena, more than one array can hold ({Array.MaxLength:N0}).");
        }

        MemoryBudget.Check(RequiredBytes(Layout, batchCapacity), nameof(batchCapacity), $"a workspace for {Layout.Describe()} with batch capacity {batchCapacity}");
        _zs = new float[Layout.NeuronCount];
        _activations = new float[Layout.NeuronCount];
        _deltas = new float[Layout.NeuronCount];
        _nabla = new float[Layout.ParameterCount];
        BatchCapacity = batchCapacity;
        _batchIndices = new int[batchCapacity];
        _nextIndices = new int[batchCapacity];
        _zeroSkipping = new ZeroSkipping[network.Sizes.Length];
        _batchTargets = new float[batchCapacity * Layout.Sizes[^1]];
        _batchZs = new float[batchFloats];
        _batchActivations = new float[_batchZs.Length];
        _batchDeltas = new float[_batchZs.Length];
    }

    /// <summary>Bytes a workspace of <paramref name="batchCapacity"/> for <paramref name="layout"/> allocates (its arenas).</summary>
    internal static Int128 RequiredBytes(Layout layout, int batchCapacity) =>
        (((Int128)3 * layout.NeuronCount) + layout.ParameterCount) * sizeof(float)
        + ((Int128)batchCapacity * ((2 * sizeof(int)) + (sizeof(float) * (layout.Sizes[^1] + (3L * layout.NeuronCount)))));

    /// <summary>How many samples the batched arenas hold (0: per-sample path only).</summary>
    public int BatchCapacity { get; }

    internal Layout Layout { get; }

    /// <summary>Neurons per layer of the networks this workspace serves, input first.</summary>
    public ReadOnlySpan<int> Sizes => Layout.Sizes;

    /// <summary>The gradient arena, same layout as <see cref="Network.Parameters"/>; <see cref="Training.Backpropagation.Backprop"/> adds into it.</summary>
    public Span<float> Nabla => _nabla;

    /// <summary>The weighted input <c>z^l</c> from the last forward pass. <paramref name="layer"/> is 1..L.</summary>
    public Span<float> Z(int layer)
    {
        Layout.CheckLayer(layer);
        return ZUnchecked(layer);
    }

    /// <summary>The activation <c>a^l</c> from the last forward pass. <paramref name="layer"/> is 1..L (<c>a^0</c> is the input itself).</summary>
    public Span<float> Activation(int layer)
    {
        Layout.CheckLayer(layer);
        return ActivationUnchecked(layer);
    }

    /// <summary>The error <c>delta^l = dC/dz^l</c> from the last backward pass. <paramref name="layer"/> is 1..L.</summary>
    public Span<float> Delta(int layer)
    {
        Layout.CheckLayer(layer);
        return DeltaUnchecked(layer);
    }

    /// <summary>The weight part of the gradient, <c>nabla_W^l</c>, row-major like <see cref="Network.Weights"/>.</summary>
    public Span<float> NablaWeights(int layer)
    {
        Layout.CheckLayer(layer);
        return NablaWeightsUnchecked(layer);
    }

    /// <summary>The bias part of the gradient, <c>nabla_b^l</c>.</summary>
    public Span<float> NablaBiases(int layer)
    {
        Layout.CheckLayer(layer);
        return NablaBiasesUnchecked(layer);
    }

    /// <summary>
    /// Claims the workspace for one call; dispose the result to release it. Throws when another call holds it: two
    /// threads sharing a workspace would overwrite each other's arenas.
    /// </summary>
    internal Lease Use()
    {
        if (Interlocked.CompareExchange(ref _inUse, 1, 0) != 0)
        {
            ThrowInUse();
        }

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

    internal Span<int> BatchIndices(int m) => new(_batchIndices, 0, m);

    internal Span<int> NextIndices(int m) => new(_nextIndices, 0, m);

    internal ref ZeroSkipping ZeroSkipping(int l) => ref _zeroSkipping[l];

    internal Span<float> BatchTargets(int m) => new(_batchTargets, 0, m * Layout.Sizes[^1]);

    /// <summary>The <c>m x n_l</c> block of layer <c>l</c>'s weighted inputs, one row per sample.</summary>
    internal Span<float> BatchZ(int l, int m) => new(_batchZs, BatchCapacity * Layout.NeuronOffset(l), m * Layout.Sizes[l]);

    internal Span<float> BatchActivation(int l, int m) => new(_batchActivations, BatchCapacity * Layout.NeuronOffset(l), m * Layout.Sizes[l]);

    internal Span<float> BatchDelta(int l, int m) => new(_batchDeltas, BatchCapacity * Layout.NeuronOffset(l), m * Layout.Sizes[l]);

    internal Span<float> ZUnchecked(int l) => new(_zs, Layout.NeuronOffset(l), Layout.Sizes[l]);

    internal Span<float> ActivationUnchecked(int l) => new(_activations, Layout.NeuronOffset(l), Layout.Sizes[l]);

    internal Span<float> DeltaUnchecked(int l) => new(_deltas, Layout.NeuronOffset(l), Layout.Sizes[l]);

    internal Span<float> NablaWeightsUnchecked(int l) => new(_nabla, Layout.WeightOffset(l), Layout.Sizes[l] * Layout.Sizes[l - 1]);

    internal Span<float> NablaBiasesUnchecked(int l) => new(_nabla, Layout.BiasOffset(l), Layout.Sizes[l]);
}
