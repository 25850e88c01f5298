using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>
/// The strided kernel through packed panels (GemmPanels.cs) against the same kernel without them, bit for bit, and
/// against the naive twins within the bound of two evaluations of one sum; and the accumulating form BatchInference
/// uses against the outer-product kernel, bit for bit.
/// </summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 40)]
public class GemmPanelPropertyTests
{
    public static IEnumerable<int> Widths => GemmPropertyTests.Widths;

    [Property]
    public void Panels_change_no_bit_and_match_naive(Shape s, byte samples)
    {
        // rows: every remainder of the 12-, 6-, 4- and 2-row tiles; sums past 128 run in blocks of 64 when C is only
        // written; cols: whole strips, single vectors, tails, fewer than one vector.
        int rows = 1 + (samples % 29), sums = s.Rows, cols = s.Cols;
        var random = new SeededRandom(s.Seed);
        float[] lhs = TestData.Mixed(rows * sums, ref random), r = TestData.Mixed(sums * cols, ref random);
        (float[] pool, int[] picks) = Scatter(r, sums, cols, ref random);
        float alpha = (float)((random.NextDouble() * 4) - 2), beta = 1 - (float)random.NextDouble();
        foreach ((int rowStride, int sumStride) in new[] { (1, rows), (sums, 1) }) // the gradient's Delta^T, BP2's Delta
        {
            var naive = new float[rows * cols];
            NaiveKernels.MultiplyRows(lhs, rowStride, sumStride, r, naive, rows, sums, cols);
            float[] before = TestData.Mixed(rows * cols, ref random);
            foreach (int bits in Widths)
            {
                float[] packed = TestData.Mixed(rows * cols, ref random), plain = new float[rows * cols], picked = new float[rows * cols], twelve = new float[rows * cols];
                float[] foldPacked = (float[])before.Clone(), foldPlain = (float[])before.Clone();
                Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, packed, rows, sums, cols, 0, rows, 1f, 0f, bits, Gemm.Panels.Always);
                Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, plain, rows, sums, cols, 0, rows, 1f, 0f, bits, Gemm.Panels.Never);
                Gemm.MultiplyStrided(lhs, rowStride, sumStride, pool, picks, picked, rows, sums, cols, 0, rows, 1f, 0f, bits, Gemm.Panels.Always);
                Gemm.MultiplyStrided(lhs, rowStride, sumStride, pool, picks, twelve, rows, sums, cols, 0, rows, 1f, 0f, bits, Gemm.Panels.Twelve);
                Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, foldPacked, rows, sums, cols, 0, rows, alpha, beta, bits, Gemm.Panels.Always);
                Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, foldPlain, rows, sums, cols, 0, rows, alpha, beta, bits, Gemm.Panels.Never);
                Assert.Equal(plain, packed);
                Assert.Equal(plain, picked);
                Assert.Equal(plain, twelve);
                Assert.Equal(foldPlain, foldPacked);

                for (int i = 0; i < packed.Length; i++)
                {
                    int row = i / cols, q = i % cols;
                    double magnitude = 0;
                    for (int t = 0; t < sums; t++)
                    {
                        magnitude += Math.Abs((double)lhs[(row * rowStride) + (t * sumStride)] * r[(t * cols) + q]);
                    }

                    AssertClose(naive[i], packed[i], Tolerance.BetweenTwoSums(sums, magnitude), $"C[{row},{q}] of {rows}x{sums}x{cols} at {bits} bits");
                }
            }
        }
    }

    [Property]
    public void MultiplyAccumulate_from_the_bias_is_the_outer_product(Shape s, byte samples)
    {
        // C = bias in every row, then C += A B: each output is the outer-product kernel's chain (bias, then p in
        // order), with or without panels, and within the two-sums bound of the naive A B + bias.
        int m = 1 + (samples % 29), k = s.Rows, n = s.Cols;
        var random = new SeededRandom(s.Seed);
        float[] a = TestData.Mixed(m * k, ref random), b = TestData.Mixed(k * n, ref random), bias = TestData.Mixed(n, ref random);
        var naive = new float[m * n];
        NaiveKernels.MultiplyAddBias(a, b, bias, naive, m, n, k);
        foreach (int bits in Widths)
        {
            var outer = new float[m * n];
            Gemm.Multiply(a, b, bias, outer, m, n, k, skipZeroInputs: false, bits);
            foreach (Gemm.Panels panels in new[] { Gemm.Panels.Always, Gemm.Panels.Never, Gemm.Panels.Auto, Gemm.Panels.Twelve })
            {
                var c = new float[m * n];
                for (int i = 0; i < m; i++)
                {
                    bias.CopyTo(c, i * n);
                }

                Gemm.MultiplyAccumulate(a, k, 1, b, c, m, k, n, 0, m, bits, panels);
                Assert.Equal(outer, c);
            }

            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double magnitude = Math.Abs((double)bias[j]);
                    for (int p = 0; p < k; p++)
                    {
                        magnitude += Math.Abs((double)a[(i * k) + p] * b[(p * n) + j]);
                    }

                    AssertClose(naive[(i * n) + j], outer[(i * n) + j], Tolerance.BetweenTwoSums(k + 1, magnitude), $"C[{i},{j}] of {m}x{n}x{k} at {bits} bits");
                }
            }
        }
    }

    [Fact]
    public void Splitting_rows_among_workers_through_panels_changes_no_bit()
    {
        // The gradient's shape of a wide layer in miniature (sums 100, folded) and BP2's (sums 300, blocked), split at every row.
        var random = new SeededRandom(11);
        int rows = 31, cols = 77;
        foreach ((int sums, int rowStride, int sumStride, float beta) in new[] { (100, 1, 31, 1f), (300, 300, 1, 0f) })
        {
            float[] lhs = TestData.Mixed(rows * sums, ref random), r = TestData.Mixed(sums * cols, ref random), start = TestData.Mixed(rows * cols, ref random);
            float[] whole = (float[])start.Clone();
            Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, whole, rows, sums, cols, 0, rows, 0.5f, beta, SimdWidth.Bits, Gemm.Panels.Always);
            for (int split = 1; split < rows; split++)
            {
                float[] parts = (float[])start.Clone();
                Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, parts, rows, sums, cols, 0, split, 0.5f, beta, SimdWidth.Bits, Gemm.Panels.Always);
                Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, parts, rows, sums, cols, split, rows, 0.5f, beta, SimdWidth.Bits, Gemm.Panels.Always);
                Assert.Equal(whole, parts);
            }
        }
    }

    [Fact]
    public void Rows_of_A_copied_apart_for_the_forward_product_change_no_bit()
    {
        // Inputs of 1024 and 2048 (rows a multiple of 4 KiB apart): the four-row tiles read copies of A's rows 64 bytes
        // apart where the L1 has fewer than 12 ways, A in place otherwise, and one row at a time reads A in place; B in
        // blocks of 256 or 512 KiB. Each C element is the same sum every way, and near the naive one.
        var random = new SeededRandom(21);
        foreach (int k in new[] { 1024, 2048 })
        {
            int m = 9, n = 70; // 70 rows of 2048 floats: more than one block of either size
            float[] a = TestData.Mixed(m * k, ref random), b = TestData.Mixed(n * k, ref random), bias = TestData.Mixed(n, ref random);
            var naive = new float[m * n];
            NaiveKernels.MultiplyTransposedAddBias(a, b, bias, naive, m, n, k);
            foreach (int bits in Widths)
            {
                var tiled = new float[m * n];
                Gemm.MultiplyTransposed(a, default, b, bias, tiled, m, n, k, 0, n, bits);
                foreach (Gemm.Blocking blocking in new Gemm.Blocking[] { new(256 * 1024, true), new(256 * 1024, false), new(512 * 1024, true), new(512 * 1024, false) })
                {
                    var blocked = new float[m * n];
                    Gemm.MultiplyTransposed(a, default, b, bias, blocked, m, n, k, 0, n, bits, blocking);
                    Assert.True(tiled.AsSpan().SequenceEqual(blocked), $"{m}x{n}x{k} at {bits} bits, {blocking}");
                }

                for (int i = 0; i < m; i++)
                {
                    var alone = new float[n];
                    Gemm.MultiplyTransposed(a.AsSpan(i * k, k), default, b, bias, alone, 1, n, k, 0, n, bits);
                    Assert.Equal(alone, tiled.AsSpan(i * n, n).ToArray());
                    for (int j = 0; j < n; j++)
                    {
                        double magnitude = Math.Abs((double)bias[j]);
                        for (int p = 0; p < k; p++)
                        {
                            magnitude += Math.Abs((double)a[(i * k) + p] * b[(j * k) + p]);
                        }

                        AssertClose(naive[(i * n) + j], tiled[(i * n) + j], Tolerance.BetweenTwoSums(k + 1, magnitude), $"C[{i},{j}] of {m}x{n}x{k} at {bits} bits");
                    }
                }
            }
        }
    }

    [Fact]
    public void Panels_allocate_nothing()
    {
        // The wide layer's three strided products at m = 100: the panels live on the stack.
        var random = new SeededRandom(3);
        int m = 100, n = 1024, k = 1024;
        float[] delta = TestData.Mixed(m * n, ref random), w = TestData.Mixed(n * k, ref random), x = TestData.Mixed(m * k, ref random);
        float[] below = new float[m * k], z = new float[m * n];
        Run(); // JIT first
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Run()
        {
            Gemm.MultiplyStrided(delta, 1, n, x, default, w, n, m, k, 0, n, -1e-3f, 1f); // the folded gradient
            Gemm.MultiplyStrided(delta, n, 1, w, default, below, m, n, k, 0, m, 1f, 0f); // BP2
            Gemm.MultiplyAccumulate(x, k, 1, w, z, m, k, n, 0, m); // batched inference
            Gemm.MultiplyTransposed(x, default, w, delta.AsSpan(0, n), z, m, n, k, 0, n); // the forward product, rows copied apart
        }
    }

    // The rows of an m x k matrix copied into a larger matrix at shuffled places, and where each one went.
    private static (float[] Pool, int[] Picks) Scatter(float[] matrix, int m, int k, ref SeededRandom random)
    {
        int poolRows = m + 5;
        var order = Enumerable.Range(0, poolRows).ToArray();
        random.Shuffle(order);
        float[] pool = TestData.Mixed(poolRows * k, ref random);
        int[] picks = order[..m];
        for (int i = 0; i < m; i++)
        {
            matrix.AsSpan(i * k, k).CopyTo(pool.AsSpan(picks[i] * k, k));
        }

        return (pool, picks);
    }

    private static void AssertClose(double expected, double actual, double tolerance, string what)
    {
        double error = Math.Abs(expected - actual);
        Assert.True(error <= tolerance, $"{what}: expected {expected:R}, got {actual:R}, |error| {error:E3} > tolerance {tolerance:E3}");
    }
}
