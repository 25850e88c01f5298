using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>
/// The byte-widening kernel against its naive twin. Tolerance 0, derived: each value is a byte (exact as a float)
/// divided once, a correctly rounded IEEE division with a single result, and the split-reciprocal form is used only
/// for a divisor it has been checked to match on all 256 bytes. So every width must give the twin's bits.
/// </summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class WideningPropertyTests
{
    private static IEnumerable<int> Widths => ElementwisePropertyTests.Widths;

    [Property]
    public void Divide_matches_the_naive_twin_to_the_bit_at_every_width(Shape s)
    {
        int n = s.Rows; // 1 to 300: vector multiples and tails
        var random = new SeededRandom(s.Seed);
        byte[] bytes = new byte[n];
        for (int i = 0; i < n; i++)
        {
            bytes[i] = (byte)random.NextInt(256);
        }

        bytes[random.NextInt(n)] = 255; // the ends of the range in every case
        bytes[random.NextInt(n)] = 0;
        float random1 = (float)(0.001 + (random.NextDouble() * 1000)), random2 = (float)Math.Exp((random.NextDouble() * 160) - 80);
        foreach (float divisor in new[] { 255f, 1f, 3f, 127.5f, 65535f, random1, random2 })
        {
            float[] expected = new float[n];
            NaiveWidening.Divide(bytes, divisor, expected);
            foreach (int bits in Widths)
            {
                float[] fast = new float[n];
                Widening.Divide(bytes, divisor, fast, bits);
                Assert.True(expected.AsSpan().SequenceEqual(fast), $"{bits} bits, divisor {divisor}");
            }

            float[] viaDefault = new float[n];
            Widening.Divide(bytes, divisor, viaDefault);
            Assert.True(expected.AsSpan().SequenceEqual(viaDefault), $"default width, divisor {divisor}");
        }
    }

    [Fact]
    public void Every_byte_over_255_is_the_float_the_IDX_reader_has_always_given()
    {
        byte[] all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        foreach (int bits in Widths)
        {
            float[] values = new float[256];
            Widening.Divide(all, 255f, values, bits);
            Assert.Equal(all.Select(b => b / 255f), values);
        }

        // Where multiply-adds are fused the fast form must be in use for 255: it is what makes widening cheap.
        Assert.Equal(SimdWidth.FusedMultiplyAdd, Widening.SplitIsExact(255f));
    }

    [Property]
    public void GatherRows_widens_the_chosen_rows_in_order(Shape s)
    {
        int width = s.Cols, count = 1 + (s.Rows % 9);
        var random = new SeededRandom(s.Seed);
        byte[] matrix = new byte[count * width];
        for (int i = 0; i < matrix.Length; i++)
        {
            matrix[i] = (byte)random.NextInt(256);
        }

        int[] rows = Enumerable.Range(0, 1 + random.NextInt(12)).Select(_ => random.NextInt(count)).ToArray();
        float[] gathered = new float[rows.Length * width];
        Widening.PrefetchRows(matrix, rows, width); // a hint: changes nothing
        Widening.GatherRows(matrix, rows, width, 255f, gathered);
        for (int i = 0; i < rows.Length; i++)
        {
            float[] row = new float[width];
            NaiveWidening.Divide(matrix.AsSpan(rows[i] * width, width), 255f, row);
            Assert.Equal(row, gathered.AsSpan(i * width, width).ToArray());
        }
    }
}
