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
