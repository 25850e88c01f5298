namespace Backprop.Simd;

/// <summary>
/// The preallocated arenas one thread needs to run a <see cref="Network"/> of a given shape: the weighted inputs
/// <c>z^l</c>, the activations <c>a^l</c> and the errors <c>delta^l</c> of layers 1..L (one contiguous arena each),
/// and <c>nabla</c>, the gradient, laid out exactly like <see cref="Network.Parameters"/>. Sized once at
/// construction; nothing is allocated afterwards.
/// </summary>
/// <remarks>A workspace is not thread-safe: give each thread its own. Networks of the same sizes can share one.</remarks>
public sealed class Workspace
{
    private readonly float[] _zs;
    private readonly float[] _activations;
    private readonly float[] _deltas;
    private readonly float[] _nabla;

    /// <summary>Allocates the arenas for networks shaped like <paramref name="network"/>.</summary>
    public Workspace(Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        Layout = network.Layout;
        _zs = new float[Layout.NeuronCount];
        _activations = new float[Layout.NeuronCount];
        _deltas = new float[Layout.NeuronCount];
        _nabla = new float[Layout.ParameterCount];
    }

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

    internal Span<float> ZUnchecked(int l) => new(_zs, Layout.NeuronOffset(l), Layout.Sizes[l]);

    internal Span<float> ActivationUnchecked(int l) => new(_activations, Layout.NeuronOffset(l), Layout.Sizes[l]);

    internal Span<float> DeltaUnchecked(int l) => new(_deltas, Layout.NeuronOffset(l), Layout.Sizes[l]);

    internal Span<float> NablaWeightsUnchecked(int l) => new(_nabla, Layout.WeightOffset(l), Layout.Sizes[l] * Layout.Sizes[l - 1]);

    internal Span<float> NablaBiasesUnchecked(int l) => new(_nabla, Layout.BiasOffset(l), Layout.Sizes[l]);
}
