using Backprop.Simd.Serialization;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests.Serialization;

/// <summary>The one table of names (<see cref="Names"/>) that the model file, the command line and ONNX share.</summary>
public class NamesTests
{
    private static void AssertCoversEveryValueOnce<T>(NameTable<T> table)
        where T : struct, Enum
    {
        T[] values = Enum.GetValues<T>();
        Assert.Equal(values.Length, table.All.Count);
        Assert.Equal(table.All.Count, table.All.Distinct(StringComparer.Ordinal).Count());
        foreach (T value in values)
        {
            string name = table.Of(value);
            Assert.True(table.TryParse(name, out T parsed), name);
            Assert.Equal(value, parsed);
        }

        Assert.Equal(values.Select(table.Of), table.All); // listed in the enum's order
    }

    [Fact]
    public void Every_table_names_every_value_once_in_the_enums_order()
    {
        AssertCoversEveryValueOnce(Names.Activations);
        AssertCoversEveryValueOnce(Names.Costs);
        AssertCoversEveryValueOnce(Names.JsonCosts);
        AssertCoversEveryValueOnce(Names.OnnxCosts);
        AssertCoversEveryValueOnce(Names.WeightInits);
        AssertCoversEveryValueOnce(Names.Optimizers);
    }

    [Fact]
    public void Users_see_lower_case_hyphenated_names()
    {
        Assert.Equal(["sigmoid", "tanh", "relu", "leaky-relu", "identity", "softmax", "elu", "gelu", "silu", "log-softmax"], Names.Activations.All);
        Assert.Equal(["quadratic", "cross-entropy", "log-likelihood"], Names.Costs.All);
        Assert.Equal(["normal", "scaled-normal", "glorot", "he"], Names.WeightInits.All);
        Assert.Equal(["sgd", "momentum", "adam"], Names.Optimizers.All);
        Assert.Equal(["sigmoid", "tanh", "relu", "leaky-relu", "identity", "elu", "gelu", "silu"], Names.HiddenActivations);
        Assert.Equal("relu, leaky-relu, softmax", Names.Of([Activation.ReLU, Activation.LeakyReLU, Activation.Softmax]));
    }

    [Fact]
    public void The_file_formats_keep_their_own_cost_spellings()
    {
        // Model files: network2.py's class names. ONNX metadata: what version 0.1.0 wrote.
        Assert.Equal(["QuadraticCost", "CrossEntropyCost", "LogLikelihoodCost"], Names.JsonCosts.All);
        Assert.Equal(["Quadratic", "CrossEntropy", "LogLikelihood"], Names.OnnxCosts.All);
        Assert.Equal("\"QuadraticCost\", \"CrossEntropyCost\" or \"LogLikelihoodCost\"", Names.JsonCosts.Quoted("or"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("LogLikelihood")]
    [InlineData("Log-likelihood")]
    [InlineData("log_likelihood")]
    [InlineData(" quadratic")]
    public void Parsing_is_exact(string? name)
    {
        Assert.False(Names.TryParseCost(name, out CostFunction cost));
        Assert.Equal(default, cost);
        Assert.False(Names.TryParseOptimizer(name, out Optimizer optimizer));
        Assert.Equal(default, optimizer);
    }

    [Fact]
    public void Undefined_values_have_no_name()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Names.Of((WeightInit)99));
        Assert.Throws<ArgumentOutOfRangeException>(() => Names.Of((Optimizer)(-1)));
    }

    [Theory]
    [InlineData(new string[0], "")]
    [InlineData(new[] { "a" }, "a")]
    [InlineData(new[] { "a", "b" }, "a or b")]
    [InlineData(new[] { "a", "b", "c" }, "a, b or c")]
    public void List_joins_names_for_help_texts(string[] names, string expected) => Assert.Equal(expected, Names.List(names));
}
