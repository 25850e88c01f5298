using System.Runtime.InteropServices;
using Backprop.Simd.Benchmarks.Ladder.PerSample;
using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>Every fast kernel against its naive twin on random shapes (1 to 300 per dimension) and mixed values.</summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class KernelPropertyTests
{
    // 32 is the scalar kernel (no SIMD), which runs everywhere.
    public static IEnumerable<int> Widths => new[] { 32, 128, 256, 512 }.Where(bits => bits <= SimdWidth.MaximumSupportedBits);

    [Property]
    public void MatrixVector_matches_naive_at_every_width(Shape s)
    {
        foreach (int bits in Widths)
        {
            CheckMatrixVector(s, (w, x, b, y) => MatrixVector.MultiplyAdd(w, s.Rows, s.Cols, x, b, y, bits));
        }

        CheckMatrixVector(s, (w, x, b, y) => MatrixVector.MultiplyAdd(w, s.Rows, s.Cols, x, b, y));
    }

    // y = W x + b by kernel, on a y holding garbage, against the naive twin within the derived bound.
    private static void CheckMatrixVector(Shape s, Action<float[], float[], float[], float[]> kernel)
    {
        var random = new SeededRandom(s.Seed);
        float[] w = TestData.Mixed(s.Rows * s.Cols, ref random);
        float[] x = TestData.Mixed(s.Cols, ref random);
        float[] b = TestData.Mixed(s.Rows, ref random);
        float[] fast = TestData.Mixed(s.Rows, ref random);
        var naive = new float[s.Rows];

        kernel(w, x, b, fast);
        NaiveKernels.MatrixVectorMultiplyAdd(w, s.Rows, s.Cols, x, b, naive);

        for (int j = 0; j < s.Rows; j++)
        {
            double magnitude = Math.Abs((double)b[j]);
            for (int k = 0; k < s.Cols; k++)
            {
                magnitude += Math.Abs((double)w[(j * s.Cols) + k] * x[k]);
            }

            AssertClose(naive[j], fast[j], Tolerance.BetweenTwoSums(s.Cols + 1, magnitude), $"y[{j}] of {s}");
        }
    }

    [Property]
    public void TransposedMatrixVector_matches_naive(Shape s)
    {
        var random = new SeededRandom(s.Seed);
        float[] w = TestData.Mixed(s.Rows * s.Cols, ref random);
        float[] x = TestData.Mixed(s.Rows, ref random);
        var fast = TestData.Mixed(s.Cols, ref random); // garbage in the output must be overwritten
        var naive = new float[s.Cols];

        TransposedMatrixVector.Multiply(w, s.Rows, s.Cols, x, fast);
        NaiveKernels.TransposedMatrixVectorMultiply(w, s.Rows, s.Cols, x, naive);

        for (int k = 0; k < s.Cols; k++)
        {
            double magnitude = 0;
            for (int j = 0; j < s.Rows; j++)
            {
                magnitude += Math.Abs((double)w[(j * s.Cols) + k] * x[j]);
            }

            AssertClose(naive[k], fast[k], Tolerance.BetweenTwoSums(s.Rows, magnitude), $"y[{k}] of {s}");
        }
    }

    [Property]
    public void Rank1_matches_naive(Shape s)
    {
        var random = new SeededRandom(s.Seed);
        float[] a = TestData.Mixed(s.Rows * s.Cols, ref random);
        float[] x = TestData.Mixed(s.Rows, ref random);
        float[] y = TestData.Mixed(s.Cols, ref random);
        float alpha = (float)(random.NextDouble() * 4 - 2);
        float[] fast = (float[])a.Clone();
        float[] naive = (float[])a.Clone();

        Rank1.Update(fast, s.Rows, s.Cols, alpha, x, y);
        NaiveKernels.Rank1Update(naive, s.Rows, s.Cols, alpha, x, y);

        for (int i = 0; i < s.Rows; i++)
        {
            for (int k = 0; k < s.Cols; k++)
            {
                int index = (i * s.Cols) + k;
                // a + (alpha * x) * y: at most three roundings on each side.
                double magnitude = Math.Abs((double)a[index]) + Math.Abs((double)alpha * x[i] * y[k]);
                AssertClose(naive[index], fast[index], 2 * Tolerance.Gamma(3) * magnitude, $"A[{i},{k}] of {s}");
            }
        }
    }

    [Property]
    public void Rank1_fused_forms_give_the_bits_of_their_unfused_steps(Shape s)
    {
        // The per-sample path's first sample stores its product instead of clearing and adding, and its last one
        // folds the SGD step w = decay w + scale t into the update. Both must give exactly what the separate passes
        // give (Rank1_matches_naive covers the update itself).
        var random = new SeededRandom(s.Seed);
        int n = s.Rows * s.Cols;
        float[] nabla = TestData.Mixed(n, ref random);
        float[] w = TestData.Mixed(n, ref random);
        float[] x = TestData.Mixed(s.Rows, ref random);
        float[] y = TestData.Mixed(s.Cols, ref random);
        float alpha = (float)(random.NextDouble() * 4 - 2);
        var step = new SgdFold(-(float)random.NextDouble(), 1 - (float)(random.NextDouble() * 0.01));

        float[] set = TestData.Mixed(n, ref random); // garbage: Set must not read it
        Rank1.SetUnchecked(set, s.Rows, s.Cols, alpha, x, y);
        var cleared = new float[n];
        Rank1.Update(cleared, s.Rows, s.Cols, alpha, x, y);
        AssertBits(cleared, set);

        foreach (bool first in new[] { false, true })
        {
            float[] fused = (float[])w.Clone();
            float[] nablaBefore = (float[])nabla.Clone();
            Rank1.StepUnchecked(nabla, fused, s.Rows, s.Cols, x, y, first, step);
            AssertBits(nablaBefore, nabla); // only read

            float[] gradient = first ? new float[n] : (float[])nabla.Clone();
            Rank1.Update(gradient, s.Rows, s.Cols, 1f, x, y);
            float[] separate = (float[])w.Clone();
            for (int i = 0; i < n; i++)
            {
                step.Apply(gradient[i], ref separate[i]);
            }

            AssertBits(separate, fused);
        }
    }

    // Bit patterns, not float equality: -0 and +0 must not pass for each other.
    private static void AssertBits(float[] expected, float[] actual) =>
        Assert.Equal(MemoryMarshal.Cast<float, int>(expected).ToArray(), MemoryMarshal.Cast<float, int>(actual).ToArray());

    [Property]
    public void Elementwise_kernels_match_naive(Shape s)
    {
        int n = s.Rows;
        var random = new SeededRandom(s.Seed);
        float[] z = TestData.Mixed(n, ref random);
        float[] a = TestData.Uniform(n, ref random, 0, 1);
        float[] y = TestData.Uniform(n, ref random, 0, 1);
        float[] d = TestData.Mixed(n, ref random);

        var fast = new float[n];
        var naive = new float[n];
        Elementwise.Sigmoid(z, fast);
        NaiveKernels.Sigmoid(z, naive);
        for (int i = 0; i < n; i++)
        {
            // Both sides are a handful of correctly rounded operations plus exp, each within a few ulps.
            AssertClose(naive[i], fast[i], (8 * Tolerance.U * Math.Abs(naive[i])) + Tolerance.Subnormal, $"sigmoid({z[i]})");
        }

        Elementwise.OutputErrorQuadraticSigmoid(a, y, fast);
        NaiveKernels.OutputErrorQuadratic(a, y, naive);
        for (int i = 0; i < n; i++)
        {
            AssertClose(naive[i], fast[i], 2 * Tolerance.Gamma(4) * Math.Abs((a[i] - (double)y[i]) * a[i]), $"BP1 at {i}");
        }

        float[] fastD = (float[])d.Clone();
        float[] naiveD = (float[])d.Clone();
        Elementwise.MultiplyBySigmoidPrime(fastD, a);
        NaiveKernels.MultiplyBySigmoidPrime(naiveD, a);
        for (int i = 0; i < n; i++)
        {
            AssertClose(naiveD[i], fastD[i], 2 * Tolerance.Gamma(3) * Math.Abs((double)d[i] * a[i]), $"BP2 product at {i}");
        }
    }

    /// <summary>Every kind (a leaky ReLU of the default slope, of 0.2 and of a negative slope too).</summary>
    public static Activation[] EveryActivation =>
        [.. Enum.GetValues<ActivationKind>().Select(Activation.Of), Activation.LeakyReLUWithSlope(0.2f), Activation.LeakyReLUWithSlope(-0.5f)];

    [Property]
    public void Activations_and_their_derivatives_match_the_reference(Shape s)
    {
        int n = s.Rows;
        var random = new SeededRandom(s.Seed);
        float[] z = TestData.Mixed(n, ref random);
        float[] d = TestData.Mixed(n, ref random);
        double[] zd = TestData.ToDouble(z);
        var a = new float[n];
        foreach (Activation f in EveryActivation)
        {
            ReferenceActivation reference = Map.ToReference(f);
            ActivationFunctions.Apply(f, z, a, n);
            double[] expected = ReferenceNetwork.Activate(reference, zd);
            for (int i = 0; i < n; i++)
            {
                // A few correctly rounded operations, or exp and a sum of n terms for softmax; nothing below a normal float.
                // TensorPrimitives.Tanh is accurate to a couple of units of roundoff of 1, not of tanh z, near z = 0
                // (it returns -6e-8 for 7e-21), so tanh gets an absolute term. The smooth ones: SmoothActivationBound.
                double tolerance = f.Kind switch
                {
                    ActivationKind.Softmax => Tolerance.Gamma(n + 8) * Math.Abs(expected[i]),
                    ActivationKind.LogSoftmax => SmoothActivationBound.LogSoftmax(n, expected[i]),
                    ActivationKind.ELU or ActivationKind.GELU or ActivationKind.SiLU => SmoothActivationBound.Value(reference.Kind, zd[i]),
                    ActivationKind.Tanh => (8 * Tolerance.U * Math.Abs(expected[i])) + (2 * Tolerance.U),
                    _ => 8 * Tolerance.U * Math.Abs(expected[i]),
                } + Tolerance.Subnormal;
                AssertClose(expected[i], a[i], tolerance, $"{f}({z[i]})");
            }

            if (f.IsOutputOnly)
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => ActivationFunctions.MultiplyByDerivative(f, d.ToArray(), z, a));
                continue;
            }

            float[] product = (float[])d.Clone();
            ActivationFunctions.MultiplyByDerivative(f, product, z, a);
            double[] prime = ReferenceNetwork.ActivationPrime(reference, zd);
            for (int i = 0; i < n; i++)
            {
                // The library takes sigmoid' and tanh' from the float activation: its few-ulp error, magnified by at most 2.
                // The smooth ones: their derived bound, then the product with delta's rounding.
                double exact = d[i] * prime[i];
                double tolerance = f.Kind is ActivationKind.ELU or ActivationKind.GELU or ActivationKind.SiLU
                    ? (Math.Abs((double)d[i]) * SmoothActivationBound.Prime(reference.Kind, zd[i])) + (Tolerance.U * Math.Abs(exact)) + Tolerance.Subnormal
                    : (16 * Tolerance.U * Math.Abs((double)d[i])) + (4 * Tolerance.U * Math.Abs(exact)) + Tolerance.Subnormal;
                AssertClose(exact, product[i], tolerance, $"{f}'({z[i]}) * {d[i]}");
            }
        }
    }

    private static void AssertClose(double expected, double actual, double tolerance, string what)
    {
        double error = Math.Abs(expected - actual);
        Assert.True(error <= tolerance, $"{what}: expected {expected:R}, got {actual:R}, |error| {error:E3} > tolerance {tolerance:E3}");
    }
}
