using System.Numerics.Tensors;
using Backprop.Simd.Kernels;

namespace Backprop.Simd;

/// <summary>The value of each <see cref="CostFunction"/> for one sample, and its output error (BP1).</summary>
internal static class Costs
{
    /// <summary>
    /// The cost of output <paramref name="a"/> against target <paramref name="y"/>, in double precision. The
    /// cross-entropy and log-likelihood costs are NaN-safe as network2's <c>np.nan_to_num</c> makes them:
    /// <c>0 ln 0</c> counts as 0, and <c>-ln 0</c> as the largest finite double. On a log-softmax output
    /// (<paramref name="output"/>), whose <c>a</c> is already <c>ln softmax</c>, the log-likelihood is
    /// <c>-sum y a</c>, with <c>0 a</c> counting as 0 even where <c>a</c> is minus infinity.
    /// </summary>
    public static double Value(CostFunction cost, Activation output, ReadOnlySpan<float> a, ReadOnlySpan<float> y)
    {
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
            case CostFunction.LogLikelihood when output.Kind == ActivationKind.LogSoftmax: // -sum y a
                for (int i = 0; i < a.Length; i++)
                {
                    sum += y[i] == 0 ? 0 : (double)y[i] * a[i];
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
    /// BP1, the output error <c>delta^L = dC/dz^L</c>, for every row at once: <c>(a - y) ⊙ f'(z^L)</c> for the
    /// quadratic cost, and <c>a - y</c> for cross-entropy on a sigmoid output and log-likelihood on a softmax output,
    /// where <c>f'</c> cancels. On a log-softmax output, <c>a = ln softmax(z)</c>, the log-likelihood's error is
    /// <c>softmax(z) - y = e^a - y</c>.
    /// </summary>
    public static void OutputError(CostFunction cost, Activation output, ReadOnlySpan<float> z, ReadOnlySpan<float> a, ReadOnlySpan<float> y, Span<float> delta)
    {
        if (cost == CostFunction.Quadratic && output == Activation.Sigmoid)
        {
            Elementwise.OutputErrorQuadraticSigmoid(a, y, delta); // the seed's case, fused in one pass
            return;
        }

        if (output.Kind == ActivationKind.LogSoftmax)
        {
            TensorPrimitives.Exp(a, delta);
            TensorPrimitives.Subtract(delta, y, delta);
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
