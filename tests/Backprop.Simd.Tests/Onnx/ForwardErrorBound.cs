using Backprop.Simd.Reference;

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
/// <c>gamma_n</c> for the sum, and an output too small for a normal float may underflow. Log-softmax,
/// <c>a_i = (z_i - m) - ln sum_j e^{z_j - m}</c>: an input error moves <c>a_i</c> by at most <c>E_i + max E</c> (the
/// log-sum-exp moves by the softmax-weighted mean of the input errors); computing it adds <c>u |z_i - m|</c>, the
/// sum's relative error (a few units for each exp, <c>gamma_n</c> for adding them), which the logarithm turns into an
/// absolute one, the logarithm's own few units of <c>ln sum</c>, and <c>u |a_i|</c> for the last subtraction.
/// The smooth ones carry the input error by their largest slope (ELU 1, GELU 1.13 at z = sqrt 2, SiLU 1.1 near
/// z = 2.4) and add: ELU, <c>e^z</c> within a few units then <c>e^z - 1</c>'s rounding (ours: a Taylor series near 0,
/// within 3u |a|); SiLU, <c>z</c> times the sigmoid's absolute error (which covers MLAS's clamping of z to
/// [-18, 18]: at most 1.6e-8) plus the product's rounding; GELU, <c>z/2 (1 + erf(z / sqrt 2))</c>: dividing by
/// sqrt 2 (or multiplying by its reciprocal) moves erf by at most 0.97u, erf errs by a few units absolute (ours within
/// 3u |erf|; ONNX Runtime's <c>Erf</c>, measured through the GELU of exact inputs from -12 to 12, within 3.6u), then
/// <c>u |1 + erf|</c> for the add and <c>u |a|</c> for each of the two products.
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
        if (f == Activation.LogSoftmax)
        {
            double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max)), maxErrorZ = errorZ.Max();
            double logSumError = (FunctionUlps * U) + Tolerance.Gamma(z.Length) + (FunctionUlps * U * Math.Log(sum));
            for (int i = 0; i < z.Length; i++)
            {
                a[i] = z[i] - max - Math.Log(sum);
                error[i] = errorZ[i] + maxErrorZ + (U * Math.Abs(z[i] - max)) + logSumError + (U * Math.Abs(a[i]));
            }

            return (a, error);
        }

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
                ActivationKind.ELU => z[i] > 0 ? (z[i], errorZ[i])
                    : (ReferenceNetwork.ExpMinusOne(z[i]), errorZ[i] + (FunctionUlps * U * Math.Exp(z[i])) + (3 * U * Math.Abs(ReferenceNetwork.ExpMinusOne(z[i])))),
                ActivationKind.SiLU => (z[i] / (1 + Math.Exp(-z[i])), (1.1 * errorZ[i]) + (Math.Abs(z[i]) * FunctionUlps * U) + (U * Math.Abs(z[i] / (1 + Math.Exp(-z[i]))))),
                ActivationKind.GELU => Gelu(z[i], errorZ[i]),
                _ => throw new ArgumentOutOfRangeException(nameof(f), f, "unknown activation"),
            };
        }

        return (a, error);
    }

    private static (double A, double Error) Gelu(double z, double errorZ)
    {
        double erf = ReferenceNetwork.Erf(z / Math.Sqrt(2)), a = 0.5 * z * (1 + erf);
        double erfError = (0.97 * U) + (FunctionUlps * U) + (U * Math.Abs(1 + erf));
        return (a, (1.13 * errorZ) + (0.5 * Math.Abs(z) * erfError) + (2 * U * Math.Abs(a)));
    }
}
