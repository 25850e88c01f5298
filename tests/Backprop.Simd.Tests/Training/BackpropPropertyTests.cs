using Backprop.Simd.Reference;
using Backprop.Simd.Runtime;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Training;

/// <summary>The whole backpropagation against the naive reference on random depths and sizes, and the reference
/// against finite differences.</summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class BackpropPropertyTests
{
    [Property]
    public void Backprop_matches_reference(Architecture shape)
    {
        Network network = shape.CreateNetwork();
        var workspace = new Workspace(network);
        var random = new SeededRandom(shape.Seed ^ 0x5eed);
        float[] x = TestData.Uniform(network.InputSize, ref random, 0, 1);
        float[] y = shape.Target(ref random);
        ReferenceNetwork reference = shape.CreateReference(network);

        workspace.NablaArena.Fill(float.NaN); // Backprop overwrites the arena
        Backpropagation.Backprop(network, workspace, x, y);
        (double[][] nablaB, double[][][] nablaW) = reference.Backprop(TestData.ToDouble(x), TestData.ToDouble(y));

        // Twice the first-order bound: second-order terms and sigmoid's few ulps are covered by the factor 2.
        (double[][] boundB, double[][][] boundW) = GradientErrorBound.Compute(reference, TestData.ToDouble(x), TestData.ToDouble(y));
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            Span<float> gw = workspace.NablaWeights(l);
            Span<float> gb = workspace.NablaBiases(l);
            int cols = shape.Sizes[l - 1];
            for (int j = 0; j < shape.Sizes[l]; j++)
            {
                AssertClose(nablaB[l - 1][j], gb[j], (2 * boundB[l - 1][j]) + Tolerance.Subnormal, $"nabla_b^{l}[{j}] of {shape}");
                for (int k = 0; k < cols; k++)
                {
                    AssertClose(nablaW[l - 1][j][k], gw[(j * cols) + k], (2 * boundW[l - 1][j][k]) + Tolerance.Subnormal, $"nabla_W^{l}[{j},{k}] of {shape}");
                }
            }
        }
    }

    [Property(MaxTest = 60)]
    public void Batched_backprop_matches_the_reference_sum(Architecture shape, byte samples)
    {
        int m = 1 + (samples % 13);
        Network network = shape.CreateNetwork();
        var workspace = new Workspace(network, capacity: m + 2);
        var random = new SeededRandom(shape.Seed ^ 0xba7c);
        var inputs = new float[m * network.InputSize];
        var targets = new float[m * network.OutputSize];
        for (int i = 0; i < m; i++)
        {
            TestData.Uniform(network.InputSize, ref random, 0, 1).CopyTo(inputs, i * network.InputSize);
            shape.Target(ref random).CopyTo(targets, i * network.OutputSize);
        }

        var data = new Backprop.Simd.Data.Dataset(inputs, network.InputSize, targets, network.OutputSize);
        int[] batch = Enumerable.Range(0, m).Reverse().ToArray(); // any order of indices
        workspace.NablaArena.Fill(float.NaN); // Backprop overwrites the arena
        (float[] x, float[] y) = TestTraining.Gather(data, batch);
        Backpropagation.Backprop(network, workspace, x, y);

        ReferenceNetwork reference = shape.CreateReference(network);
        var samplesList = batch.Select(i => (TestData.ToDouble(data.Input(i)), TestData.ToDouble(data.Target(i)))).ToList();
        (double[][] sumB, double[][][] sumW) = reference.MiniBatchGradient(samplesList);
        // The sum of the per-sample bounds, plus the rounding of summing m terms.
        var boundB = sumB.Select(b => new double[b.Length]).ToArray();
        var boundW = sumW.Select(w => w.Select(row => new double[row.Length]).ToArray()).ToArray();
        var magnitudeB = sumB.Select(b => new double[b.Length]).ToArray();
        var magnitudeW = sumW.Select(w => w.Select(row => new double[row.Length]).ToArray()).ToArray();
        foreach ((double[] xs, double[] ys) in samplesList)
        {
            (double[][] bb, double[][][] bw) = GradientErrorBound.Compute(reference, xs, ys);
            (double[][] gb, double[][][] gw) = reference.Backprop(xs, ys);
            for (int l = 0; l < bb.Length; l++)
            {
                for (int j = 0; j < bb[l].Length; j++)
                {
                    boundB[l][j] += bb[l][j];
                    magnitudeB[l][j] += Math.Abs(gb[l][j]);
                    for (int k = 0; k < bw[l][j].Length; k++)
                    {
                        boundW[l][j][k] += bw[l][j][k];
                        magnitudeW[l][j][k] += Math.Abs(gw[l][j][k]);
                    }
                }
            }
        }

        for (int l = 1; l <= network.OutputLayer; l++)
        {
            Span<float> gw = workspace.NablaWeights(l);
            Span<float> gb = workspace.NablaBiases(l);
            int cols = shape.Sizes[l - 1];
            for (int j = 0; j < shape.Sizes[l]; j++)
            {
                double tb = (2 * (boundB[l - 1][j] + (Tolerance.Gamma(m) * magnitudeB[l - 1][j]))) + Tolerance.Subnormal;
                AssertClose(sumB[l - 1][j], gb[j], tb, $"batched nabla_b^{l}[{j}] of {shape}, m = {m}");
                for (int k = 0; k < cols; k++)
                {
                    double tw = (2 * (boundW[l - 1][j][k] + (Tolerance.Gamma(m) * magnitudeW[l - 1][j][k]))) + Tolerance.Subnormal;
                    AssertClose(sumW[l - 1][j][k], gw[(j * cols) + k], tw, $"batched nabla_W^{l}[{j},{k}] of {shape}, m = {m}");
                }
            }
        }
    }

    [Property(MaxTest = 25)]
    public void Reference_gradient_matches_central_differences(Architecture shape) =>
        _ = CheckCentralDifferences(shape with { Sizes = shape.Sizes.Select(n => Math.Min(n, 12)).ToArray() }); // keep the O(P^2) check small

    /// <summary>Every cost with every output activation it allows, after every hidden activation: the equations and the fast code both.</summary>
    public static TheoryData<Activation, CostFunction, Activation> Combinations()
    {
        var data = new TheoryData<Activation, CostFunction, Activation>();
        foreach (Activation hidden in Generators.HiddenActivations)
        {
            foreach ((CostFunction cost, Activation output) in Generators.Outputs)
            {
                data.Add(hidden, cost, output);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Every_cost_and_activation_passes_the_gradient_check(Activation hidden, CostFunction cost, Activation output)
    {
        int checkedSamples = 0;
        for (ulong seed = 1; seed <= 100 && checkedSamples < 3; seed++)
        {
            var shape = new Architecture([7, 6, 5, 4], [hidden, hidden, output], cost, seed);
            Backprop_matches_reference(shape);
            checkedSamples += CheckCentralDifferences(shape) ? 1 : 0;
        }

        Assert.Equal(3, checkedSamples);
    }

    /// <summary>Checks the reference's gradient against central differences; false when the sample had to be left out.</summary>
    private static bool CheckCentralDifferences(Architecture shape)
    {
        int[] sizes = shape.Sizes;
        Network network = shape.CreateNetwork();
        ReferenceNetwork reference = shape.CreateReference(network);
        var random = new SeededRandom(shape.Seed ^ 0xfd);
        double[] x = TestData.ToDouble(TestData.Uniform(sizes[0], ref random, 0, 1));
        double[] y = TestData.ToDouble(shape.Target(ref random));
        // A difference quotient straddling a ReLU's kink measures neither side, and the cross-entropy of a saturated
        // sigmoid loses its digits in 1 - a before the quotient divides them by h: leave such samples out.
        bool kinked = reference.WeightedInputs(x).SelectMany(z => z).Any(z => Math.Abs(z) < 1e-3);
        bool saturated = shape.Cost == CostFunction.CrossEntropy && reference.FeedForward(x).Any(a => a < 1e-4 || a > 1 - 1e-4);
        if (kinked || saturated)
        {
            return false;
        }

        (double[][] nablaB, double[][][] nablaW) = reference.Backprop(x, y);

        // Central differences in double: truncation error O(h^2 C'''), rounding error O(eps |C| / h).
        const double h = 1e-5;
        double tolerance = 1e-6 * (1 + Math.Abs(reference.Cost(x, y)));
        for (int l = 0; l < reference.Weights.Length; l++)
        {
            for (int j = 0; j < reference.Biases[l].Length; j++)
            {
                double numeric = CentralDifference(reference, x, y, () => ref reference.Biases[l][j], h);
                AssertClose(numeric, nablaB[l][j], tolerance, $"dC/db^{l + 1}[{j}] of {shape}");
                for (int k = 0; k < reference.Weights[l][j].Length; k++)
                {
                    numeric = CentralDifference(reference, x, y, () => ref reference.Weights[l][j][k], h);
                    AssertClose(numeric, nablaW[l][j][k], tolerance, $"dC/dW^{l + 1}[{j},{k}] of {shape}");
                }
            }
        }

        return true;
    }

    private delegate ref double Slot();

    private static double CentralDifference(ReferenceNetwork network, double[] x, double[] y, Slot slot, double h)
    {
        ref double p = ref slot();
        double saved = p;
        p = saved + h;
        double plus = network.Cost(x, y);
        p = saved - h;
        double minus = network.Cost(x, y);
        p = saved;
        return (plus - minus) / (2 * h);
    }

    private static void AssertClose(double expected, double actual, double tolerance, string what)
    {
        double error = Math.Abs(expected - actual);
        Assert.True(error <= tolerance, $"{what}: expected {expected:R}, got {actual:R}, |error| {error:E3} > tolerance {tolerance:E3}");
    }
}
