using System.Runtime.Intrinsics;
using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Quantized;

/// <summary>
/// The int8 kernels against their naive twins on random shapes (1 to 300 rows and columns, padded strides), on every
/// path this processor runs. Tolerance 0: the results are integers, the matrix-vector sums exact in int32 for codes in
/// the documented ranges, the quantization one float product rounded to the nearest integer (ties to even) then clamped.
/// The AVX-VNNI path's kernel also runs on every processor with <c>vpdpbusd</c> emulated in software
/// (<see cref="EmulatedVpdpbusd"/>), so only its one instruction goes untested where the processor lacks it.
/// </summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class Int8KernelPropertyTests
{
    internal static IEnumerable<Int8Path> Paths => Enum.GetValues<Int8Path>().Where(Int8MatrixVector.IsSupported);

    [Property]
    public void MatrixVector_matches_the_naive_twin_exactly_on_every_path(Shape s)
    {
        QuadProduct p = QuadProduct.Random(s, maxCode: 127);
        foreach (Int8Path path in Paths)
        {
            p.Check((w, rows, quadCount, u, quads, y) => Int8MatrixVector.Multiply(w, rows, quadCount, u, quads, y, path), $"{path}, {s}");
        }

        p.Check(Int8MatrixVector.Multiply<EmulatedVpdpbusd>, $"emulated vpdpbusd, {s}");
    }

    /// <summary>vpdpbusd does not saturate: the VNNI kernel (here with the emulated instruction) is exact with full 8-bit
    /// codes too. The library still makes 7-bit codes on every path, so that every path gives the same integers.</summary>
    [Property]
    public void The_vnni_kernel_is_exact_with_8_bit_codes_too(Shape s) =>
        QuadProduct.Random(s, maxCode: 255).Check(Int8MatrixVector.Multiply<EmulatedVpdpbusd>, $"emulated vpdpbusd, {s}");

    /// <summary>Each dot-accumulate step this processor runs against vpdpbusd's definition, lane by lane, on random 7-bit
    /// codes, weights in [-128, 127] and addends anywhere in int32 (both wrap around); 200 random draws.</summary>
    [Fact]
    public void Every_dot_accumulate_step_is_vpdpbusd_for_7_bit_codes()
    {
        Assert.SkipUnless(MaddPairDot.IsSupported || VnniDot.IsSupported, "this processor runs no x86 dot-accumulate step.");
        var random = new SeededRandom(17);
        for (int draw = 0; draw < 200; draw++)
        {
            Vector256<byte> u = Vector256.Create(Enumerable.Range(0, 32).Select(_ => (byte)random.NextInt(128)).ToArray());
            Vector256<sbyte> w = Vector256.Create(Enumerable.Range(0, 32).Select(_ => (sbyte)(random.NextInt(256) - 128)).ToArray());
            Vector256<int> acc = Vector256.Create(Enumerable.Range(0, 8).Select(_ => (int)(uint)random.NextUInt64()).ToArray());
            Vector256<int> expected = EmulatedVpdpbusd.Accumulate(acc, u, w);
            if (MaddPairDot.IsSupported)
            {
                Assert.Equal(expected, MaddPairDot.Accumulate(acc, u, w));
            }

            if (VnniDot.IsSupported)
            {
                Assert.Equal(expected, VnniDot.Accumulate(acc, u, w));
            }
        }
    }

    /// <summary>The AVX-VNNI path on the processor's own <c>vpdpbusd</c>: skipped (not passed) where there is none.</summary>
    [Fact]
    public void The_AvxVnni_path_matches_the_naive_twin_on_a_processor_with_AVX_VNNI()
    {
        Assert.SkipUnless(Int8MatrixVector.IsSupported(Int8Path.AvxVnni),
            "this processor has no AVX-VNNI: the AvxVnni path cannot run here (the other properties run its kernel with vpdpbusd emulated in software).");
        Assert.Equal(SimdWidth.Bits >= 256 ? Int8Path.AvxVnni : Int8MatrixVector.Choose(SimdWidth.Bits), Int8MatrixVector.DefaultPath);
        foreach ((int rows, int cols) in new[] { (1, 1), (8, 4), (30, 784), (100, 784), (10, 100), (13, 257), (300, 293) })
        {
            QuadProduct.Random(new Shape(rows, cols, (ulong)(rows * cols)), maxCode: 127)
                .Check((w, r, quadCount, u, quads, y) => Int8MatrixVector.Multiply(w, r, quadCount, u, quads, y, Int8Path.AvxVnni), $"AvxVnni, {rows}x{cols}");
        }
    }

    [Property]
    public void NonzeroQuads_lists_what_the_naive_twin_lists_on_every_path(Shape s)
    {
        var random = new SeededRandom(s.Seed);
        int quadCount = Int8MatrixVector.Quads(s.Cols);
        byte[] u = new byte[(quadCount * 4) + 32]; // codes past the quads, which must not be listed
        for (int k = 0; k < u.Length; k++)
        {
            u[k] = random.NextInt(4) == 0 ? (byte)random.NextInt(128) : (byte)0;
        }

        int[] expected = NaiveInt8.NonzeroQuads(u, quadCount);
        foreach (Int8Path path in Paths)
        {
            int[] list = new int[(quadCount + 7) & ~7];
            int count = Int8Quantize.NonzeroQuads(u, quadCount, list, path);
            Assert.Equal(expected, list[..count]);
        }
    }

    [Fact]
    public void The_largest_sums_do_not_saturate_or_overflow()
    {
        foreach (int cols in new[] { 31, 32, 33, 784, 4099 })
        {
            int quadCount = Int8MatrixVector.Quads(cols);
            sbyte[] w = new sbyte[quadCount * 8 * 4];
            for (int k = 0; k < cols; k++)
            {
                w[(((k / 4) * 8) + 0) * 4 + (k % 4)] = 127;
                w[(((k / 4) * 8) + 1) * 4 + (k % 4)] = -127;
            }

            byte[] u = new byte[quadCount * 4];
            u.AsSpan(0, cols).Fill(127);
            int[] all = Enumerable.Range(0, quadCount).ToArray();
            foreach (Int8Path path in Paths)
            {
                int[] y = new int[8];
                Int8MatrixVector.Multiply(w, 2, quadCount, u, all, y, path);
                Assert.Equal([127 * 127 * cols, -127 * 127 * cols, 0, 0, 0, 0, 0, 0], y);
            }
        }
    }

    [Fact]
    public void A_listed_quad_beyond_the_matrix_is_refused()
    {
        foreach (Int8Path path in Paths)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => Int8MatrixVector.Multiply(new sbyte[64], 8, 2, new byte[8], [2], new int[8], path));
            Assert.Throws<ArgumentException>(() => Int8MatrixVector.Multiply(new sbyte[63], 8, 2, new byte[8], [1], new int[8], path));
        }
    }

    [Property]
    public void Quantize_matches_the_naive_twin_exactly_on_every_path(Shape s)
    {
        var random = new SeededRandom(s.Seed);
        int n = s.Cols;
        float[] a = TestData.Uniform(n, ref random, -3, 3);
        if (s.Rows % 3 == 0)
        {
            // Non-negative, as after a sigmoid or ReLU: zero point 0.
            for (int k = 0; k < n; k++)
            {
                a[k] = Math.Abs(a[k]);
            }
        }

        Assert.True(ActivationScale.TryChoose(a, out ActivationScale scale));
        Check(a, scale.Inverse, scale.ZeroPoint, s.ToString());

        // Ties: halves times 1 round to even; and values beyond the codes clamp to 0 and 127.
        float[] ties = Enumerable.Range(0, n).Select(k => (k % 300) - 150.5f).ToArray();
        Check(ties, 1f, random.NextInt(128), $"ties, {s}");
    }

    [Property]
    public void Range_matches_the_naive_twin_exactly_on_every_path(Shape s)
    {
        var random = new SeededRandom(s.Seed);
        float[] a = TestData.Mixed(s.Cols, ref random);
        float[] poisoned = (float[])a.Clone();
        poisoned[random.NextInt(s.Cols)] = (s.Rows % 3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity };
        Assert.True(NaiveInt8.Range(a, out float min, out float max));
        Assert.False(NaiveInt8.Range(poisoned, out _, out _));
        foreach (Int8Path path in Paths)
        {
            Assert.True(Int8Quantize.Range(a, out float fastMin, out float fastMax, path), $"{path}, {s}");
            Assert.True(fastMin == min && fastMax == max, $"{path}, {s}: [{fastMin}, {fastMax}], expected [{min}, {max}]"); // == : -0 and 0 are one bound
            Assert.False(Int8Quantize.Range(poisoned, out _, out _, path), $"{path}, {s}, poisoned");
        }
    }

    private static void Check(float[] a, float inverse, int zeroPoint, string what)
    {
        byte[] expected = new byte[a.Length];
        NaiveInt8.Quantize(a, inverse, zeroPoint, expected);
        foreach (Int8Path path in Paths)
        {
            byte[] fast = Enumerable.Repeat((byte)200, a.Length + 2).ToArray();
            Int8Quantize.Quantize(a, inverse, zeroPoint, fast, path);
            Assert.True(expected.AsSpan().SequenceEqual(fast.AsSpan(0, a.Length)), $"{path}, {what}, inverse {inverse}, zero point {zeroPoint}");
            Assert.Equal([200, 200], fast[a.Length..]);
        }
    }

    [Fact]
    public void The_default_path_is_the_widest_this_processor_runs_within_the_chosen_width()
    {
        Int8Path expected = SimdWidth.Bits >= 256 && System.Runtime.Intrinsics.X86.AvxVnni.IsSupported ? Int8Path.AvxVnni
            : SimdWidth.Bits >= 256 && System.Runtime.Intrinsics.X86.Avx2.IsSupported ? Int8Path.Avx2
            : SimdWidth.Bits >= 128 && System.Runtime.Intrinsics.X86.Ssse3.IsSupported ? Int8Path.Ssse3
            : SimdWidth.Bits >= 128 ? Int8Path.Widening128
            : Int8Path.Scalar;
        Assert.Equal(expected, Int8MatrixVector.DefaultPath);
        Assert.Equal(Int8Path.Scalar, Int8MatrixVector.Choose(32));
    }
}

/// <summary>
/// A random quad-major product and its naive result (every quad: skipping the zero ones changes nothing): 1 to 300 rows
/// and columns, weights in [-127, 127] with the padding 0, a third of the codes 0 so that quads are skipped, trailing
/// codes past the last quad, and the extremes: a row of -127s and a row of 127s against a run of the largest code.
/// </summary>
internal sealed record QuadProduct(sbyte[] W, int Rows, int QuadCount, byte[] U, int[] Quads, int[] Expected)
{
    public delegate void Multiply(ReadOnlySpan<sbyte> w, int rows, int quadCount, ReadOnlySpan<byte> u, ReadOnlySpan<int> quads, Span<int> y);

    public static QuadProduct Random(Shape s, int maxCode)
    {
        var random = new SeededRandom(s.Seed);
        int padded = Int8MatrixVector.PaddedRows(s.Rows), quadCount = Int8MatrixVector.Quads(s.Cols);
        sbyte[] w = new sbyte[quadCount * padded * 4];
        for (int j = 0; j < s.Rows; j++)
        {
            for (int k = 0; k < s.Cols; k++)
            {
                w[(((k / 4) * padded) + j) * 4 + (k % 4)] = (sbyte)(random.NextInt(255) - 127); // the padding stays 0
            }
        }

        byte[] u = new byte[(quadCount * 4) + random.NextInt(40)];
        for (int k = 0; k < s.Cols; k++)
        {
            u[k] = random.NextInt(3) == 0 ? (byte)0 : (byte)random.NextInt(maxCode + 1);
        }

        int low = random.NextInt(s.Rows), high = random.NextInt(s.Rows);
        for (int k = 0; k < s.Cols; k++)
        {
            w[(((k / 4) * padded) + low) * 4 + (k % 4)] = -127;
            w[(((k / 4) * padded) + high) * 4 + (k % 4)] = 127;
        }

        u.AsSpan(0, random.NextInt(s.Cols + 1)).Fill((byte)maxCode);
        var expected = new int[padded];
        NaiveInt8.QuadMatrixVector(w, padded, quadCount, u, expected);
        return new QuadProduct(w, s.Rows, quadCount, u, NaiveInt8.NonzeroQuads(u, quadCount), expected);
    }

    /// <summary>Runs <paramref name="multiply"/> into garbage and checks every padded row, and nothing written past them.</summary>
    public void Check(Multiply multiply, string what)
    {
        int[] fast = Enumerable.Repeat(-12345, Expected.Length + 3).ToArray();
        multiply(W, Rows, QuadCount, U, Quads, fast);
        Assert.True(Expected.AsSpan().SequenceEqual(fast.AsSpan(0, Expected.Length)), what);
        Assert.All(fast[Expected.Length..], v => Assert.Equal(-12345, v));
    }
}

/// <summary><c>vpdpbusd</c> in software, lane by lane from its definition (<see cref="NaiveInt8.QuadDot"/>): the
/// strategy that runs the AVX-VNNI kernel on a processor without the instruction. Tests only.</summary>
internal readonly struct EmulatedVpdpbusd : IQuadDot256
{
    public static bool IsSupported => true;

    public static Vector256<int> Accumulate(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> w)
    {
        Span<byte> codes = stackalloc byte[32];
        Span<sbyte> weights = stackalloc sbyte[32];
        Span<int> lanes = stackalloc int[8];
        u.CopyTo(codes);
        w.CopyTo(weights);
        for (int i = 0; i < 8; i++)
        {
            lanes[i] = NaiveInt8.QuadDot(acc[i], codes.Slice(4 * i, 4), weights.Slice(4 * i, 4));
        }

        return Vector256.Create<int>(lanes);
    }
}
