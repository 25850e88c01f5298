namespace Backprop.Simd.Reference;

/// <summary>The naive twins of the library's int8 kernels: one element at a time, sums in 64 bits, rounding in double.</summary>
public static class NaiveInt8
{
    /// <summary><c>y[j] = sum_k w[j stride + k] u[k]</c>, summed in a long and checked to fit an int.</summary>
    public static void MatrixVector(ReadOnlySpan<sbyte> w, int rows, int cols, int stride, ReadOnlySpan<byte> u, Span<int> y)
    {
        for (int j = 0; j < rows; j++)
        {
            long sum = 0;
            for (int k = 0; k < cols; k++)
            {
                sum += (long)w[(j * stride) + k] * u[k];
            }

            y[j] = checked((int)sum);
        }
    }

    /// <summary>The quad-major product over every quad: <c>y[j] = sum_k W[j, k] u[k]</c> for <c>j &lt; paddedRows</c>, with
    /// <c>W[j, 4q + i] = w[(q paddedRows + j) 4 + i]</c>, summed in a long and checked to fit an int.</summary>
    public static void QuadMatrixVector(ReadOnlySpan<sbyte> w, int paddedRows, int quadCount, ReadOnlySpan<byte> u, Span<int> y)
    {
        for (int j = 0; j < paddedRows; j++)
        {
            long sum = 0;
            for (int k = 0; k < quadCount * 4; k++)
            {
                sum += (long)w[((((k / 4) * paddedRows) + j) * 4) + (k % 4)] * u[k];
            }

            y[j] = checked((int)sum);
        }
    }

    /// <summary><see cref="QuadMatrixVector"/> for each of <paramref name="count"/> inputs <c>u[s stride ..]</c>, into
    /// <c>y[s paddedRows ..]</c>.</summary>
    public static void QuadMatrixBlock(ReadOnlySpan<sbyte> w, int paddedRows, int quadCount, ReadOnlySpan<byte> u, int stride, int count, Span<int> y)
    {
        for (int s = 0; s < count; s++)
        {
            QuadMatrixVector(w, paddedRows, quadCount, u.Slice(s * stride), y.Slice(s * paddedRows, paddedRows));
        }
    }

    /// <summary>
    /// One int32 lane of x86's <c>vpdpbusd</c> as Intel defines it: <c>acc</c> plus the four products of the unsigned bytes
    /// <c>u[0..3]</c> (zero-extended) and the signed bytes <c>w[0..3]</c> (sign-extended), added in 32 bits with wraparound
    /// and no saturation (that is <c>vpdpbusds</c>). Each product fits 16 bits: at most 255 x 128.
    /// </summary>
    public static int QuadDot(int acc, ReadOnlySpan<byte> u, ReadOnlySpan<sbyte> w)
    {
        int sum = acc;
        for (int b = 0; b < 4; b++)
        {
            sum = unchecked(sum + (u[b] * w[b]));
        }

        return sum;
    }

    /// <summary>The quads <c>q &lt; quadCount</c> with a nonzero code among <c>u[4q .. 4q + 3]</c>, in increasing order.</summary>
    public static int[] NonzeroQuads(ReadOnlySpan<byte> u, int quadCount)
    {
        var list = new List<int>();
        for (int q = 0; q < quadCount; q++)
        {
            if (u[4 * q] != 0 || u[(4 * q) + 1] != 0 || u[(4 * q) + 2] != 0 || u[(4 * q) + 3] != 0)
            {
                list.Add(q);
            }
        }

        return [.. list];
    }

    /// <summary><c>u[k] = clamp(round(a[k] inverse) + zeroPoint, 0, 127)</c>: the product rounded to float, then to the
    /// nearest integer with ties to even.</summary>
    public static void Quantize(ReadOnlySpan<float> a, float inverse, int zeroPoint, Span<byte> u)
    {
        for (int k = 0; k < a.Length; k++)
        {
            float product = a[k] * inverse;
            double rounded = Math.Round((double)product, MidpointRounding.ToEven) + zeroPoint;
            u[k] = (byte)Math.Min(127.0, Math.Max(0.0, rounded));
        }
    }

    /// <summary>The saturating quantization for a fixed scale: <see cref="Quantize"/>'s codes (its rounding in double
    /// clamps any finite product, however large), and whether every value is finite.</summary>
    public static bool QuantizeSaturating(ReadOnlySpan<float> a, float inverse, int zeroPoint, Span<byte> u)
    {
        Quantize(a, inverse, zeroPoint, u);
        foreach (float x in a)
        {
            if (!float.IsFinite(x))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Softmax of each row of <paramref name="width"/>, in double: the twin of the int8 network's block softmax.</summary>
    public static double[] SoftmaxRows(ReadOnlySpan<float> z, int width)
    {
        var a = new double[z.Length];
        for (int start = 0; start < z.Length; start += width)
        {
            double max = double.NegativeInfinity, total = 0;
            for (int k = start; k < start + width; k++)
            {
                max = Math.Max(max, z[k]);
            }

            for (int k = start; k < start + width; k++)
            {
                total += Math.Exp(z[k] - max);
            }

            for (int k = start; k < start + width; k++)
            {
                a[k] = Math.Exp(z[k] - max) / total;
            }
        }

        return a;
    }

    /// <summary>The smallest and largest value, and whether every value is finite.</summary>
    public static bool Range(ReadOnlySpan<float> a, out float min, out float max)
    {
        (min, max) = (float.PositiveInfinity, float.NegativeInfinity);
        foreach (float x in a)
        {
            if (!float.IsFinite(x))
            {
                return false;
            }

            min = x < min ? x : min;
            max = x > max ? x : max;
        }

        return true;
    }
}
