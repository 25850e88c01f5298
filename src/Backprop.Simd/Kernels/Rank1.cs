using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Rank-1 update, <c>A += alpha * x y^T</c>: BP4 accumulating the weight gradient
/// <c>nabla_W += delta^l (a^{l-1})^T</c> in place. <c>A</c> is row-major <c>rows x cols</c>.
/// </summary>
/// <remarks>
/// Row <c>i</c> of <c>A</c> gains <c>(alpha * x[i]) * y</c>: one streaming fused multiply-add pass per row,
/// which reads and writes <c>A</c> exactly once. The tail of each row is handled by a scalar remainder loop.
/// </remarks>
public static class Rank1
{
    /// <summary>Computes <c>A += alpha * x y^T</c>.</summary>
    /// <param name="a">Row-major <c>rows x cols</c> matrix, updated in place.</param>
    /// <param name="rows">Number of rows of <paramref name="a"/> (length of <paramref name="x"/>).</param>
    /// <param name="cols">Number of columns of <paramref name="a"/> (length of <paramref name="y"/>).</param>
    /// <param name="alpha">Scale factor.</param>
    /// <param name="x">Column vector, length <paramref name="rows"/>.</param>
    /// <param name="y">Row vector, length <paramref name="cols"/>.</param>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    public static void Update(Span<float> a, int rows, int cols, float alpha, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        Guard.Positive(rows);
        Guard.Positive(cols);
        Guard.Length(a.Length, rows * cols, "rows * cols");
        Guard.Length(x.Length, rows, "rows");
        Guard.Length(y.Length, cols, "cols");
        UpdateUnchecked(a, rows, cols, alpha, x, y);
    }

    /// <summary>The kernel body; shapes were checked by the caller.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // fully optimized from the first call: no tier-0 epoch
    internal static void UpdateUnchecked(Span<float> a, int rows, int cols, float alpha, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        int width = Vector<float>.Count;
        int vectorEnd = cols - cols % width;

        for (int i = 0; i < rows; i++)
        {
            ref float row = ref Unsafe.Add(ref a0, (nint)i * cols);
            float c = alpha * Unsafe.Add(ref x0, i);
            Vector<float> v = new(c);
            int k = 0;
            for (; k < vectorEnd; k += width)
            {
                Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref y0, (nuint)k), v, Vector.LoadUnsafe(ref row, (nuint)k)).StoreUnsafe(ref row, (nuint)k);
            }

            for (; k < cols; k++)
            {
                Unsafe.Add(ref row, k) += c * Unsafe.Add(ref y0, k);
            }
        }
    }
}
