using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>
/// The ELU, GELU, SiLU, log-softmax and erf kernels against the double-precision reference, within the bounds of
/// <see cref="SmoothActivationBound"/>, at every width; and the same bits at every width, since the tail of each
/// vector loop runs the same generic code one lane at a time.
/// </summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class SmoothActivationPropertyTests
{
    private const double U = Tolerance.U;

    // Mixed values (tiny, large, zeros) and, at every other index, values spread over both pieces of erf and beyond.
    private static float[] Inputs(int n, ref SeededRandom random)
    {
        float[] z = TestData.Mixed(n, ref random);
        float[] spread = TestData.Uniform(n, ref random, -9, 9);
        for (int i = 1; i < n; i += 2)
        {
            z[i] = spread[i];
        }

        return z;
    }

    [Property]
    public void Kernels_match_the_reference_and_give_the_same_bits_at_every_width(Shape s)
    {
        int n = s.Rows; // 1 to 300: vector multiples, tails, and more than one scratch chunk
        var random = new SeededRandom(s.Seed);
        float[] z = Inputs(n, ref random), d = TestData.Mixed(n, ref random);
        double[] zd = TestData.ToDouble(z);
        double[] elu = ReferenceNetwork.Activate(new(ReferenceKind.ELU), zd), gelu = ReferenceNetwork.Activate(new(ReferenceKind.GELU), zd);
        double[] eluPrime = ReferenceNetwork.ActivationPrime(new(ReferenceKind.ELU), zd);
        double[] geluPrime = ReferenceNetwork.ActivationPrime(new(ReferenceKind.GELU), zd);
        double[] siluPrime = ReferenceNetwork.ActivationPrime(new(ReferenceKind.SiLU), zd);
        float[][]? first = null;
        foreach (int bits in ElementwisePropertyTests.Widths)
        {
            float[] a = new float[n], g = new float[n], erf = new float[n];
            SmoothActivations.ELU(z, a, bits);
            SmoothActivations.GELU(z, g, bits);
            SmoothActivations.Erf(z, erf, bits);
            float[] dElu = (float[])d.Clone(), dGelu = (float[])d.Clone(), dSilu = (float[])d.Clone();
            SmoothActivations.MultiplyByELUPrime(dElu, z, a, bits);
            SmoothActivations.MultiplyByGELUPrime(dGelu, z, bits);
            SmoothActivations.MultiplyBySiLUPrime(dSilu, z, bits);
            for (int i = 0; i < n; i++)
            {
                string at = $"at z = {z[i]:R}, {bits} bits";
                AssertClose(elu[i], a[i], SmoothActivationBound.Value(ReferenceKind.ELU, zd[i]) + Tolerance.Subnormal, $"ELU {at}");
                AssertClose(gelu[i], g[i], SmoothActivationBound.Value(ReferenceKind.GELU, zd[i]) + Tolerance.Subnormal, $"GELU {at}");
                double e = ReferenceNetwork.Erf(zd[i]);
                AssertClose(e, erf[i], (SmoothActivationBound.ErfUnits * U * Math.Abs(e)) + Tolerance.Subnormal, $"erf {at}");
                AssertPrime(ReferenceKind.ELU, eluPrime[i], dElu[i], d[i], zd[i], at);
                AssertPrime(ReferenceKind.GELU, geluPrime[i], dGelu[i], d[i], zd[i], at);
                AssertPrime(ReferenceKind.SiLU, siluPrime[i], dSilu[i], d[i], zd[i], at);
            }

            float[][] results = [a, g, erf, dElu, dGelu, dSilu];
            first ??= results;
            for (int k = 0; k < results.Length; k++)
            {
                Assert.True(first[k].AsSpan().SequenceEqual(results[k]), $"result {k} at {bits} bits differs from {ElementwisePropertyTests.Widths.First()} bits");
            }
        }

        // In place (the output is the input), through the default-width entry points: the same bits.
        float[] inPlace = (float[])z.Clone();
        SmoothActivations.ELU(inPlace, inPlace);
        Assert.Equal(first![0], inPlace);
        inPlace = (float[])z.Clone();
        SmoothActivations.GELU(inPlace, inPlace);
        Assert.Equal(first[1], inPlace);
        var silu = new float[n];
        SmoothActivations.SiLU(z, silu);
        inPlace = (float[])z.Clone();
        SmoothActivations.SiLU(inPlace, inPlace);
        Assert.Equal(silu, inPlace);
    }

    private static void AssertPrime(ReferenceKind kind, double prime, float actual, float d, double z, string at)
    {
        double exact = d * prime;
        double tolerance = (Math.Abs((double)d) * SmoothActivationBound.Prime(kind, z)) + (U * Math.Abs(exact)) + Tolerance.Subnormal;
        AssertClose(exact, actual, tolerance, $"{kind}' times {d:R} {at}");
    }

    [Property]
    public void LogSoftmax_matches_the_reference_row_by_row_and_in_place(Shape s)
    {
        int width = s.Cols, rows = 1 + (s.Rows % 4);
        var random = new SeededRandom(s.Seed);
        float[] z = Inputs(rows * width, ref random); // large values too: nothing may overflow
        var a = new float[z.Length];
        SmoothActivations.LogSoftmaxRows(z, a, width);
        for (int r = 0; r < rows; r++)
        {
            double[] expected = ReferenceNetwork.LogSoftmax(TestData.ToDouble(z.AsSpan(r * width, width)));
            for (int j = 0; j < width; j++)
            {
                AssertClose(expected[j], a[(r * width) + j], SmoothActivationBound.LogSoftmax(width, expected[j]), $"log-softmax row {r} of {width}, column {j}");
            }
        }

        float[] inPlace = (float[])z.Clone();
        SmoothActivations.LogSoftmaxRows(inPlace, inPlace, width);
        Assert.Equal(a, inPlace);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(0)] // the machine's own width
    public void Erf_is_within_one_and_a_half_ulps_on_a_dense_sweep(int bits)
    {
        // Every 9973rd float from 0 to 6 (about 110,000 of them, as many in each binade) and their negatives.
        const int step = 9973;
        int top = BitConverter.SingleToInt32Bits(6f);
        float[] x = Enumerable.Range(0, (top / step) + 1).Select(k => BitConverter.Int32BitsToSingle(k * step)).ToArray();
        float[] erf = new float[x.Length], minus = new float[x.Length];
        float[] negated = x.Select(v => -v).ToArray();
        SmoothActivations.Erf(x, erf, bits == 0 ? SimdWidth.Bits : bits);
        SmoothActivations.Erf(negated, minus, bits == 0 ? SimdWidth.Bits : bits);
        for (int i = 0; i < x.Length; i++)
        {
            double exact = ReferenceNetwork.Erf(x[i]);
            float rounded = (float)exact;
            double ulp = MathF.BitIncrement(rounded) - rounded;
            AssertClose(exact, erf[i], (1.5 * ulp) + float.Epsilon, $"erf({x[i]:R})");
            Assert.Equal(-erf[i], minus[i]); // odd, to the bit
        }

        float[] edges = [4f, 5f, 1e30f, float.PositiveInfinity, float.NaN];
        float[] result = new float[edges.Length];
        SmoothActivations.Erf(edges, result, bits == 0 ? SimdWidth.Bits : bits);
        Assert.Equal([1f, 1f, 1f, 1f], result[..4]);
        Assert.True(float.IsNaN(result[4]));
    }

    [Fact]
    public void ELU_keeps_its_relative_accuracy_near_zero_and_saturates_at_minus_one()
    {
        float[] z = [-1e-30f, -1e-7f, -1e-3f, -0.69f, -0.7f, -20f, -1e4f, 0f, 1e-7f];
        var a = new float[z.Length];
        SmoothActivations.ELU(z, a);
        for (int i = 0; i < z.Length; i++)
        {
            double exact = z[i] > 0 ? z[i] : ReferenceNetwork.ExpMinusOne(z[i]);
            AssertClose(exact, a[i], 3 * U * Math.Abs(exact), $"ELU({z[i]:R})"); // relative, even at -1e-30
        }

        Assert.Equal(-1f, a[6]);
    }

    private static void AssertClose(double expected, double actual, double tolerance, string what)
    {
        double error = Math.Abs(expected - actual);
        Assert.True(error <= tolerance, $"{what}: expected {expected:R}, got {actual:R}, |error| {error:E3} > tolerance {tolerance:E3}");
    }
}
