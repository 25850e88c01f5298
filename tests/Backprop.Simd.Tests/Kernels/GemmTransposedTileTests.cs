using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>
/// The forward product's tiles (4, 2 or 1 rows of A by 3, 2 or 1 rows of B, and 2 by 6, 10 by 2 and a row against 7 to
/// 12 short ones with 32 vector registers and batched sums, as AVX-512 has) all compute each element of C as the same sum in the same order: a row of C is bit
/// for bit the row computed alone, whichever tile it fell in.
/// </summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 40)]
public class GemmTransposedTileTests
{
    [Property]
    public void Each_row_is_the_same_bits_whatever_tile_computes_it(Shape s, byte samples)
    {
        int m = 1 + (samples % 23), n = s.Rows, k = s.Cols; // m up to 23: every remainder of 4 rows, twice over; from 10 on, a ten-row tile first
        var random = new SeededRandom(s.Seed);
        float[] a = TestData.Mixed(m * k, ref random), b = TestData.Mixed(n * k, ref random), bias = TestData.Mixed(n, ref random);
        int[] picks = Picks(m, ref random);
        float[] pool = Pool(a, picks, m, k, ref random);

        foreach (int bits in GemmPropertyTests.Widths)
        {
            var whole = new float[m * n];
            var picked = new float[m * n];
            Gemm.MultiplyTransposed(a, default, b, bias, whole, m, n, k, 0, n, bits);
            Gemm.MultiplyTransposed(pool, picks, b, bias, picked, m, n, k, 0, n, bits);
            Assert.Equal(whole, picked);
            AssertRowsAlone(a, b, bias, whole, m, n, k, bits);
        }
    }

    /// <summary>A small layer's product (7 to 12 columns, rows one to two vectors long), which computes a row of A against
    /// all its columns at once, gives every element the bits of the same columns among more than twelve, which go
    /// through the tiles; for a block of columns inside a wider C and for picked rows of A too; and it writes nothing
    /// outside its block.</summary>
    [Property]
    public void Short_rows_against_few_columns_are_the_tiles_bits(byte samples, byte columns, byte length, ulong seed)
    {
        int m = 1 + (samples % 23), n = 1 + (columns % 12), wide = n + 13;
        const float Guard = 12345.5f;
        var random = new SeededRandom(seed);
        foreach (int bits in GemmPropertyTests.Widths)
        {
            int w = Math.Max(1, bits / 32), k = w + (length % (w + 1)); // [w, 2w]: one vector and a tail, or two
            float[] a = TestData.Mixed(m * k, ref random), b = TestData.Mixed(wide * k, ref random), bias = TestData.Mixed(wide, ref random);
            var tiles = new float[m * wide];
            Gemm.MultiplyTransposed(a, default, b, bias, tiles, m, wide, k, 0, wide, bits);

            float[] few = Enumerable.Repeat(Guard, (m * n) + 16).ToArray(); // 16 floats past the end must stay as they are
            Gemm.MultiplyTransposed(a, default, b.AsSpan(0, n * k), bias.AsSpan(0, n), few.AsSpan(0, m * n), m, n, k, 0, n, bits);
            float[] block = Enumerable.Repeat(Guard, m * wide).ToArray();
            int[] picks = Picks(m, ref random);
            Gemm.MultiplyTransposed(Pool(a, picks, m, k, ref random), picks, b, bias, block, m, wide, k, 5, 5 + n, bits);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < wide; j++)
                {
                    float expected = j >= 5 && j < 5 + n ? tiles[(i * wide) + j] : Guard;
                    Assert.True(Bits(expected) == Bits(block[(i * wide) + j]), $"C[{i},{j}] of columns 5 to {5 + n} of {m}x{wide}x{k} at {bits} bits");
                    if (j < n)
                    {
                        Assert.True(Bits(tiles[(i * wide) + j]) == Bits(few[(i * n) + j]), $"C[{i},{j}] of {m}x{n}x{k} at {bits} bits");
                    }
                }
            }

            Assert.All(few.AsSpan(m * n).ToArray(), g => Assert.Equal(Guard, g));
        }
    }

    private static int Bits(float x) => BitConverter.SingleToInt32Bits(x);

    [Theory]
    [InlineData(1024, 15)]
    [InlineData(2048, 7)]
    [InlineData(4096, 5)]
    public void Rows_a_multiple_of_4_KiB_long_give_the_same_sums_copied_or_not(int k, int maxM)
    {
        // k * 4 bytes a multiple of 4096: the tiles read copies of A's rows where the L1 has fewer than 12 ways or
        // the rows are off cache lines at 512 bits, else the rows themselves (GemmPanelPropertyTests compares both);
        // n = 7 reaches the 2- and 1-column tiles.
        const int n = 7;
        var random = new SeededRandom((ulong)k);
        float[] b = TestData.Mixed(n * k, ref random), bias = TestData.Mixed(n, ref random);
        for (int m = 1; m <= maxM; m++)
        {
            float[] a = TestData.Mixed(m * k, ref random);
            var naive = new float[m * n];
            NaiveKernels.MultiplyTransposedAddBias(a, b, bias, naive, m, n, k);
            foreach (int bits in GemmPropertyTests.Widths)
            {
                var fast = TestData.Mixed(m * n, ref random); // garbage must be overwritten
                Gemm.MultiplyTransposed(a, default, b, bias, fast, m, n, k, 0, n, bits);
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        double magnitude = Math.Abs((double)bias[j]);
                        for (int p = 0; p < k; p++)
                        {
                            magnitude += Math.Abs((double)a[(i * k) + p] * b[(j * k) + p]);
                        }

                        double error = Math.Abs((double)naive[(i * n) + j] - fast[(i * n) + j]);
                        Assert.True(error <= Tolerance.BetweenTwoSums(k + 1, magnitude), $"C[{i},{j}] of {m}x{n}x{k} at {bits} bits: |error| {error:E3}");
                    }
                }

                AssertRowsAlone(a, b, bias, fast, m, n, k, bits);
            }
        }
    }

    /// <summary>The first layer's shape in training: rows of 784 floats on cache lines (the arenas' alignment), which at 512
    /// bits go through the ten-row tile rather than the padded copy; m from 10 to 23, n odd and even.</summary>
    [Theory]
    [InlineData(30)]
    [InlineData(7)]
    public void Rows_on_cache_lines_through_the_ten_row_tile_are_the_rows_alone(int n)
    {
        const int k = 784;
        var random = new SeededRandom((ulong)n);
        float[] b = TestData.Mixed(n * k, ref random), bias = TestData.Mixed(n, ref random);
        for (int m = 10; m <= 23; m += 13)
        {
            var a = new AlignedFloats(m * k);
            TestData.Mixed(m * k, ref random).CopyTo(a.Span);
            foreach (int bits in GemmPropertyTests.Widths)
            {
                var whole = new float[m * n];
                Gemm.MultiplyTransposed(a.Span, default, b, bias, whole, m, n, k, 0, n, bits);
                AssertRowsAlone(a.Span.ToArray(), b, bias, whole, m, n, k, bits);
            }
        }
    }

    // Row i of C computed with m = 1 (the one-row tiles, never padded) equals row i of the whole product, bit for bit.
    private static void AssertRowsAlone(float[] a, float[] b, float[] bias, float[] whole, int m, int n, int k, int bits)
    {
        var alone = new float[n];
        for (int i = 0; i < m; i++)
        {
            Gemm.MultiplyTransposed(a.AsSpan(i * k, k), default, b, bias, alone, 1, n, k, 0, n, bits);
            Assert.True(alone.AsSpan().SequenceEqual(whole.AsSpan(i * n, n)), $"row {i} of {m}x{n}x{k} at {bits} bits differs from the row alone");
        }
    }

    // m distinct rows out of m + 5, shuffled: the mini-batch's samples picked out of the training set.
    private static int[] Picks(int m, ref SeededRandom random)
    {
        var order = Enumerable.Range(0, m + 5).ToArray();
        random.Shuffle(order);
        return order[..m];
    }

    private static float[] Pool(float[] a, int[] picks, int m, int k, ref SeededRandom random)
    {
        float[] pool = TestData.Mixed((m + 5) * k, ref random);
        for (int i = 0; i < m; i++)
        {
            a.AsSpan(i * k, k).CopyTo(pool.AsSpan(picks[i] * k, k));
        }

        return pool;
    }
}
