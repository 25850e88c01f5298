using Backprop.Simd.Reference;
using Backprop.Simd.Training;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Training;

/// <summary>The whole backpropagation against the naive reference on random depths and sizes, and the reference
/// against finite differences.</summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class BackpropPropertyTests
{
    [Property]
    public void Backprop_matches_reference(NetShape shape)
    {
        var network = new Network(shape.Sizes, shape.Seed);
        var workspace = new Workspace(network);
        var random = new SeededRandom(shape.Seed ^ 0x5eed);
        float[] x = TestData.Uniform(network.InputSize, ref random, 0, 1);
        float[] y = TestData.Uniform(network.OutputSize, ref random, 0, 1);
        var reference = ReferenceNetwork.FromArena(shape.Sizes, network.Parameters);

        workspace.Nabla.Fill(float.NaN); // Backprop adds: start from a cleared gradient
        workspace.Nabla.Clear();
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

    [Property(MaxTest = 25)]
    public void Reference_gradient_matches_central_differences(NetShape shape)
    {
        int[] sizes = shape.Sizes.Select(n => Math.Min(n, 12)).ToArray(); // keep the O(P^2) check small
        var network = new Network(sizes, shape.Seed);
        var reference = ReferenceNetwork.FromArena(sizes, network.Parameters);
        var random = new SeededRandom(shape.Seed ^ 0xfd);
        double[] x = TestData.ToDouble(TestData.Uniform(sizes[0], ref random, 0, 1));
        double[] y = TestData.ToDouble(TestData.Uniform(sizes[^1], ref random, 0, 1));
        (double[][] nablaB, double[][][] nablaW) = reference.Backprop(x, y);

        // Central differences in double: truncation error O(h^2 C'''), rounding error O(eps |C| / h).
        const double h = 1e-5;
        double tolerance = 1e-7 * (1 + Math.Abs(reference.Cost(x, y)));
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
