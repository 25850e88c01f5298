using Backprop.Simd.Tests.Onnx;

namespace Backprop.Simd.Tests.Quantized;

/// <summary>
/// How far a <see cref="QuantizedNetwork"/>'s output may be from the exact output of the float network it was made
/// from, derived from the scales (docs/quantization.md). Per layer, with the int8 path's own float input <c>a</c>:
/// a weight code dequantizes to within <c>s_j / 2</c> of its weight and an input code to within <c>s_a / 2</c> of its
/// input (rounding to the nearest step; a dynamic scale's codes cover the whole range, so clamping never costs more),
/// each plus a few units of roundoff in the scales (<c>1024 u</c> of the step covers them: the code is at most 127 steps
/// from the zero point). A calibrated scale's codes cover <c>[-zp s_a, (127 - zp) s_a]</c>; an input beyond that
/// saturates to the nearest end, which adds its distance to that end, <c>x_k</c>, to its error (0 within the range,
/// so for dynamic scales). So the dequantized sum is within
/// <c>sum_k |w^_jk| ((s_a / 2) + x_k) + (s_j / 2) sum_k |a_k|</c> of <c>W a + b</c>; the int32 sum is exact and its dequantization rounds four times (<c>gamma_4</c> of its magnitude).
/// The error already in <c>a</c> adds <c>|W| e</c>. Activations pass errors on by their largest slope (sigmoid 1/4,
/// leaky ReLU max(1, |slope|), GELU 1.13, SiLU 1.1, the rest 1); softmax by <c>2 s_i e^{2E} E</c> (E the largest input
/// error; its Jacobian's row i sums to at most <c>2 s_i</c>, and s_i grows by at most <c>e^{2E}</c> along the way),
/// log-softmax by <c>2E</c> (a softmax output that underflowed to 0 counts as the smallest normal float, and no
/// softmax output moves by more than 1). Evaluating the functions in float adds roundoff; <c>64 u (1 + |z| + |a|)</c> covers
/// every kernel's (each within 8 units of its result or of 1), three orders of magnitude below the quantization terms.
/// </summary>
internal static class QuantizationErrorBound
{
    private const double U = Tolerance.U;

    /// <summary>The bound on <c>|int8 output - exact output|</c> per output, from the workspace of the quantized call just made on <paramref name="x"/>.</summary>
    public static double[] Compute(Network network, QuantizedNetwork quantized, QuantizedWorkspace ws, ReadOnlySpan<float> x)
    {
        var error = new double[x.Length]; // the input itself is exact
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            int rows = network.Sizes[l], cols = network.Sizes[l - 1];
            ReadOnlySpan<float> w = network.Weights(l), b = network.Biases(l), input = l == 1 ? x : ws.ARows(l - 1);
            sbyte[] codes = quantized.RowCodes(l);
            ReadOnlySpan<float> scales = quantized.ScalesOf(l);
            ActivationScale scale = ws.InputScale(l);
            double inputStep = scale.Scale, inputMagnitude = 0;
            double low = -scale.ZeroPoint * inputStep, high = (127 - scale.ZeroPoint) * inputStep; // the codes' ends
            var inputError = new double[cols]; // rounding, roundoff in the step, and saturation
            for (int k = 0; k < cols; k++)
            {
                inputMagnitude += Math.Abs((double)input[k]);
                inputError[k] = (inputStep * (0.5 + (1024 * U))) + Math.Max(0, Math.Max(input[k] - high, low - input[k]));
            }

            var errorZ = new double[rows];
            for (int j = 0; j < rows; j++)
            {
                double quantization = 0, carried = 0, dequantized = Math.Abs((double)b[j]);
                for (int k = 0; k < cols; k++)
                {
                    double code = codes[(j * cols) + k] * (double)scales[j];
                    quantization += Math.Abs(code) * inputError[k];
                    dequantized += Math.Abs(code) * (Math.Abs((double)input[k]) + inputStep);
                    carried += Math.Abs((double)w[(j * cols) + k]) * error[k];
                }

                quantization += scales[j] * (0.5 + (1024 * U)) * inputMagnitude;
                errorZ[j] = carried + quantization + (Tolerance.Gamma(4) * dequantized);
            }

            error = Activate(network.ActivationOf(l), ws.ZRows(l), ws.ARows(l), errorZ);
        }

        return error;
    }

    private static double[] Activate(Activation f, ReadOnlySpan<float> z, ReadOnlySpan<float> a, double[] errorZ)
    {
        var error = new double[z.Length];
        double largest = errorZ.Max();
        for (int i = 0; i < z.Length; i++)
        {
            double carried = f.Kind switch
            {
                ActivationKind.Softmax => Math.Min(1, 2 * (a[i] + Tolerance.Subnormal) * Math.Exp(Math.Min(2 * largest, 700)) * largest),
                ActivationKind.LogSoftmax => 2 * largest,
                ActivationKind.Sigmoid => 0.25 * errorZ[i],
                ActivationKind.LeakyReLU => Math.Max(1, Math.Abs(f.Slope)) * errorZ[i],
                ActivationKind.GELU => 1.13 * errorZ[i],
                ActivationKind.SiLU => 1.1 * errorZ[i],
                _ => errorZ[i],
            };
            error[i] = carried + (64 * U * (1 + Math.Abs(z[i]) + Math.Abs(a[i])));
        }

        return error;
    }

    /// <summary>The exact output of the float network (in double), for comparing against.</summary>
    public static double[] Exact(Network network, ReadOnlySpan<float> x) => ForwardErrorBound.Compute(network, x).Exact;

    /// <summary>Asserts that every output of <paramref name="quantized"/> for <paramref name="x"/> lies within the bound
    /// of the exact output; <paramref name="label"/> names the case in a failure.</summary>
    public static void AssertWithin(Network network, QuantizedNetwork quantized, QuantizedWorkspace ws, float[] x, string label)
    {
        float[] output = quantized.FeedForward(x, ws).ToArray();
        double[] bound = Compute(network, quantized, ws, x);
        double[] exact = Exact(network, x);
        for (int i = 0; i < output.Length; i++)
        {
            Assert.True(Math.Abs(output[i] - exact[i]) <= bound[i], $"{label}, output {i}: int8 {output[i]}, exact {exact[i]}, bound {bound[i]:E3}");
        }
    }
}
