using Backprop.Simd.Kernels;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>
/// The products on padded rows (the trainer's workspace with workers): the same bits as on unpadded rows, and the
/// padding between the rows neither read (it holds NaN here, which would spread) nor written.
/// </summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 30)]
public class GemmStridePropertyTests
{
    public static IEnumerable<int> Widths => GemmPropertyTests.Widths;

    [Property]
    public void Strided_product_on_padded_rows_changes_no_bit(Shape s, byte samples, byte padding)
    {
        int rows = 1 + (samples % 29), sums = s.Rows, cols = s.Cols;
        int rStride = cols + 1 + (padding % 20), cStride = cols + 1 + (padding / 20 % 20); // at least one float of padding
        var random = new SeededRandom(s.Seed);
        float[] lhs = TestData.Mixed(rows * sums, ref random), r = TestData.Mixed(sums * cols, ref random);
        float[] before = TestData.Mixed(rows * cols, ref random);
        float[] paddedR = Pad(r, sums, cols, rStride);
        foreach ((int rowStride, int sumStride) in new[] { (1, rows), (sums, 1) })
        {
            foreach (int bits in Widths)
            {
                foreach (Gemm.Panels panels in new[] { Gemm.Panels.Always, Gemm.Panels.Never, Gemm.Panels.Auto })
                {
                    foreach ((float alpha, float beta) in new[] { (1f, 0f), (-0.3f, 0.9f) })
                    {
                        float[] plain = (float[])before.Clone(), padded = Pad(before, rows, cols, cStride);
                        Gemm.MultiplyStrided(lhs, rowStride, sumStride, r, default, plain, rows, sums, cols, 0, rows, alpha, beta, bits, panels);
                        Gemm.MultiplyStrided(lhs, rowStride, sumStride, paddedR, default, rStride, padded, cStride, sums, cols, 0, rows, alpha, beta, bits, panels);
                        AssertRows(plain, padded, rows, cols, cStride, $"{rows}x{sums}x{cols}, strides {rStride}/{cStride}, {bits} bits, {panels}");
                    }
                }
            }
        }
    }

    [Property]
    public void Transposed_product_on_padded_rows_changes_no_bit(Shape s, byte samples, byte padding)
    {
        int m = 1 + (samples % 23), n = s.Rows, k = s.Cols;
        int aStride = k + 1 + (padding % 20), cStride = n + 1 + (padding / 20 % 20);
        var random = new SeededRandom(s.Seed);
        float[] a = TestData.Mixed(m * k, ref random), b = TestData.Mixed(n * k, ref random), bias = TestData.Mixed(n, ref random);
        float[] paddedA = Pad(a, m, k, aStride);
        int cut = n / 3;
        foreach (int bits in Widths)
        {
            float[] plain = new float[m * n], padded = Pad(plain, m, n, cStride);
            Gemm.MultiplyTransposed(a, default, b, bias, plain, m, n, k, 0, n, bits);
            Gemm.MultiplyTransposed(paddedA, default, aStride, b, bias, padded, cStride, m, k, 0, cut, bits); // in two shares
            Gemm.MultiplyTransposed(paddedA, default, aStride, b, bias, padded, cStride, m, k, cut, n, bits);
            AssertRows(plain, padded, m, n, cStride, $"{m}x{n}x{k}, strides {aStride}/{cStride}, {bits} bits");
        }
    }

    // The rows of a rows x cols matrix stride apart, NaN between them.
    private static float[] Pad(float[] matrix, int rows, int cols, int stride)
    {
        float[] padded = new float[Math.Max(1, rows * stride)];
        padded.AsSpan().Fill(float.NaN);
        for (int i = 0; i < rows; i++)
        {
            matrix.AsSpan(i * cols, cols).CopyTo(padded.AsSpan(i * stride));
        }

        return padded;
    }

    private static void AssertRows(float[] plain, float[] padded, int rows, int cols, int stride, string what)
    {
        for (int i = 0; i < rows; i++)
        {
            Assert.True(plain.AsSpan(i * cols, cols).SequenceEqual(padded.AsSpan(i * stride, cols)), $"row {i} of {what}");
            for (int q = cols; q < stride && (i * stride) + q < padded.Length; q++)
            {
                Assert.True(float.IsNaN(padded[(i * stride) + q]), $"padding {q} of row {i} written, {what}");
            }
        }
    }
}
