namespace Backprop.Simd.Reference;

/// <summary>
/// The naive twins of the library's kernels: textbook scalar loops in <see cref="float"/>, one multiply-add at a
/// time, no vectors, no blocking. Property tests compare each fast kernel with its twin, and the benchmarks use
/// these as the baseline.
/// </summary>
public static class NaiveKernels
{
    /// <summary><c>y = W x + b</c>, <c>W</c> row-major <c>rows x cols</c>.</summary>
    public static void MatrixVectorMultiplyAdd(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> b, Span<float> y)
    {
        for (int j = 0; j < rows; j++)
        {
            float sum = 0f;
            for (int k = 0; k < cols; k++)
            {
                sum += w[(j * cols) + k] * x[k];
            }

            y[j] = sum + b[j];
        }
    }

    /// <summary><c>y = W^T x</c>, <c>W</c> row-major <c>rows x cols</c>, computed column by column.</summary>
    public static void TransposedMatrixVectorMultiply(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int k = 0; k < cols; k++)
        {
            float sum = 0f;
            for (int j = 0; j < rows; j++)
            {
                sum += w[(j * cols) + k] * x[j];
            }

            y[k] = sum;
        }
    }

    /// <summary><c>A += alpha * x y^T</c>, <c>A</c> row-major <c>rows x cols</c>.</summary>
    public static void Rank1Update(Span<float> a, int rows, int cols, float alpha, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        for (int i = 0; i < rows; i++)
        {
            for (int k = 0; k < cols; k++)
            {
                a[(i * cols) + k] += alpha * x[i] * y[k];
            }
        }
    }

    /// <summary><c>a = 1 / (1 + e^-z)</c>, element-wise.</summary>
    public static void Sigmoid(ReadOnlySpan<float> z, Span<float> a)
    {
        for (int i = 0; i < z.Length; i++)
        {
            a[i] = 1f / (1f + MathF.Exp(-z[i]));
        }
    }

    /// <summary>BP1 for the quadratic cost: <c>delta = (a - y) * a * (1 - a)</c>.</summary>
    public static void OutputErrorQuadratic(ReadOnlySpan<float> a, ReadOnlySpan<float> y, Span<float> delta)
    {
        for (int i = 0; i < a.Length; i++)
        {
            delta[i] = (a[i] - y[i]) * a[i] * (1f - a[i]);
        }
    }

    /// <summary>Second half of BP2: <c>delta *= a * (1 - a)</c>.</summary>
    public static void MultiplyBySigmoidPrime(Span<float> delta, ReadOnlySpan<float> a)
    {
        for (int i = 0; i < delta.Length; i++)
        {
            delta[i] *= a[i] * (1f - a[i]);
        }
    }

    /// <summary><c>C = A B^T + 1 b^T</c>: A is <c>m x k</c>, B is <c>n x k</c>, C is <c>m x n</c>, all row-major.</summary>
    public static void MultiplyTransposedAddBias(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++)
                {
                    sum += a[(i * k) + p] * b[(j * k) + p];
                }

                c[(i * n) + j] = sum + bias[j];
            }
        }
    }

    /// <summary><c>C = A B + 1 b^T</c>: A is <c>m x k</c>, B is <c>k x n</c>, C is <c>m x n</c>, all row-major.</summary>
    public static void MultiplyAddBias(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++)
                {
                    sum += a[(i * k) + p] * b[(p * n) + j];
                }

                c[(i * n) + j] = sum + bias[j];
            }
        }
    }

    /// <summary><c>C[r, q] = sum_s lhs[r * rowStride + s * sumStride] * R[s, q]</c>; R is <c>sums x cols</c>, C is <c>rows x cols</c>.</summary>
    public static void MultiplyRows(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, Span<float> c, int rows, int sums, int cols)
    {
        for (int row = 0; row < rows; row++)
        {
            for (int q = 0; q < cols; q++)
            {
                float sum = 0f;
                for (int s = 0; s < sums; s++)
                {
                    sum += lhs[(row * rowStride) + (s * sumStride)] * r[(s * cols) + q];
                }

                c[(row * cols) + q] = sum;
            }
        }
    }
}
