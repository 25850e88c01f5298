using System.Runtime.CompilerServices;
using Backprop.Simd.Kernels;

namespace Backprop.Simd;

/// <summary>
/// A fully connected sigmoid network, Nielsen's <c>Network</c>. It owns only its parameters, all of them in ONE
/// contiguous <see cref="float"/> arena: for each layer <c>l = 1..L</c> its row-major <c>n_l x n_{l-1}</c> weight
/// matrix followed by its <c>n_l</c> biases. Everything that changes while computing lives in a
/// <see cref="Workspace"/>, so one network can be shared read-only by many threads, each with its own workspace.
/// </summary>
/// <remarks>
/// Layer numbering: layer 0 is the input (the math's layer 1), layer <c>L = </c><see cref="OutputLayer"/> the output.
/// <c>W^l</c> connects layer <c>l-1</c> to layer <c>l</c>: <c>z^l = W^l a^{l-1} + b^l</c>, <c>a^l = sigma(z^l)</c>.
/// </remarks>
public sealed class Network
{
    private readonly float[] _parameters;

    /// <summary>Creates a network with weights and biases drawn from N(0, 1), as network.py does, reproducibly from <paramref name="seed"/>.</summary>
    /// <param name="sizes">Neurons per layer, input first, e.g. <c>[784, 30, 10]</c>: at least 2 layers, each at least 1.</param>
    /// <param name="seed">Seed of the generator; the same seed gives bit-identical parameters.</param>
    /// <exception cref="ArgumentException"><paramref name="sizes"/> has fewer than 2 layers or a size below 1.</exception>
    public Network(ReadOnlySpan<int> sizes, ulong seed)
    {
        Layout = new Layout(sizes);
        _parameters = new float[Layout.ParameterCount];
        var random = new SeededRandom(seed);
        // network.py draws every bias vector first, then every weight matrix; so do we.
        for (int l = 1; l <= OutputLayer; l++)
        {
            FillGaussian(Biases(l), ref random);
        }

        for (int l = 1; l <= OutputLayer; l++)
        {
            FillGaussian(Weights(l), ref random);
        }
    }

    /// <summary>Creates a network from existing parameters laid out as <see cref="Parameters"/> describes (they are copied).</summary>
    /// <exception cref="ArgumentException">The sizes are invalid or <paramref name="parameters"/> has the wrong length.</exception>
    public Network(ReadOnlySpan<int> sizes, ReadOnlySpan<float> parameters)
    {
        Layout = new Layout(sizes);
        Guard.Length(parameters.Length, Layout.ParameterCount, $"parameter count of {Layout.Describe()}");
        _parameters = parameters.ToArray();
    }

    internal Layout Layout { get; }

    /// <summary>Neurons per layer, input first.</summary>
    public ReadOnlySpan<int> Sizes => Layout.Sizes;

    /// <summary>L, the index of the output layer; also the number of weight layers.</summary>
    public int OutputLayer => Layout.OutputLayer;

    /// <summary>Length of an input vector, <c>n_0</c>.</summary>
    public int InputSize => Layout.Sizes[0];

    /// <summary>Length of an output vector, <c>n_L</c>.</summary>
    public int OutputSize => Layout.Sizes[^1];

    /// <summary>Number of weights and biases, the length of <see cref="Parameters"/>.</summary>
    public int ParameterCount => Layout.ParameterCount;

    /// <summary>The whole parameter arena: per layer, its weights (row-major) then its biases.</summary>
    public Span<float> Parameters => _parameters;

    /// <summary>The <c>n_l x n_{l-1}</c> row-major weight matrix <c>W^l</c>; row <c>j</c> holds the weights into neuron <c>j</c>.</summary>
    /// <param name="layer">1..<see cref="OutputLayer"/>.</param>
    public Span<float> Weights(int layer)
    {
        Layout.CheckLayer(layer);
        return _parameters.AsSpan(Layout.WeightOffset(layer), Layout.Sizes[layer] * Layout.Sizes[layer - 1]);
    }

    /// <summary>The bias vector <c>b^l</c>.</summary>
    /// <param name="layer">1..<see cref="OutputLayer"/>.</param>
    public Span<float> Biases(int layer)
    {
        Layout.CheckLayer(layer);
        return _parameters.AsSpan(Layout.BiasOffset(layer), Layout.Sizes[layer]);
    }

    /// <summary>
    /// Nielsen's <c>feedforward</c>: <c>a = sigma(W^l a + b^l)</c> for every layer. Allocates nothing.
    /// </summary>
    /// <param name="x">Input, length <see cref="InputSize"/>.</param>
    /// <param name="workspace">This thread's workspace; the result lives in it until its next use.</param>
    /// <returns>The output activation <c>a^L</c>, a view into <paramref name="workspace"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> has the wrong length or the workspace belongs to another shape.</exception>
    public ReadOnlySpan<float> FeedForward(ReadOnlySpan<float> x, Workspace workspace)
    {
        CheckWorkspace(workspace);
        Guard.Length(x.Length, InputSize, "the network's input size");
        return FeedForwardUnchecked(x, workspace);
    }

    /// <summary>The index of the largest output for input <paramref name="x"/>: the predicted class.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> has the wrong length or the workspace belongs to another shape.</exception>
    public int Predict(ReadOnlySpan<float> x, Workspace workspace) => ArgMax(FeedForward(x, workspace));

    /// <summary>Copies the parameters of <paramref name="source"/>, a network of the same shape, into this one.</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public void CopyParametersFrom(Network source)
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckShape(source.Layout, nameof(source));
        source._parameters.AsSpan().CopyTo(_parameters);
    }

    /// <summary>A deep copy: same sizes, a new arena with the same parameters.</summary>
    public Network Clone() => new(Sizes, _parameters);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal ReadOnlySpan<float> FeedForwardUnchecked(ReadOnlySpan<float> x, Workspace workspace)
    {
        ReadOnlySpan<float> a = x;
        for (int l = 1; l <= OutputLayer; l++)
        {
            Span<float> z = workspace.ZUnchecked(l);
            Span<float> next = workspace.ActivationUnchecked(l);
            MatrixVector.MultiplyAddUnchecked(WeightsUnchecked(l), Layout.Sizes[l], Layout.Sizes[l - 1], a, BiasesUnchecked(l), z); // z^l = W^l a^{l-1} + b^l
            System.Numerics.Tensors.TensorPrimitives.Sigmoid(z, next);                                                              // a^l = sigma(z^l)
            a = next;
        }

        return a;
    }

    internal ReadOnlySpan<float> WeightsUnchecked(int l) =>
        new(_parameters, Layout.WeightOffset(l), Layout.Sizes[l] * Layout.Sizes[l - 1]);

    internal ReadOnlySpan<float> BiasesUnchecked(int l) => new(_parameters, Layout.BiasOffset(l), Layout.Sizes[l]);

    internal void CheckWorkspace(Workspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        CheckShape(workspace.Layout, nameof(workspace));
    }

    private void CheckShape(Layout other, string paramName)
    {
        if (!Layout.SameShape(other))
        {
            throw new ArgumentException($"{paramName} has sizes {other.Describe()}, expected {Layout.Describe()}.", paramName);
        }
    }

    internal static int ArgMax(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values);

    private static void FillGaussian(Span<float> values, ref SeededRandom random)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextGaussian();
        }
    }
}
