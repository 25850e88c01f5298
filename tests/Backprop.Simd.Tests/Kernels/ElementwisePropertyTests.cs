using Backprop.Simd.Kernels;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>The element-wise primitives against scalar loops with the same arithmetic: equal to the bit, at every width.</summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class ElementwisePropertyTests
{
    public static IEnumerable<int> Widths => new[] { 32, 128, 256, 512 }.Where(bits => bits <= SimdWidth.MaximumSupportedBits);

    [Property]
    public void Fused_products_match_scalar_loops(Shape s)
    {
        int n = s.Rows; // 1 to 300: vector multiples and tails
        var random = new SeededRandom(s.Seed);
        float[] z = TestData.Mixed(n, ref random), d = TestData.Mixed(n, ref random);
        float[] a = TestData.Uniform(n, ref random, 0, 1), y = TestData.Uniform(n, ref random, 0, 1);
        foreach (int bits in Widths)
        {
            float[] fast = new float[n];
            foreach (float slope in new[] { 0.01f, 0.2f, -0.5f, -1f, 1f })
            {
                Elementwise.LeakyReLU(z, slope, fast, bits);
                Assert.Equal(z.Select(v => v > 0f ? v : v * slope), fast);
            }

            Elementwise.OutputErrorQuadraticSigmoid(a, y, fast, bits);
            Assert.Equal(Enumerable.Range(0, n).Select(i => (a[i] - y[i]) * (a[i] * (1f - a[i]))), fast);

            fast = (float[])d.Clone();
            Elementwise.MultiplyBySigmoidPrime(fast, a, bits);
            Assert.Equal(Enumerable.Range(0, n).Select(i => d[i] * (a[i] * (1f - a[i]))), fast);

            fast = (float[])d.Clone();
            Elementwise.MultiplyByTanhPrime(fast, a, bits);
            Assert.Equal(Enumerable.Range(0, n).Select(i => d[i] * (1f - (a[i] * a[i]))), fast);

            foreach (float slope in new[] { 0f, 0.01f, 0.2f, -0.5f })
            {
                fast = (float[])d.Clone();
                Elementwise.MultiplyByStep(fast, z, slope, bits);
                Assert.Equal(Enumerable.Range(0, n).Select(i => z[i] > 0f ? d[i] : d[i] * slope), fast);
            }
        }

        // The default width too, through the entry points the callers use.
        float[] viaDefault = (float[])d.Clone();
        Elementwise.MultiplyByStep(viaDefault, z, 0.01f);
        Assert.Equal(Enumerable.Range(0, n).Select(i => z[i] > 0f ? d[i] : d[i] * 0.01f), viaDefault);
    }

    [Property]
    public void AllFinite_finds_any_NaN_or_infinity(Shape s)
    {
        int n = s.Rows;
        var random = new SeededRandom(s.Seed);
        float[] values = TestData.Mixed(n, ref random);
        foreach (int bits in Widths)
        {
            Assert.True(Elementwise.AllFinite(values, bits));
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                int at = (int)(random.NextUInt64() % (ulong)n);
                float[] spoiled = (float[])values.Clone();
                spoiled[at] = bad;
                Assert.False(Elementwise.AllFinite(spoiled, bits), $"{bad} at {at} of {n}, {bits} bits");
            }
        }

        Assert.True(Elementwise.AllFinite(values));
    }

    [Property]
    public void SumRows_of_a_column_range_is_the_same_columns_of_the_whole_sum(Shape s)
    {
        int rows = 1 + (s.Rows % 23), width = s.Cols;
        var random = new SeededRandom(s.Seed);
        float[] matrix = TestData.Mixed(rows * width, ref random);
        float[] whole = new float[width];
        Elementwise.SumRows(matrix, rows, width, whole);
        int start = (int)(s.Seed % (ulong)width), count = 1 + (int)(s.Seed / 7 % (ulong)(width - start));
        float[] part = TestData.Mixed(count, ref random); // garbage: overwritten
        Elementwise.SumRows(matrix, rows, width, start, part);
        Assert.Equal(whole.AsSpan(start, count).ToArray(), part);
    }

    [Property]
    public void SumRows_adds_the_rows_in_order(Shape s)
    {
        int rows = 1 + (s.Rows % 23), width = s.Cols;
        var random = new SeededRandom(s.Seed);
        float[] matrix = TestData.Mixed(rows * width, ref random);
        float[] sum = TestData.Mixed(width, ref random); // garbage: overwritten
        Elementwise.SumRows(matrix, rows, width, sum);
        for (int j = 0; j < width; j++)
        {
            float expected = matrix[j];
            for (int i = 1; i < rows; i++)
            {
                expected += matrix[(i * width) + j];
            }

            Assert.Equal(expected, sum[j]);
        }
    }

    [Property]
    public void Activations_match_their_definitions(Shape s)
    {
        int width = 1 + (s.Rows % 17), rows = 1 + (s.Cols % 5);
        var random = new SeededRandom(s.Seed);
        float[] z = TestData.Uniform(rows * width, ref random, -20, 20);
        float[] a = new float[z.Length];

        Elementwise.ReLU(z, a);
        Assert.Equal(z.Select(v => Math.Max(v, 0f)), a);

        Elementwise.Sigmoid(z, a);
        Assert.All(Enumerable.Range(0, z.Length), i => Assert.Equal(1 / (1 + Math.Exp(-z[i])), a[i], 1e-6));

        Elementwise.Tanh(z, a);
        Assert.All(Enumerable.Range(0, z.Length), i => Assert.Equal(Math.Tanh(z[i]), a[i], 1e-6));

        Elementwise.SoftmaxRows(z, a, width);
        for (int r = 0; r < rows; r++)
        {
            double max = z.Skip(r * width).Take(width).Max(), total = z.Skip(r * width).Take(width).Sum(v => Math.Exp(v - max));
            for (int j = 0; j < width; j++)
            {
                Assert.Equal(Math.Exp(z[(r * width) + j] - max) / total, a[(r * width) + j], 1e-6);
            }
        }
    }
}
