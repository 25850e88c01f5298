using Backprop.Simd.Reference;

namespace Backprop.Simd.Tests;

public class NetworkOptionsTests
{
    [Theory]
    [InlineData(WeightInit.StandardNormal, 1.0, true)]
    [InlineData(WeightInit.ScaledNormal, 1.0 / 400, true)]  // 1 / n_in
    [InlineData(WeightInit.Glorot, 2.0 / 500, false)]       // 2 / (n_in + n_out)
    [InlineData(WeightInit.He, 2.0 / 400, false)]           // 2 / n_in
    public void Weight_initialisations_draw_the_documented_variances(WeightInit init, double weightVariance, bool normalBiases)
    {
        var network = new Network([400, 100], 11, new NetworkOptions { WeightInit = init });
        float[] w = network.Weights(1).ToArray();
        double variance = w.Average(v => (double)v * v);
        // 40,000 draws: the sample variance is within 3% of the true one with overwhelming probability.
        Assert.InRange(variance / weightVariance, 0.97, 1.03);
        Assert.InRange(w.Average(v => (double)v) / Math.Sqrt(weightVariance), -0.02, 0.02);
        float[] b = network.Biases(1).ToArray();
        if (normalBiases)
        {
            Assert.InRange(b.Average(v => (double)v * v), 0.7, 1.3);
        }
        else
        {
            Assert.All(b, v => Assert.Equal(0f, v));
        }

        Assert.Equal(w, new Network([400, 100], 11, new NetworkOptions { WeightInit = init }).Weights(1).ToArray());
    }

    [Fact]
    public void Options_choose_the_activations_and_the_output_follows_the_cost()
    {
        var seed = new Network([4, 3, 2], 1);
        Assert.Equal([Activation.Sigmoid, Activation.Sigmoid], seed.Activations.ToArray());
        Assert.Equal(CostFunction.Quadratic, seed.Cost);

        var softmax = new Network([4, 3, 3, 2], 1, new NetworkOptions { HiddenActivation = Activation.ReLU, Cost = CostFunction.LogLikelihood });
        Assert.Equal([Activation.ReLU, Activation.ReLU, Activation.Softmax], softmax.Activations.ToArray());

        var regression = new Network([4, 3, 2], 1, new NetworkOptions { HiddenActivation = Activation.Tanh, OutputActivation = Activation.Identity });
        Assert.Equal(Activation.Identity, regression.OutputActivation);
        Assert.Equal(regression.Activations.ToArray(), regression.Clone().Activations.ToArray());
    }

    [Theory]
    [InlineData(CostFunction.CrossEntropy, ActivationKind.ReLU, "cross-entropy cost needs a sigmoid output")]
    [InlineData(CostFunction.CrossEntropy, ActivationKind.LogSoftmax, "cross-entropy cost needs a sigmoid output")]
    [InlineData(CostFunction.LogLikelihood, ActivationKind.Sigmoid, "log-likelihood cost needs a softmax or log-softmax output")]
    [InlineData(CostFunction.Quadratic, ActivationKind.Softmax, "quadratic cost cannot train a softmax output")]
    [InlineData(CostFunction.Quadratic, ActivationKind.LogSoftmax, "quadratic cost cannot train a log-softmax output")]
    public void Costs_and_output_activations_must_fit(CostFunction cost, ActivationKind output, string mention)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new Network([4, 3], 1, new NetworkOptions { Cost = cost, OutputActivation = Activation.Of(output) }));
        Assert.Equal("cost", error.ParamName);
        Assert.Contains(mention, error.Message);
    }

    [Fact]
    public void Softmax_is_for_the_output_layer_only()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() =>
            new Network([4, 3, 2], new float[(4 * 3) + 3 + (3 * 2) + 2], [Activation.Softmax, Activation.Softmax], CostFunction.LogLikelihood));
        Assert.Equal("activations", error.ParamName);
        Assert.Contains("activations[0] is Softmax", error.Message);
        Assert.Throws<ArgumentException>(() => new Network([4, 3, 2], new float[23], [Activation.Tanh], CostFunction.Quadratic));
    }

    [Fact]
    public void FeedForward_applies_each_layers_activation_like_the_reference()
    {
        foreach ((CostFunction cost, Activation output) in Generators.Outputs)
        {
            foreach (Activation hidden in Generators.HiddenActivations)
            {
                var shape = new Architecture([9, 17, 8, 5], [hidden, hidden, output], cost, 3);
                Network network = shape.CreateNetwork();
                ReferenceNetwork reference = shape.CreateReference(network);
                var workspace = new Workspace(network);
                var random = new SeededRandom(4);
                float[] x = TestData.Uniform(9, ref random);
                double[] expected = reference.FeedForward(TestData.ToDouble(x));
                ReadOnlySpan<float> actual = network.FeedForward(x, workspace);
                for (int j = 0; j < expected.Length; j++)
                {
                    // |W| |a| sums of at most 18 terms of N(0,1) weights through three layers: well inside 1e-4 relative.
                    Assert.True(Math.Abs(expected[j] - actual[j]) <= 1e-4 * (1 + Math.Abs(expected[j])), $"{shape}: output {j} expected {expected[j]}, got {actual[j]}");
                }

                if (output == Activation.Softmax)
                {
                    Assert.Equal(1.0, actual.ToArray().Sum(v => (double)v), 1e-5);
                }
                else if (output == Activation.LogSoftmax)
                {
                    Assert.Equal(1.0, actual.ToArray().Sum(v => Math.Exp(v)), 1e-5);
                }
            }
        }
    }
}
