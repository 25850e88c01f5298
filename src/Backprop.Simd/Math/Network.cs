using System.Runtime.CompilerServices;
using Backprop.Simd.Kernels;

namespace Backprop.Simd;

/// <summary>
/// A fully connected network, Nielsen's <c>Network</c>: sigmoid layers and the quadratic cost by default, with
/// per-layer <see cref="Activation"/>s and a <see cref="CostFunction"/> as network2 and its successors add. It owns
/// only its parameters, all of them in ONE contiguous <see cref="float"/> arena: for each layer <c>l = 1..L</c> its
/// row-major <c>n_l x n_{l-1}</c> weight matrix followed by its <c>n_l</c> biases. Everything that changes while
/// computing lives in a <see cref="Workspace"/>, so one network can be shared by many threads, each with its own
/// workspace; its parameters change only through the <c>Set</c> methods and training, never through the spans it
/// hands out.
/// </summary>
/// <remarks>
/// Layer numbering: layer 0 is the input (the math's layer 1), layer <c>L = </c><see cref="OutputLayer"/> the output.
/// <c>W^l</c> connects layer <c>l-1</c> to layer <c>l</c>: <c>z^l = W^l a^{l-1} + b^l</c>, <c>a^l = f_l(z^l)</c>.
/// </remarks>
public sealed class Network
{
    private readonly AlignedFloats _parameters; // on a cache line: W^1's rows are when n_0 is a multiple of 16
    private readonly Activation[] _activations; // [l - 1] is layer l's
    private long _version;

    /// <summary>Creates the seed's network: sigmoid layers, quadratic cost, weights and biases drawn from N(0, 1) as
    /// network.py does, reproducibly from <paramref name="seed"/>.</summary>
    /// <param name="sizes">Neurons per layer, input first, e.g. <c>[784, 30, 10]</c>: at least 2 layers, each at least 1.</param>
    /// <param name="seed">Seed of the generator; the same seed gives bit-identical parameters.</param>
    /// <exception cref="ArgumentException"><paramref name="sizes"/> has fewer than 2 layers or a size below 1.</exception>
    public Network(ReadOnlySpan<int> sizes, ulong seed)
        : this(sizes, seed, new NetworkOptions())
    {
    }

    /// <summary>Creates a network with the given architecture, its parameters drawn reproducibly from <paramref name="seed"/>.</summary>
    /// <param name="sizes">Neurons per layer, input first: at least 2 layers, each at least 1.</param>
    /// <param name="seed">Seed of the generator; the same seed gives bit-identical parameters.</param>
    /// <param name="options">Activations, cost and weight initialisation.</param>
    /// <exception cref="ArgumentException">The sizes are invalid, or the activations do not fit the cost (softmax only on the output layer and with the log-likelihood cost, the cross-entropy cost only on a sigmoid output).</exception>
    /// <exception cref="ArgumentOutOfRangeException">The sizes describe more parameters than one array holds, or
    /// than the memory available to the process (the message says how much they need).</exception>
    public Network(ReadOnlySpan<int> sizes, ulong seed, NetworkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Layout = new Layout(sizes);
        _activations = new Activation[OutputLayer];
        _activations.AsSpan().Fill(options.HiddenActivation);
        _activations[^1] = options.ResolvedOutputActivation;
        CheckArchitecture(_activations, options.Cost);
        Cost = options.Cost;
        MemoryBudget.Check((long)Layout.ParameterCount * sizeof(float), nameof(sizes), $"the {Layout.ParameterCount:N0} parameters of {Layout.Describe()}", plural: true);
        _parameters = new AlignedFloats(Layout.ParameterCount);
        var random = new SeededRandom(seed);
        // network.py draws every bias vector first, then every weight matrix; so do we.
        for (int l = 1; l <= OutputLayer; l++)
        {
            FillGaussian(Mutable(Layout.BiasOffset(l), Layout.Sizes[l]), options.WeightInit is WeightInit.StandardNormal or WeightInit.ScaledNormal ? 1.0 : 0.0, ref random);
        }

        for (int l = 1; l <= OutputLayer; l++)
        {
            int fanIn = Layout.Sizes[l - 1], fanOut = Layout.Sizes[l];
            double deviation = options.WeightInit switch
            {
                WeightInit.StandardNormal => 1.0,
                WeightInit.ScaledNormal => Math.Sqrt(1.0 / fanIn),
                WeightInit.Glorot => Math.Sqrt(2.0 / (fanIn + fanOut)),
                WeightInit.He => Math.Sqrt(2.0 / fanIn),
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.WeightInit, "unknown weight initialisation"),
            };
            FillGaussian(Mutable(Layout.WeightOffset(l), fanIn * fanOut), deviation, ref random);
        }
    }

    /// <summary>Creates the seed's sigmoid, quadratic-cost network from existing parameters laid out as <see cref="Parameters"/> describes (they are copied).</summary>
    /// <exception cref="ArgumentException">The sizes are invalid or <paramref name="parameters"/> has the wrong length.</exception>
    public Network(ReadOnlySpan<int> sizes, ReadOnlySpan<float> parameters)
        : this(sizes, parameters, default, CostFunction.Quadratic)
    {
    }

    /// <summary>Creates a network from existing parameters (copied), with one activation per layer 1..L.</summary>
    /// <param name="sizes">Neurons per layer, input first.</param>
    /// <param name="parameters">The arena, laid out as <see cref="Parameters"/> describes.</param>
    /// <param name="activations">Activation of layers 1..L (so <c>sizes.Length - 1</c> of them); empty means all sigmoid.</param>
    /// <param name="cost">The cost the network is trained on.</param>
    /// <exception cref="ArgumentException">A length is wrong or the activations do not fit the cost.</exception>
    public Network(ReadOnlySpan<int> sizes, ReadOnlySpan<float> parameters, ReadOnlySpan<Activation> activations, CostFunction cost)
    {
        Layout = new Layout(sizes);
        Guard.Length(parameters.Length, Layout.ParameterCount, $"parameter count of {Layout.Describe()}");
        if (activations.IsEmpty)
        {
            _activations = new Activation[OutputLayer];
        }
        else
        {
            Guard.Length(activations.Length, OutputLayer, "one per layer after the input");
            _activations = activations.ToArray();
        }

        CheckArchitecture(_activations, cost);
        Cost = cost;
        _parameters = new AlignedFloats(parameters.Length);
        parameters.CopyTo(_parameters.Span);
    }

    internal Layout Layout { get; }

    /// <summary>Neurons per layer, input first.</summary>
    public ReadOnlySpan<int> Sizes => Layout.Sizes;

    /// <summary>L, the index of the output layer; also the number of weight layers.</summary>
    public int OutputLayer => Layout.OutputLayer;

    /// <summary>The cost the network is trained on; it decides the output error (BP1).</summary>
    public CostFunction Cost { get; }

    /// <summary>The activation of the output layer.</summary>
    public Activation OutputActivation => _activations[^1];

    /// <summary>Length of an input vector, <c>n_0</c>.</summary>
    public int InputSize => Layout.Sizes[0];

    /// <summary>Length of an output vector, <c>n_L</c>.</summary>
    public int OutputSize => Layout.Sizes[^1];

    /// <summary>Number of weights and biases, the length of <see cref="Parameters"/>.</summary>
    public int ParameterCount => Layout.ParameterCount;

    /// <summary>The whole parameter arena: per layer, its weights (row-major) then its biases. Change it with <see cref="SetParameters"/>.</summary>
    public ReadOnlySpan<float> Parameters => _parameters.Span;

    /// <summary>The activation <c>f_l</c> of layer <paramref name="layer"/>, 1..<see cref="OutputLayer"/>.</summary>
    public Activation ActivationOf(int layer)
    {
        Layout.CheckLayer(layer);
        return _activations[layer - 1];
    }

    /// <summary>The <c>n_l x n_{l-1}</c> row-major weight matrix <c>W^l</c>; row <c>j</c> holds the weights into neuron <c>j</c>.</summary>
    /// <param name="layer">1..<see cref="OutputLayer"/>.</param>
    public ReadOnlySpan<float> Weights(int layer)
    {
        Layout.CheckLayer(layer);
        return WeightsOf(layer);
    }

    /// <summary>The bias vector <c>b^l</c>.</summary>
    /// <param name="layer">1..<see cref="OutputLayer"/>.</param>
    public ReadOnlySpan<float> Biases(int layer)
    {
        Layout.CheckLayer(layer);
        return BiasesOf(layer);
    }

    /// <summary>Replaces every parameter, laid out as <see cref="Parameters"/> describes.</summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> has the wrong length.</exception>
    public void SetParameters(ReadOnlySpan<float> values)
    {
        Guard.Length(values.Length, ParameterCount, $"parameter count of {Layout.Describe()}");
        values.CopyTo(_parameters.Span);
        ParametersChanged();
    }

    /// <summary>Replaces the weight matrix <c>W^l</c> (row-major, <c>n_l x n_{l-1}</c>).</summary>
    /// <exception cref="ArgumentException">The layer is out of range or <paramref name="values"/> has the wrong length.</exception>
    public void SetWeights(int layer, ReadOnlySpan<float> values)
    {
        Layout.CheckLayer(layer);
        Guard.Length(values.Length, Layout.Sizes[layer] * Layout.Sizes[layer - 1], $"n_{layer} x n_{layer - 1}");
        values.CopyTo(Mutable(Layout.WeightOffset(layer), values.Length));
        ParametersChanged();
    }

    /// <summary>Replaces the bias vector <c>b^l</c>.</summary>
    /// <exception cref="ArgumentException">The layer is out of range or <paramref name="values"/> has the wrong length.</exception>
    public void SetBiases(int layer, ReadOnlySpan<float> values)
    {
        Layout.CheckLayer(layer);
        Guard.Length(values.Length, Layout.Sizes[layer], $"n_{layer}");
        values.CopyTo(Mutable(Layout.BiasOffset(layer), values.Length));
        ParametersChanged();
    }

    /// <summary>Copies the parameters of <paramref name="source"/>, a network of the same shape, into this one.</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public void CopyParametersFrom(Network source)
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckShape(source.Layout, nameof(source));
        source._parameters.Span.CopyTo(_parameters.Span);
        ParametersChanged();
    }

    /// <summary>A deep copy: same architecture, a new arena with the same parameters.</summary>
    public Network Clone() => new(Sizes, _parameters.Span, _activations, Cost);

    /// <summary>
    /// Nielsen's <c>feedforward</c>: <c>a = f(W^l a + b^l)</c> for every layer. Allocates nothing.
    /// </summary>
    /// <param name="x">Input, length <see cref="InputSize"/>.</param>
    /// <param name="workspace">This thread's workspace; the result lives in it until its next use.</param>
    /// <returns>The output activation <c>a^L</c>, a view into <paramref name="workspace"/>, valid only until the next
    /// call on that workspace from any thread: copy it before the workspace is used again.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> has the wrong length or the workspace belongs to another shape.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public ReadOnlySpan<float> FeedForward(ReadOnlySpan<float> x, Workspace workspace)
    {
        CheckWorkspace(workspace);
        Guard.Length(x.Length, InputSize, "the network's input size");
        using (workspace.Use(1))
        {
            return FeedForwardOne(x, workspace);
        }
    }

    /// <summary>The index of the largest output for input <paramref name="x"/>: the predicted class.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> has the wrong length or the workspace belongs to another shape.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public int Predict(ReadOnlySpan<float> x, Workspace workspace)
    {
        CheckWorkspace(workspace);
        Guard.Length(x.Length, InputSize, "the network's input size");
        using (workspace.Use(1))
        {
            return ArgMax(FeedForwardOne(x, workspace)); // read while the claim holds: another call may overwrite the output
        }
    }

    /// <summary>
    /// Throws unless the activations and the cost go together: softmax and log-softmax only on the output layer and only
    /// with the log-likelihood cost (which needs one of them); the cross-entropy cost needs a sigmoid output, whose values lie in (0, 1).
    /// </summary>
    internal static void CheckArchitecture(ReadOnlySpan<Activation> activations, CostFunction cost)
    {
        for (int l = 0; l < activations.Length; l++)
        {
            if (!activations[l].IsValid)
            {
                throw new ArgumentOutOfRangeException(nameof(activations), activations[l], $"activations[{l}] is not a known activation.");
            }

            if (activations[l].IsOutputOnly && l != activations.Length - 1)
            {
                throw new ArgumentException($"activations[{l}] is {activations[l]}, but it is only supported on the output layer (activations[{activations.Length - 1}]).", nameof(activations));
            }
        }

        Activation output = activations[^1];
        string? problem = cost switch
        {
            CostFunction.Quadratic when output.IsOutputOnly => $"the quadratic cost cannot train a {(output.Kind == ActivationKind.Softmax ? "softmax" : "log-softmax")} output; use the log-likelihood cost",
            CostFunction.CrossEntropy when output != Activation.Sigmoid => $"the cross-entropy cost needs a sigmoid output layer, not {output}",
            CostFunction.LogLikelihood when !output.IsOutputOnly => $"the log-likelihood cost needs a softmax or log-softmax output layer, not {output}",
            CostFunction.Quadratic or CostFunction.CrossEntropy or CostFunction.LogLikelihood => null,
            _ => $"{cost} is not a known cost",
        };
        if (problem is not null)
        {
            throw new ArgumentException($"{problem}.", nameof(cost));
        }
    }

    /// <summary>Counts every change of the parameters, so that a copy derived from them (transposed weights) knows when it is stale.</summary>
    internal long Version => Volatile.Read(ref _version);

    /// <summary>The activations of layers 1..L; element <c>l - 1</c> is layer <c>l</c>'s.</summary>
    internal ReadOnlySpan<Activation> Activations => _activations;

    /// <summary>The arena for training to write; call <see cref="ParametersChanged"/> after writing.</summary>
    internal Span<float> MutableParameters => _parameters.Span;

    internal void ParametersChanged() => Interlocked.Increment(ref _version);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal ReadOnlySpan<float> FeedForwardOne(ReadOnlySpan<float> x, Workspace workspace)
    {
        ReadOnlySpan<float> a = x;
        for (int l = 1; l <= OutputLayer; l++)
        {
            Span<float> z = workspace.ZRows(l, 1), next = workspace.ARows(l, 1);
            MatrixVector.MultiplyAdd(WeightsOf(l), Layout.Sizes[l], Layout.Sizes[l - 1], a, BiasesOf(l), z); // z^l = W^l a^{l-1} + b^l
            ActivationFunctions.Apply(_activations[l - 1], z, next, z.Length);                                // a^l = f(z^l)
            a = next;
        }

        return a;
    }

    internal ReadOnlySpan<float> WeightsOf(int l) => _parameters.Slice(Layout.WeightOffset(l), Layout.Sizes[l] * Layout.Sizes[l - 1]);

    internal ReadOnlySpan<float> BiasesOf(int l) => _parameters.Slice(Layout.BiasOffset(l), Layout.Sizes[l]);

    internal Span<float> Mutable(int offset, int length) => _parameters.Slice(offset, length);

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

    private static void FillGaussian(Span<float> values, double deviation, ref SeededRandom random)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(deviation * random.NextGaussian());
        }
    }
}
