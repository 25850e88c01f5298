using System.Numerics.Tensors;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Training;

/// <summary>The value of each <see cref="CostFunction"/> for one sample, and its output error (BP1).</summary>
public static class Costs
{
    /// <summary>
    /// The cost of output <paramref name="a"/> against target <paramref name="y"/>, in double precision. The
    /// cross-entropy and log-likelihood costs are NaN-safe as network2's <c>np.nan_to_num</c> makes them:
    /// <c>0 ln 0</c> counts as 0, and <c>-ln 0</c> as the largest finite double.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double Value(CostFunction cost, ReadOnlySpan<float> a, ReadOnlySpan<float> y)
    {
        Guard.Length(y.Length, a.Length, "a.Length");
        double sum = 0;
        switch (cost)
        {
            case CostFunction.Quadratic: // 1/2 ||a - y||^2
                for (int i = 0; i < a.Length; i++)
                {
                    double d = (double)a[i] - y[i];
                    sum += d * d;
                }

                return 0.5 * sum;
            case CostFunction.CrossEntropy: // sum -y ln a - (1 - y) ln (1 - a)
                for (int i = 0; i < a.Length; i++)
                {
                    sum += XLogY(y[i], a[i]) + XLogY(1.0 - y[i], 1.0 - a[i]);
                }

                return Finite(-sum);
            case CostFunction.LogLikelihood: // -sum y ln a
                for (int i = 0; i < a.Length; i++)
                {
                    sum += XLogY(y[i], a[i]);
                }

                return Finite(-sum);
            default:
                throw new ArgumentOutOfRangeException(nameof(cost), cost, "unknown cost");
        }
    }

    /// <summary>
    /// BP1, the output error <c>delta^L = dC/dz^L</c>: <c>(a - y) ⊙ f'(z^L)</c> for the quadratic cost, and <c>a - y</c>
    /// for cross-entropy on a sigmoid output and log-likelihood on a softmax output, where <c>f'</c> cancels.
    /// </summary>
    internal static void OutputError(CostFunction cost, Activation output, ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> y, Span<float> delta)
    {
        if (cost == CostFunction.Quadratic && output == Activation.Sigmoid)
        {
            Elementwise.OutputErrorQuadraticSigmoid(a, y, delta); // the seed's case, fused in one pass
            return;
        }

        TensorPrimitives.Subtract(a, y, delta);
        if (cost == CostFunction.Quadratic)
        {
            ActivationFunctions.MultiplyByDerivative(output, delta, z, a);
        }
    }

    // x ln y with 0 ln 0 = 0.
    private static double XLogY(double x, double y) => x == 0 ? 0 : x * Math.Log(y);

    private static double Finite(double value) =>
        double.IsNaN(value) ? 0 : double.IsPositiveInfinity(value) ? double.MaxValue : value;
}
