using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>The blocked matrix products against their naive twins, at every vector width this machine runs.</summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 60)]
public class GemmPropertyTests
{
    // 32 is the scalar path (one-lane "vectors"), which runs everywhere.
    public static IEnumerable<int> Widths => new[] { 32, 128, 256, 512 }.Where(bits => bits <= SimdWidth.MaximumSupportedBits);

    [Property]
    public void MultiplyTransposed_matches_naive(Shape s, byte samples)
    {
        int m = 1 + (samples % 23), n = s.Rows, k = s.Cols; // m up to 23: every 4-row remainder; n: every 3-column remainder
        var random = new SeededRandom(s.Seed);
        float[] a = TestData.Mixed(m * k, ref random), b = TestData.Mixed(n * k, ref random), bias = TestData.Mixed(n, ref random);
        var naive = new float[m * n];
        NaiveKernels.MultiplyTransposedAddBias(a, b, bias, naive, m, n, k);
        // The same rows of A, picked by index out of a larger, shuffled matrix (as the mini-batch's samples are).
        (float[] pool, int[] picks) = Scatter(a, m, k, ref random);

        foreach (int bits in Widths)
        {
            var fast = TestData.Mixed(m * n, ref random); // garbage must be overwritten
            var picked = new float[m * n];
            Gemm.MultiplyTransposed(a, default, b, bias, fast, m, n, k, 0, n, bits);
            Gemm.MultiplyTransposed(pool, picks, b, bias, picked, m, n, k, 0, n, bits);

            Assert.Equal(fast, picked);

            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double magnitude = Math.Abs((double)bias[j]);
                    for (int p = 0; p < k; p++)
                    {
                        magnitude += Math.Abs((double)a[(i * k) + p] * b[(j * k) + p]);
                    }

                    AssertClose(naive[(i * n) + j], fast[(i * n) + j], Tolerance.BetweenTwoSums(k + 1, magnitude), $"C[{i},{j}] of {m}x{n}x{k} at {bits} bits");
                }
            }
        }

    }

    [Property]
    public void Multiply_matches_naive(Shape s, byte samples)
    {
        int m = 1 + (samples % 27), n = s.Rows, k = s.Cols; // m up to 27: every 8- and 4-row remainder; n: vector multiples and tails
        var random = new SeededRandom(s.Seed);
        float[] a = TestData.Mixed(m * k, ref random), b = TestData.Mixed(k * n, ref random), bias = TestData.Mixed(n, ref random);
        var naive = new float[m * n];
        NaiveKernels.MultiplyAddBias(a, b, bias, naive, m, n, k);
        var transposed = new float[n * k];
        Gemm.Transpose(b, k, n, transposed);
        foreach (int bits in Widths)
        {
            var fast = TestData.Mixed(m * n, ref random); // garbage must be overwritten
            Assert.Equal(0, Gemm.Multiply(a, b, bias, fast, m, n, k, skipZeroInputs: false, bits));

            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double magnitude = Math.Abs((double)bias[j]);
                    for (int p = 0; p < k; p++)
                    {
                        magnitude += Math.Abs((double)a[(i * k) + p] * b[(p * n) + j]);
                    }

                    AssertClose(naive[(i * n) + j], fast[(i * n) + j], Tolerance.BetweenTwoSums(k + 1, magnitude), $"C[{i},{j}] of {m}x{n}x{k} at {bits} bits");
                }
            }
        }

        // Skipping the columns that are zero in a whole block of eight rows gives the same numbers as not skipping:
        // blank out most columns (in every row) and a scattering of single entries, as in images.
        for (int p = 0; p < k; p++)
        {
            bool blank = random.NextUInt64() % 4 != 0;
            for (int i = 0; i < m; i++)
            {
                if (blank || random.NextUInt64() % 3 == 0)
                {
                    a[(i * k) + p] = (i + p) % 5 == 0 ? -0f : 0f;
                }
            }
        }

        foreach (int bits in Widths)
        {
            var dense = new float[m * n];
            var skipping = new float[m * n];
            Gemm.Multiply(a, b, bias, dense, m, n, k, skipZeroInputs: false, bits);
            int sparseBlocks = Gemm.Multiply(a, b, bias, skipping, m, n, k, skipZeroInputs: true, bits);
            Assert.InRange(sparseBlocks, 0, m / 8);

            Assert.Equal(dense, skipping); // float equality: a zero sum may differ in sign only
        }

        // The same product from W = B^T in the other shape agrees within the same bound (the forward pass either way).
        var viaPublic = new float[m * n];
        var dotForm = new float[m * n];
        Gemm.Multiply(a, b, bias, viaPublic, m, n, k, skipZeroInputs: false);
        Gemm.MultiplyTransposed(a, default, transposed, bias, dotForm, m, n, k, 0, n);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double magnitude = Math.Abs((double)bias[j]);
                for (int p = 0; p < k; p++)
                {
                    magnitude += Math.Abs((double)a[(i * k) + p] * b[(p * n) + j]);
                }

                AssertClose(dotForm[(i * n) + j], viaPublic[(i * n) + j], Tolerance.BetweenTwoSums(k + 1, magnitude), $"C[{i},{j}] of {m}x{n}x{k}, both shapes");
            }
        }
    }

    [Property]
    public void MultiplyStrided_matches_naive_in_both_stridings(Shape s, byte samples)
    {
        int m = 1 + (samples % 23), n = Math.Min(s.Rows, 120), cols = s.Cols;
        var random = new SeededRandom(s.Seed);
        float[] delta = TestData.Mixed(m * n, ref random);
        // nabla_W = Delta^T A (rows n, sums m) and BP2's Delta W (rows m, sums n)
        foreach ((int rows, int sums, int rowStride, int sumStride) in new[] { (n, m, 1, n), (m, n, n, 1) })
        {
            float[] r = TestData.Mixed(sums * cols, ref random);
            (float[] pool, int[] picks) = Scatter(r, sums, cols, ref random);
            var naive = new float[rows * cols];
            NaiveKernels.MultiplyRows(delta, rowStride, sumStride, r, naive, rows, sums, cols);
            foreach (int bits in Widths)
            {
                var fast = TestData.Mixed(rows * cols, ref random);
                float[] before = TestData.Mixed(rows * cols, ref random), folded = (float[])before.Clone();
                var picked = new float[rows * cols];
                Gemm.MultiplyStrided(delta, rowStride, sumStride, r, default, fast, rows, sums, cols, 0, rows, 1f, 0f, bits);
                Gemm.MultiplyStrided(delta, rowStride, sumStride, pool, picks, picked, rows, sums, cols, 0, rows, 1f, 0f, bits);
                Gemm.MultiplyStrided(delta, rowStride, sumStride, r, default, folded, rows, sums, cols, 0, rows, -0.375f, 0.75f, bits);

                // Picked rows with the folded steps, as the first layer's gradient runs them (beta = 1: no weight decay).
                float[] foldedPicked = (float[])before.Clone(), unitPicked = (float[])before.Clone();
                Gemm.MultiplyStrided(delta, rowStride, sumStride, pool, picks, foldedPicked, rows, sums, cols, 0, rows, -0.375f, 0.75f, bits);
                Gemm.MultiplyStrided(delta, rowStride, sumStride, pool, picks, unitPicked, rows, sums, cols, 0, rows, -0.375f, 1f, bits);

                Assert.Equal(fast, picked);
                for (int i = 0; i < fast.Length; i++)
                {
                    // The fold is exactly (C * beta) + (alpha * t) with t the stored result: the same bits as a separate update.
                    Assert.Equal((before[i] * 0.75f) + (-0.375f * fast[i]), folded[i]);
                    Assert.Equal((before[i] * 0.75f) + (-0.375f * fast[i]), foldedPicked[i]);
                    Assert.Equal(before[i] + (-0.375f * fast[i]), unitPicked[i]);
                }

                for (int row = 0; row < rows; row++)
                {
                    for (int q = 0; q < cols; q++)
                    {
                        double magnitude = 0;
                        for (int t = 0; t < sums; t++)
                        {
                            magnitude += Math.Abs((double)delta[(row * rowStride) + (t * sumStride)] * r[(t * cols) + q]);
                        }

                        AssertClose(naive[(row * cols) + q], fast[(row * cols) + q], Tolerance.BetweenTwoSums(sums, magnitude), $"C[{row},{q}] of {rows}x{sums}x{cols} at {bits} bits");
                    }
                }
            }
        }
    }

    [Property(MaxTest = 25)]
    public void MultiplyStrided_on_long_sums_in_blocks_changes_no_bit(Shape s, byte samples)
    {
        // Sums past twice the kernel's block of R rows (BP2 of a wide layer) run block by block, C holding the partial
        // sums: the same chain of multiply-adds as unblocked. Unblocked here is alpha = 2 (C is only written, but not
        // plainly), whose results are exactly twice the plain ones when nothing overflows.
        int rows = 1 + (samples % 23), sums = 100 + s.Rows, cols = s.Cols;
        var random = new SeededRandom(s.Seed);
        float[] lhs = TestData.Mixed(rows * sums, ref random);
        foreach ((int rowStride, int sumStride) in new[] { (sums, 1), (1, rows) })
        {
            float[] r = TestData.Mixed(sums * cols, ref random);
            (float[] pool, int[] picks) = Scatter(r, sums, cols, ref random);
            var naive = new float[rows * cols];
            NaiveKernels.MultiplyRows(lhs, rowStride, sumStride, r, naive, rows, sums, cols);
            foreach (int bits in Widths)
            {
                float[] plain = TestData.Mixed(rows * cols, ref random), picked = new float[rows * cols], doubled = new float[rows * cols];
                Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, plain, rows, sums, cols, 0, rows, 1f, 0f, bits);
                Gemm.MultiplyStrided(lhs, rowStride, sumStride, pool, picks, picked, rows, sums, cols, 0, rows, 1f, 0f, bits);
                Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, doubled, rows, sums, cols, 0, rows, 2f, 0f, bits);
                Assert.Equal(plain, picked);
                for (int i = 0; i < plain.Length; i++)
                {
                    Assert.Equal(2 * plain[i], doubled[i]);
                    int row = i / cols, q = i % cols;
                    double magnitude = 0;
                    for (int t = 0; t < sums; t++)
                    {
                        magnitude += Math.Abs((double)lhs[(row * rowStride) + (t * sumStride)] * r[(t * cols) + q]);
                    }

                    AssertClose(naive[i], plain[i], Tolerance.BetweenTwoSums(sums, magnitude), $"C[{row},{q}] of {rows}x{sums}x{cols} at {bits} bits");
                }
            }
        }
    }

    [Property]
    public void Every_tile_gives_the_bits_of_a_row_computed_alone(Shape s, byte samples)
    {
        // A row alone runs the one-row paths: each element one chain over s in order. The tiles (six by two, four by
        // two, ... and their remainders, and the packed panels) must give those bits for every epilogue, in-order or
        // picked rows of R, both stridings. rows: every remainder of 4 and 6; sums: short (whole rows) and long.
        int rows = 1 + (samples % 37), sums = 1 + (s.Rows % 40), cols = s.Cols;
        var random = new SeededRandom(s.Seed);
        float[] lhs = TestData.Mixed(rows * sums, ref random), r = TestData.Mixed(sums * cols, ref random);
        (float[] pool, int[] picks) = Scatter(r, sums, cols, ref random);
        float[] before = TestData.Mixed(rows * cols, ref random);
        foreach ((int rowStride, int sumStride) in new[] { (1, rows), (sums, 1) })
        {
            foreach (int bits in Widths)
            {
                foreach ((float alpha, float beta) in new[] { (1f, 0f), (-0.375f, 0f), (-0.375f, 0.75f), (-0.375f, 1f) })
                {
                    float[] whole = (float[])before.Clone(), wholePicked = (float[])before.Clone(), alone = (float[])before.Clone();
                    Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, whole, rows, sums, cols, 0, rows, alpha, beta, bits, Gemm.Panels.Never);
                    Gemm.MultiplyStrided(lhs, rowStride, sumStride, pool, picks, wholePicked, rows, sums, cols, 0, rows, alpha, beta, bits, Gemm.Panels.Never);
                    for (int row = 0; row < rows; row++)
                    {
                        Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, alone, rows, sums, cols, row, row + 1, alpha, beta, bits, Gemm.Panels.Never);
                    }

                    Assert.Equal(alone, whole);
                    Assert.Equal(alone, wholePicked);
                }

                // Chains that start from what C holds (C += L R).
                float[] accumulated = (float[])before.Clone(), accumulatedAlone = (float[])before.Clone();
                Gemm.MultiplyAccumulate(lhs, rowStride, sumStride, r, accumulated, rows, sums, cols, 0, rows, bits, Gemm.Panels.Never);
                for (int row = 0; row < rows; row++)
                {
                    Gemm.MultiplyAccumulate(lhs, rowStride, sumStride, r, accumulatedAlone, rows, sums, cols, row, row + 1, bits, Gemm.Panels.Never);
                }

                Assert.Equal(accumulatedAlone, accumulated);
            }
        }
    }

    [Fact]
    public void Splitting_the_output_among_workers_changes_no_bit()
    {
        // Any split point: the workers' shares are not always multiples of a tile.
        var random = new SeededRandom(5);
        int m = 13, n = 29, k = 101;
        float[] a = TestData.Mixed(m * k, ref random), b = TestData.Mixed(n * k, ref random), bias = TestData.Mixed(n, ref random);
        var whole = new float[m * n];
        var rowsWhole = new float[n * k];
        Gemm.MultiplyTransposed(a, default, b, bias, whole, m, n, k, 0, n);
        Gemm.MultiplyStrided(a, 1, n, b, default, rowsWhole, n, m, k, 0, n, 1f, 0f); // uses a as an m x n left factor
        for (int split = 1; split < n; split++)
        {
            var parts = new float[m * n];
            Gemm.MultiplyTransposed(a, default, b, bias, parts, m, n, k, 0, split);
            Gemm.MultiplyTransposed(a, default, b, bias, parts, m, n, k, split, n);
            Assert.Equal(whole, parts);

            var rowsParts = new float[n * k];
            Gemm.MultiplyStrided(a, 1, n, b, default, rowsParts, n, m, k, 0, split, 1f, 0f);
            Gemm.MultiplyStrided(a, 1, n, b, default, rowsParts, n, m, k, split, n, 1f, 0f);
            Assert.Equal(rowsWhole, rowsParts);
        }

        // BP2 of a wide layer: sums long enough to run in blocks, split by samples at every point.
        int sums = 300;
        float[] delta = TestData.Mixed(m * sums, ref random), w = TestData.Mixed(sums * k, ref random);
        var longWhole = new float[m * k];
        Gemm.MultiplyStrided(delta, sums, 1, w, default, longWhole, m, sums, k, 0, m, 1f, 0f);
        for (int split = 1; split < m; split++)
        {
            var longParts = new float[m * k];
            Gemm.MultiplyStrided(delta, sums, 1, w, default, longParts, m, sums, k, 0, split, 1f, 0f);
            Gemm.MultiplyStrided(delta, sums, 1, w, default, longParts, m, sums, k, split, m, 1f, 0f);
            Assert.Equal(longWhole, longParts);
        }
    }

    [Fact]
    public void Splitting_the_columns_among_workers_changes_no_bit_and_writes_only_the_window()
    {
        // BP2 below a wide layer is split by columns of C: any window, through the panels (long sums), the short-sum
        // tiles and the folded step, gives each of its elements the bits of the whole product, and each window, run on
        // its own, leaves every other column as it was.
        var random = new SeededRandom(6);
        foreach (int bits in Widths)
        {
            foreach ((int rows, int sums, int cols, float alpha, float beta) in new[] { (13, 300, 101, 1f, 0f), (30, 100, 150, -0.03f, 1f), (14, 10, 77, 0.5f, 0.75f) })
            {
                float[] l = TestData.Mixed(rows * sums, ref random), r = TestData.Mixed(sums * cols, ref random), c0 = TestData.Mixed(rows * cols, ref random);
                var whole = (float[])c0.Clone();
                Gemm.MultiplyStrided(l, sums, 1, r, default, whole, rows, sums, cols, 0, rows, alpha, beta, bits);
                for (int first = 1; first < cols; first += 7)
                {
                    int second = first + ((cols - first) / 2);
                    foreach ((int qStart, int qEnd) in new[] { (0, first), (first, second), (second, cols) })
                    {
                        var window = (float[])c0.Clone();
                        Gemm.MultiplyStrided(l, sums, 1, r, default, window, rows, sums, cols, 0, rows, qStart, qEnd, alpha, beta, bits, Gemm.Panels.Auto);
                        for (int i = 0; i < rows * cols; i++)
                        {
                            int q = i % cols;
                            float expected = q >= qStart && q < qEnd ? whole[i] : c0[i];
                            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(window[i]),
                                $"C[{i / cols},{q}] of {rows}x{cols} (sums {sums}) at {bits} bits, window [{qStart},{qEnd})");
                        }
                    }
                }
            }
        }
    }

    [Property]
    public void MultiplyStrided_scales_and_folds_with_alpha_and_beta(Shape s, byte samples)
    {
        int m = 1 + (samples % 23), n = Math.Min(s.Rows, 120), cols = s.Cols;
        var random = new SeededRandom(s.Seed);
        float[] delta = TestData.Mixed(m * n, ref random), r = TestData.Mixed(m * cols, ref random);
        float alpha = (float)((random.NextDouble() * 4) - 2), beta = 1 - (float)random.NextDouble();
        foreach (int bits in Widths)
        {
            // The plain sum, then beta = 0 with any alpha over a C full of NaN: C is never read.
            var sum = new float[n * cols];
            Gemm.MultiplyStrided(delta, 1, n, r, default, sum, n, m, cols, 0, n, 1f, 0f, bits);
            float[] scaled = Enumerable.Repeat(float.NaN, n * cols).ToArray();
            Gemm.MultiplyStrided(delta, 1, n, r, default, scaled, n, m, cols, 0, n, alpha, 0f, bits);
            float[] stored = Enumerable.Repeat(float.NaN, n * cols).ToArray();
            Gemm.MultiplyStrided(delta, 1, n, r, default, stored, n, m, cols, 0, n, 1f, 0f, bits);
            Assert.Equal(sum, stored);

            // beta != 0: (C * beta) + (alpha * sum), unfused, in that order; beta = 1 (no weight decay) too.
            float[] before = TestData.Mixed(n * cols, ref random), folded = (float[])before.Clone(), unit = (float[])before.Clone();
            Gemm.MultiplyStrided(delta, 1, n, r, default, folded, n, m, cols, 0, n, alpha, beta, bits);
            Gemm.MultiplyStrided(delta, 1, n, r, default, unit, n, m, cols, 0, n, alpha, 1f, bits);
            for (int i = 0; i < sum.Length; i++)
            {
                Assert.True(float.IsFinite(scaled[i]), $"C[{i}] read at beta = 0, {bits} bits");
                Assert.Equal(alpha * sum[i], scaled[i]);
                Assert.Equal((before[i] * beta) + (alpha * sum[i]), folded[i]);
                Assert.Equal((before[i] * 1f) + (alpha * sum[i]), unit[i]);
            }
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
