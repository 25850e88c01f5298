using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Quantized;

/// <summary>
/// <see cref="Int8MatrixVector.MultiplyBlock"/> (every quad, for a block of inputs) against its naive twin on every
/// path and with <c>vpdpbusd</c> emulated, exactly (integer sums): 1 to 300 rows and columns, 1 to 40 samples, strides
/// with room after each row's quads, a third of the codes 0, and extreme codes and weights.
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

        // The last row ends with its quads, the buffer with it: the length check must accept exactly that much.
        byte[] u = new byte[((count - 1) * stride) + (quadCount * 4)];
        for (int i = 0; i < u.Length; i++)
        {
            u[i] = random.NextInt(3) == 0 ? (byte)0 : random.NextInt(6) == 0 ? (byte)127 : (byte)random.NextInt(128);
        }

        int[] expected = new int[count * padded];
        NaiveInt8.QuadMatrixBlock(w, padded, quadCount, u, stride, count, expected);
        foreach (Int8Path path in Int8KernelPropertyTests.Paths)
        {
            Check((w, rows, quadCount, u, stride, count, y) => Int8MatrixVector.MultiplyBlock(w, rows, quadCount, u, stride, count, y, path), path.ToString());
        }

        Check(Int8MatrixVector.MultiplyBlock<EmulatedVpdpbusd>, "emulated vpdpbusd");

        void Check(MultiplyBlock multiply, string what)
        {
            int[] fast = Enumerable.Repeat(-12345, expected.Length + 3).ToArray();
            multiply(w, s.Rows, quadCount, u, stride, count, fast);
            Assert.True(expected.AsSpan().SequenceEqual(fast.AsSpan(0, expected.Length)), $"{what}, {count} samples, stride {stride}, {s}");
            Assert.All(fast[expected.Length..], v => Assert.Equal(-12345, v));
        }
    }

    private delegate void MultiplyBlock(ReadOnlySpan<sbyte> w, int rows, int quadCount, ReadOnlySpan<byte> u, int stride, int count, Span<int> y);

    [Fact]
    public void A_block_that_does_not_fit_is_refused()
    {
        sbyte[] w = new sbyte[2 * 8 * 4];
        Int8MatrixVector.MultiplyBlock(w, 8, 2, new byte[16], 8, 2, new int[16], Int8MatrixVector.DefaultPath); // fits exactly
        Assert.Throws<ArgumentException>(() => Int8MatrixVector.MultiplyBlock(w, 8, 2, new byte[15], 8, 2, new int[16], Int8MatrixVector.DefaultPath));
        Assert.Throws<ArgumentException>(() => Int8MatrixVector.MultiplyBlock(w, 8, 2, new byte[16], 7, 2, new int[16], Int8MatrixVector.DefaultPath));
        Assert.Throws<ArgumentException>(() => Int8MatrixVector.MultiplyBlock(w, 8, 2, new byte[16], 8, 2, new int[15], Int8MatrixVector.DefaultPath));
        Assert.Throws<ArgumentException>(() => Int8MatrixVector.MultiplyBlock(w[..63], 8, 2, new byte[16], 8, 2, new int[16], Int8MatrixVector.DefaultPath));
    }
}
