using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Quantized;

/// <summary>
/// <see cref="Int8MatrixVector.MultiplyBlock"/> (a block of inputs, one quad list for all) against its naive twin on
/// every path, exactly (integer sums): 1 to 300 rows and columns, 1 to 40 samples, strides with room after each row's
/// quads, the list every quad (as the batch's later layers use it) or a random subset, and extreme codes and weights.
/// </summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class Int8BlockProductPropertyTests
{
    [Property]
    public void MultiplyBlock_matches_the_naive_twin_exactly_on_every_path(Shape s)
    {
        var random = new SeededRandom(s.Seed);
        int padded = Int8MatrixVector.PaddedRows(s.Rows), quadCount = Int8MatrixVector.Quads(s.Cols);
        int count = 1 + random.NextInt(40), stride = (quadCount * 4) + random.NextInt(3) * 4 + random.NextInt(4);
        sbyte[] w = new sbyte[quadCount * padded * 4];
        for (int j = 0; j < s.Rows; j++)
        {
            for (int k = 0; k < s.Cols; k++)
            {
                w[((((k / 4) * padded) + j) * 4) + (k % 4)] = random.NextInt(8) == 0 ? (sbyte)(random.NextInt(2) == 0 ? -127 : 127) : (sbyte)(random.NextInt(255) - 127);
            }
        }

        // The last row ends with its quads: no byte after it, so a read past the block would fail.
        byte[] u = new byte[((count - 1) * stride) + (quadCount * 4)];
        for (int i = 0; i < u.Length; i++)
        {
            u[i] = random.NextInt(3) == 0 ? (byte)0 : random.NextInt(6) == 0 ? (byte)127 : (byte)random.NextInt(128);
        }

        int[] quads = s.Rows % 2 == 0
            ? Enumerable.Range(0, quadCount).ToArray()
            : Enumerable.Range(0, quadCount).Where(_ => random.NextInt(3) != 0).ToArray();
        int[] expected = new int[count * padded];
        NaiveInt8.QuadMatrixBlock(w, padded, quads, u, stride, count, expected);
        foreach (Int8Path path in Int8KernelPropertyTests.Paths)
        {
            int[] fast = Enumerable.Repeat(-12345, expected.Length + 3).ToArray();
            Int8MatrixVector.MultiplyBlock(w, s.Rows, quadCount, u, stride, count, quads, fast, path);
            Assert.True(expected.AsSpan().SequenceEqual(fast.AsSpan(0, expected.Length)), $"{path}, {count} samples, stride {stride}, {s}");
            Assert.All(fast[expected.Length..], v => Assert.Equal(-12345, v));
        }
    }

    [Fact]
    public void A_block_that_does_not_fit_is_refused()
    {
        sbyte[] w = new sbyte[2 * 8 * 4];
        int[] quads = [0, 1];
        Assert.Throws<ArgumentException>(() => Int8MatrixVector.MultiplyBlock(w, 8, 2, new byte[15], 8, 2, quads, new int[16], Int8MatrixVector.DefaultPath));
        Assert.Throws<ArgumentException>(() => Int8MatrixVector.MultiplyBlock(w, 8, 2, new byte[16], 7, 2, quads, new int[16], Int8MatrixVector.DefaultPath));
        Assert.Throws<ArgumentException>(() => Int8MatrixVector.MultiplyBlock(w, 8, 2, new byte[16], 8, 2, quads, new int[15], Int8MatrixVector.DefaultPath));
    }
}
