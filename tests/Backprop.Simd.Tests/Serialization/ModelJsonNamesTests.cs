using Backprop.Simd.Serialization;

namespace Backprop.Simd.Tests.Serialization;

/// <summary>The names a model file (and the command line) gives costs and activations, mapped both ways.</summary>
public class ModelJsonNamesTests
{
    [Theory]
    [InlineData(CostFunction.Quadratic, "QuadraticCost")]
    [InlineData(CostFunction.CrossEntropy, "CrossEntropyCost")]
    [InlineData(CostFunction.LogLikelihood, "LogLikelihoodCost")]
    public void Cost_names_map_both_ways(CostFunction cost, string name)
    {
        Assert.Equal(name, ModelJson.CostName(cost));
        Assert.True(ModelJson.TryParseCost(name, out CostFunction parsed));
        Assert.Equal(cost, parsed);
    }

    [Fact]
    public void Cost_constants_are_network2s_class_names_and_cover_every_cost()
    {
        Assert.Equal("QuadraticCost", ModelJson.QuadraticCost);
        Assert.Equal("CrossEntropyCost", ModelJson.CrossEntropyCost);
        Assert.Equal("LogLikelihoodCost", ModelJson.LogLikelihoodCost);
        Assert.Equal(
            [ModelJson.QuadraticCost, ModelJson.CrossEntropyCost, ModelJson.LogLikelihoodCost],
            Enum.GetValues<CostFunction>().Select(ModelJson.CostName).ToArray());
    }

    [Theory]
    [InlineData(ActivationKind.Sigmoid, "sigmoid")]
    [InlineData(ActivationKind.Tanh, "tanh")]
    [InlineData(ActivationKind.ReLU, "relu")]
    [InlineData(ActivationKind.LeakyReLU, "leaky-relu")]
    [InlineData(ActivationKind.Identity, "identity")]
    [InlineData(ActivationKind.Softmax, "softmax")]
    [InlineData(ActivationKind.ELU, "elu")]
    [InlineData(ActivationKind.GELU, "gelu")]
    [InlineData(ActivationKind.SiLU, "silu")]
    [InlineData(ActivationKind.LogSoftmax, "log-softmax")]
    public void Activation_names_map_both_ways(ActivationKind kind, string name)
    {
        Activation activation = Activation.Of(kind);
        Assert.Equal(name, ModelJson.ActivationName(activation));
        Assert.True(ModelJson.TryParseActivation(name, out Activation parsed));
        Assert.Equal(activation, parsed);
    }

    [Fact]
    public void ActivationNames_lists_every_activation_in_enum_order() =>
        Assert.Equal(["sigmoid", "tanh", "relu", "leaky-relu", "identity", "softmax", "elu", "gelu", "silu", "log-softmax"], ModelJson.ActivationNames);

    [Theory]
    [InlineData("leaky-relu:0.2", 0.2f, "leaky-relu:0.2")]
    [InlineData("leaky-relu:0.01", 0.01f, "leaky-relu")]
    [InlineData("leaky-relu:1e-3", 0.001f, "leaky-relu:0.001")]
    [InlineData("leaky-relu:-0.5", -0.5f, "leaky-relu:-0.5")]
    [InlineData("leaky-relu:0", 0f, "leaky-relu:0")]
    [InlineData("leaky-relu:-0", 0f, "leaky-relu:0")]
    [InlineData("leaky-relu:1", 1f, "leaky-relu:1")]
    public void A_leaky_relu_slope_is_spelled_after_a_colon(string name, float slope, string canonical)
    {
        Assert.True(ModelJson.TryParseActivation(name, out Activation parsed));
        Assert.Equal(Activation.LeakyReLUWithSlope(slope), parsed);
        Assert.Equal(ActivationKind.LeakyReLU, parsed.Kind);
        Assert.Equal(canonical, ModelJson.ActivationName(parsed));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(1.5f)]
    [InlineData(-2f)]
    public void A_leaky_relu_slope_must_be_from_minus_one_to_one(float slope) =>
        Assert.Equal("slope", Assert.Throws<ArgumentOutOfRangeException>(() => Activation.LeakyReLUWithSlope(slope)).ParamName);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("quadraticcost")]
    [InlineData("Quadratic")]
    [InlineData(" QuadraticCost")]
    public void Unknown_cost_names_do_not_parse(string? name)
    {
        Assert.False(ModelJson.TryParseCost(name, out CostFunction cost));
        Assert.Equal(default, cost);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ReLU")]
    [InlineData("LeakyReLU")]
    [InlineData("leaky_relu")]
    [InlineData("linear")]
    [InlineData("sigmoid ")]
    [InlineData("leaky-relu:")]
    [InlineData("leaky-relu: 0.2")]
    [InlineData("leaky-relu:0.2 ")]
    [InlineData("leaky-relu:2")]
    [InlineData("leaky-relu:NaN")]
    [InlineData("leaky-relu:0,2")]
    [InlineData("relu:0.2")]
    [InlineData("leaky-relu:0.2:0.3")]
    public void Unknown_activation_names_do_not_parse(string? name)
    {
        Assert.False(ModelJson.TryParseActivation(name, out Activation activation));
        Assert.Equal(default, activation);
    }

    [Fact]
    public void Undefined_enum_values_have_no_name()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelJson.CostName((CostFunction)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelJson.ActivationName(Activation.Of((ActivationKind)(-1))));
        Assert.Throws<ArgumentOutOfRangeException>(() => Activation.Of((ActivationKind)42));
    }
}
