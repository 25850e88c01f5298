namespace Backprop.Simd.Tests.Onnx;

/// <summary>
/// The exact forward pass of a network (in double, from its float parameters and a float input) with a bound on
/// how far ANY float implementation of it may be, derived as in <see cref="Tolerance"/>: a weighted input
/// <c>z = W a + b</c> of <c>n</c> products and a bias is within <c>gamma_{n+1} (|W| |a| + |b|)</c> of exact, plus
/// <c>|W| E_a</c> for the error already in <c>a</c>. Activations carry that error by their Lipschitz constant
/// (sigmoid 1/4; tanh, ReLU, leaky ReLU, identity 1) and add their own: a few units of roundoff, absolute for
/// sigmoid and tanh, whose results are at most 1 and whose fast implementations (such as ONNX Runtime's MLAS,
/// which clamps z to [-18, 18] for sigmoid and [-9, 9] for tanh) are accurate to within a few units in absolute
/// terms rather than relative ones; relative for leaky ReLU (one product). Softmax: with
/// <c>s_i = e^{z_i - m} / sum_j e^{z_j - m}</c>, an input error <c>E</c> changes <c>s_i</c> by at most
/// <c>2 s_i max E</c> (its Jacobian's row <c>i</c> sums to <c>2 s_i (1 - s_i)</c> in absolute value); computing it
/// adds relative error <c>u |z_i - m|</c> for the shift, a few units for <c>exp</c> and the division, and
/// <c>gamma_n</c> for the sum, and an output too small for a normal float may underflow.
/// </summary>
internal static class ForwardErrorBound
{
    private const double U = Tolerance.U;

    /// <summary>Absolute error allowed in a softmax output: one below float's normal range may underflow (to zero, say).</summary>
    public const double MinNormal = 1.1754943508222875e-38;

    /// <summary>Units of roundoff allowed for evaluating one sigmoid, tanh or exp (ours and ONNX Runtime's are within 4).</summary>
    public const double FunctionUlps = 8;

    public static (double[] Exact, double[] Bound) Compute(Network network, ReadOnlySpan<float> x)
    {
        double[] a = TestData.ToDouble(x);
        var error = new double[a.Length];
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            int rows = network.Sizes[l], cols = network.Sizes[l - 1];
            ReadOnlySpan<float> w = network.Weights(l), b = network.Biases(l);
            var z = new double[rows];
            var errorZ = new double[rows];
            for (int j = 0; j < rows; j++)
            {
                double sum = b[j], magnitude = Math.Abs((double)b[j]), carried = 0;
                for (int k = 0; k < cols; k++)
                {
                    double wk = w[(j * cols) + k];
                    sum += wk * a[k];
                    magnitude += Math.Abs(wk * a[k]);
                    carried += Math.Abs(wk) * error[k];
                }

                z[j] = sum;
                errorZ[j] = (Tolerance.Gamma(cols + 1) * magnitude) + carried;
            }

            (a, error) = Activate(network.Activations[l - 1], z, errorZ);
        }

        return (a, error);
    }

    private static (double[] A, double[] Error) Activate(Activation f, double[] z, double[] errorZ)
    {
        var a = new double[z.Length];
        var error = new double[z.Length];
        if (f == Activation.Softmax)
        {
            double max = z.Max(), sum = 0, shiftError = 0, maxErrorZ = errorZ.Max();
            for (int i = 0; i < z.Length; i++)
            {
                a[i] = Math.Exp(z[i] - max);
                sum += a[i];
            }

            for (int i = 0; i < z.Length; i++)
            {
                a[i] /= sum;
                shiftError += a[i] * U * Math.Abs(z[i] - max);
            }

            for (int i = 0; i < z.Length; i++)
            {
                double relative = (U * Math.Abs(z[i] - max)) + shiftError + (2 * FunctionUlps * U) + Tolerance.Gamma(z.Length);
                error[i] = (a[i] * ((2 * maxErrorZ) + relative)) + MinNormal;
            }

            return (a, error);
        }

        for (int i = 0; i < z.Length; i++)
        {
            (a[i], error[i]) = f.Kind switch
            {
                ActivationKind.Sigmoid => (1 / (1 + Math.Exp(-z[i])), (errorZ[i] / 4) + (FunctionUlps * U)),
                ActivationKind.Tanh => (Math.Tanh(z[i]), errorZ[i] + (FunctionUlps * U)),
                ActivationKind.ReLU => (Math.Max(z[i], 0), errorZ[i]),
                ActivationKind.LeakyReLU => (z[i] > 0 ? z[i] : z[i] * f.Slope, errorZ[i] + (U * Math.Abs(z[i]))),
                ActivationKind.Identity => (z[i], errorZ[i]),
                _ => throw new ArgumentOutOfRangeException(nameof(f), f, "unknown activation"),
            };
        }

        return (a, error);
    }
}
