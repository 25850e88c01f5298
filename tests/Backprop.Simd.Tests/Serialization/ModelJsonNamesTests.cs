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
    [InlineData(Activation.Sigmoid, "sigmoid")]
    [InlineData(Activation.Tanh, "tanh")]
    [InlineData(Activation.ReLU, "relu")]
    [InlineData(Activation.LeakyReLU, "leaky-relu")]
    [InlineData(Activation.Identity, "identity")]
    [InlineData(Activation.Softmax, "softmax")]
    public void Activation_names_map_both_ways(Activation activation, string name)
    {
        Assert.Equal(name, ModelJson.ActivationName(activation));
        Assert.True(ModelJson.TryParseActivation(name, out Activation parsed));
        Assert.Equal(activation, parsed);
    }

    [Fact]
    public void ActivationNames_lists_every_activation_in_enum_order() =>
        Assert.Equal(["sigmoid", "tanh", "relu", "leaky-relu", "identity", "softmax"], ModelJson.ActivationNames);

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
    public void Unknown_activation_names_do_not_parse(string? name)
    {
        Assert.False(ModelJson.TryParseActivation(name, out Activation activation));
        Assert.Equal(default, activation);
    }

    [Fact]
    public void Undefined_enum_values_have_no_name()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelJson.CostName((CostFunction)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelJson.ActivationName((Activation)(-1)));
    }
}
