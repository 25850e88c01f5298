using System.Runtime.Intrinsics.X86;
using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Quantized;

/// <summary>
/// <see cref="Int8Quantize.QuantizeSaturating(ReadOnlySpan{float}, float, int, Span{byte})"/> (the calibrated scales'
/// quantization) against its naive twin on every path, exactly (the codes are integers): values within the codes'
/// range, just beyond it, and far beyond it (up to float's largest, where a product overflows to infinity), which must
/// saturate to 0 or 127 and never wrap; and a NaN or infinity anywhere reported.
/// </summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class Int8SaturatingQuantizePropertyTests
{
    [Property]
    public void QuantizeSaturating_matches_the_naive_twin_exactly_on_every_path(Shape s)
    {
        var random = new SeededRandom(s.Seed);
        int n = s.Cols, zeroPoint = s.Rows % 4 == 0 ? 0 : random.NextInt(128);
        float inverse = (float)(0.5 + (random.NextDouble() * 200));
        float[] a = new float[n];
        for (int k = 0; k < n; k++)
        {
            double sign = random.NextDouble() < 0.5 ? -1 : 1;
            a[k] = (float)(random.NextInt(6) switch
            {
                0 => sign * random.NextDouble() * 1e30,                                 // far beyond
                1 => sign * float.MaxValue * random.NextDouble(),                      // the product overflows to infinity
                2 => (random.NextDouble() * 140 / inverse) - ((zeroPoint + 6) / inverse), // just around the range's ends
                _ => ((random.NextDouble() * 127) - zeroPoint) / inverse,              // within
            });
        }

        Check(a, inverse, zeroPoint, expectFinite: true, s.ToString());
        float[] poisoned = (float[])a.Clone();
        poisoned[random.NextInt(n)] = (s.Rows % 3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity };
        Check(poisoned, inverse, zeroPoint, expectFinite: false, $"poisoned, {s}");
    }

    [Property]
    public void Within_the_range_it_gives_the_bytes_of_the_dynamic_quantization(Shape s)
    {
        var random = new SeededRandom(s.Seed);
        float[] a = TestData.Uniform(s.Cols, ref random, -3, 3);
        Assert.True(ActivationScale.TryChoose(a, out ActivationScale scale));
        foreach (Int8Path path in Int8KernelPropertyTests.Paths)
        {
            byte[] dynamic = new byte[a.Length], saturating = new byte[a.Length];
            Int8Quantize.Quantize(a, scale.Inverse, scale.ZeroPoint, dynamic, path);
            Assert.True(Int8Quantize.QuantizeSaturating(a, scale.Inverse, scale.ZeroPoint, saturating, path));
            Assert.True(dynamic.AsSpan().SequenceEqual(saturating), $"{path}, {s}");
        }
    }

    // AvxVnni's quantization is AVX2's code, which runs wherever AVX2 does, VNNI or not.
    private static IEnumerable<Int8Path> PathsWithAvxVnni =>
        Avx2.IsSupported ? Int8KernelPropertyTests.Paths.Append(Int8Path.AvxVnni).Distinct() : Int8KernelPropertyTests.Paths;

    private static void Check(float[] a, float inverse, int zeroPoint, bool expectFinite, string what)
    {
        byte[] expected = new byte[a.Length];
        Assert.Equal(expectFinite, NaiveInt8.QuantizeSaturating(a, inverse, zeroPoint, expected));
        foreach (Int8Path path in PathsWithAvxVnni)
        {
            byte[] fast = Enumerable.Repeat((byte)200, a.Length + 2).ToArray();
            Assert.Equal(expectFinite, Int8Quantize.QuantizeSaturating(a, inverse, zeroPoint, fast, path));
            if (expectFinite)
            {
                Assert.True(expected.AsSpan().SequenceEqual(fast.AsSpan(0, a.Length)), $"{path}, {what}, inverse {inverse}, zero point {zeroPoint}");
            }

            Assert.Equal([200, 200], fast[a.Length..]);
        }
    }
}
