namespace Backprop.Simd;

/// <summary>The architecture choices of a new <see cref="Network"/>; the defaults are the seed's sigmoid network with the quadratic cost.</summary>
public sealed record NetworkOptions
{
    /// <summary>Activation of every hidden layer. Default <see cref="Activation.Sigmoid"/>.</summary>
    public Activation HiddenActivation { get; init; } = Activation.Sigmoid;

    /// <summary>The cost the network is trained on. Default <see cref="CostFunction.Quadratic"/>.</summary>
    public CostFunction Cost { get; init; } = CostFunction.Quadratic;

    /// <summary>
    /// Activation of the output layer; <c>null</c> (the default) follows the cost: softmax for
    /// <see cref="CostFunction.LogLikelihood"/>, sigmoid otherwise.
    /// </summary>
    public Activation? OutputActivation { get; init; }

    /// <summary>How the parameters are drawn. Default <see cref="WeightInit.StandardNormal"/>, the seed's N(0, 1).</summary>
    public WeightInit WeightInit { get; init; } = WeightInit.StandardNormal;

    /// <summary>The output activation in force: <see cref="OutputActivation"/> or the one the cost implies.</summary>
    public Activation ResolvedOutputActivation =>
        OutputActivation ?? (Cost == CostFunction.LogLikelihood ? Activation.Softmax : Activation.Sigmoid);
}
