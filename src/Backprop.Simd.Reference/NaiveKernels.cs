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

    /// <summary><c>a = z &gt; 0 ? z : e^z - 1</c> (ELU), as written: near 0, <c>e^z - 1</c> keeps only its absolute accuracy.</summary>
    public static void ELU(ReadOnlySpan<float> z, Span<float> a)
    {
        for (int i = 0; i < z.Length; i++)
        {
            a[i] = z[i] > 0f ? z[i] : MathF.Exp(z[i]) - 1f;
        }
    }

    /// <summary><c>delta *= z &gt; 0 ? 1 : a + 1</c>: ELU's derivative <c>e^z</c> from its value.</summary>
    public static void MultiplyByELUPrime(Span<float> delta, ReadOnlySpan<float> z, ReadOnlySpan<float> a)
    {
        for (int i = 0; i < delta.Length; i++)
        {
            delta[i] *= z[i] > 0f ? 1f : a[i] + 1f;
        }
    }

    /// <summary><c>a = z (1 + erf(z / sqrt 2)) / 2</c> (GELU); erf in double (<see cref="ReferenceNetwork.Erf"/>), as float has none.</summary>
    public static void GELU(ReadOnlySpan<float> z, Span<float> a)
    {
        for (int i = 0; i < z.Length; i++)
        {
            a[i] = 0.5f * z[i] * (1f + (float)ReferenceNetwork.Erf(z[i] / MathF.Sqrt(2f)));
        }
    }

    /// <summary><c>delta *= Phi(z) + z e^(-z^2/2) / sqrt(2 pi)</c>: GELU's derivative.</summary>
    public static void MultiplyByGELUPrime(Span<float> delta, ReadOnlySpan<float> z)
    {
        for (int i = 0; i < delta.Length; i++)
        {
            float phi = 0.5f * (1f + (float)ReferenceNetwork.Erf(z[i] / MathF.Sqrt(2f)));
            delta[i] *= phi + (z[i] * MathF.Exp(-0.5f * z[i] * z[i]) / MathF.Sqrt(2f * MathF.PI));
        }
    }

    /// <summary><c>a = z / (1 + e^-z)</c> (SiLU).</summary>
    public static void SiLU(ReadOnlySpan<float> z, Span<float> a)
    {
        for (int i = 0; i < z.Length; i++)
        {
            a[i] = z[i] / (1f + MathF.Exp(-z[i]));
        }
    }

    /// <summary><c>delta *= s (1 + z (1 - s))</c>, <c>s = 1 / (1 + e^-z)</c>: SiLU's derivative.</summary>
    public static void MultiplyBySiLUPrime(Span<float> delta, ReadOnlySpan<float> z)
    {
        for (int i = 0; i < delta.Length; i++)
        {
            float s = 1f / (1f + MathF.Exp(-z[i]));
            delta[i] *= s * (1f + (z[i] * (1f - s)));
        }
    }

    /// <summary>The log-softmax of each row of <paramref name="width"/> floats, <c>(z - max) - ln sum e^(z - max)</c>.</summary>
    public static void LogSoftmaxRows(ReadOnlySpan<float> z, Span<float> a, int width)
    {
        for (int start = 0; start < z.Length; start += width)
        {
            float max = float.NegativeInfinity;
            for (int j = 0; j < width; j++)
            {
                max = MathF.Max(max, z[start + j]);
            }

            float sum = 0f;
            for (int j = 0; j < width; j++)
            {
                sum += MathF.Exp(z[start + j] - max);
            }

            float logSum = MathF.Log(sum);
            for (int j = 0; j < width; j++)
            {
                a[start + j] = z[start + j] - max - logSum;
            }
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
