using Backprop.Simd.Reference;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Quantized;

/// <summary>
/// <see cref="ActivationFunctions.SoftmaxBlock"/>, the int8 network's softmax: each row gets the same bits alone (with
/// or without room after it) as in a block of any number of rows (so the int8 batch gives the single-sample bits), and is within a derived bound of
/// the softmax in double (<see cref="NaiveInt8.SoftmaxRows"/>).
/// </summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class SoftmaxBlockPropertyTests
{
    [Property]
    public void A_block_gives_each_row_the_bits_of_the_row_alone_and_the_softmax_within_its_bound(Shape s)
    {
        int width = 1 + (s.Cols % 40), rows = 1 + (s.Rows % 40);
        var random = new SeededRandom(s.Seed);
        float[] z = TestData.Uniform(rows * width, ref random, -30, 30);
        float[] block = new float[z.Length];
        ActivationFunctions.SoftmaxBlock(z, block, width);
        double[] exact = NaiveInt8.SoftmaxRows(z, width);
        for (int r = 0; r < rows; r++)
        {
            float[] alone = new float[width];
            ActivationFunctions.SoftmaxBlock(z.AsSpan(r * width, width), alone, width);
            int[] expected = alone.Select(BitConverter.SingleToInt32Bits).ToArray();
            Assert.Equal(expected, block.AsSpan(r * width, width).ToArray().Select(BitConverter.SingleToInt32Bits).ToArray());
            float[] roomy = Enumerable.Repeat(float.NaN, width + ActivationFunctions.MinRun).ToArray(); // room after the row, holding junk
            ActivationFunctions.SoftmaxBlock(z.AsSpan(r * width, width), roomy, width);
            Assert.Equal(expected, roomy.AsSpan(0, width).ToArray().Select(BitConverter.SingleToInt32Bits).ToArray());

            // The shift z - max rounds once (u |z - max|), the exponential is within 8 units, the sum of `width` terms
            // in order gains at most (width - 1) u relative, the inverse and the product one each: so each output is within
            // (2 D + width + 18) u of its value, D the row's largest |z - max|, plus the smallest normal for underflow.
            ReadOnlySpan<float> row = z.AsSpan(r * width, width);
            double max = row.ToArray().Max(), spread = row.ToArray().Max(v => max - v);
            for (int j = 0; j < width; j++)
            {
                double e = exact[(r * width) + j], tolerance = (e * ((2 * spread) + width + 18) * Tolerance.U * 1.01) + 1.2e-38;
                Assert.True(Math.Abs(block[(r * width) + j] - e) <= tolerance, $"{s}, row {r}, {j}: {block[(r * width) + j]}, exact {e}, tolerance {tolerance:E3}");
            }
        }
    }

    [Fact]
    public void A_NaN_or_infinity_makes_its_row_NaN_and_leaves_the_others()
    {
        float[] z = [1, 2, float.NaN, 0, 3, 4, float.PositiveInfinity, 1, 0.5f, 0.25f, -1, 2];
        float[] a = new float[z.Length];
        ActivationFunctions.SoftmaxBlock(z, a, 4);
        Assert.All(a[..8], v => Assert.True(float.IsNaN(v)));
        Assert.Equal(1.0, a[8..].Sum(v => (double)v), 1e-6);
    }
}
