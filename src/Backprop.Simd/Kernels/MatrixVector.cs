using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Matrix-vector product with bias, <c>y = W x + b</c>: the forward pass of one layer (<c>z = W a + b</c>).
/// <c>W</c> is row-major, <c>rows x cols</c>; row <c>j</c> holds the weights into output <c>j</c>.
/// </summary>
/// <remarks>
/// Shape of the loop: four rows at a time share each load of <c>x</c>, and each row keeps its own
/// <see cref="Vector{T}"/> accumulator, so four independent fused multiply-add chains are in flight.
/// Columns that do not fill a whole vector are finished by a scalar remainder loop; leftover rows
/// (rows % 4) go through the same loop one row at a time.
/// </remarks>
public static class MatrixVector
{
    /// <summary>Computes <c>y = W x + b</c>.</summary>
    /// <param name="w">Row-major <c>rows x cols</c> matrix.</param>
    /// <param name="rows">Number of rows of <paramref name="w"/> (length of <paramref name="y"/>).</param>
    /// <param name="cols">Number of columns of <paramref name="w"/> (length of <paramref name="x"/>).</param>
    /// <param name="x">Input vector, length <paramref name="cols"/>.</param>
    /// <param name="b">Bias vector, length <paramref name="rows"/>.</param>
    /// <param name="y">Output vector, length <paramref name="rows"/>; must not overlap the inputs.</param>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    public static void MultiplyAdd(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> b, Span<float> y)
    {
        Guard.Positive(rows);
        Guard.Positive(cols);
        Guard.Length(w.Length, rows * cols, "rows * cols");
        Guard.Length(x.Length, cols, "cols");
        Guard.Length(b.Length, rows, "rows");
        Guard.Length(y.Length, rows, "rows");
        MultiplyAddUnchecked(w, rows, cols, x, b, y);
    }

    /// <summary>The kernel body; shapes were checked by the caller.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // fully optimized from the first call: no tier-0 epoch
    internal static void MultiplyAddUnchecked(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> b, Span<float> y)
    {
        ref float w0 = ref MemoryMarshal.GetReference(w);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        int width = Vector<float>.Count;
        int vectorEnd = VectorLoops.VectorEnd(cols);

        int j = 0;
        for (; j + 4 <= rows; j += 4)
        {
            ref float r0 = ref Unsafe.Add(ref w0, (nint)j * cols);
            ref float r1 = ref Unsafe.Add(ref r0, cols);
            ref float r2 = ref Unsafe.Add(ref r1, cols);
            ref float r3 = ref Unsafe.Add(ref r2, cols);
            Vector<float> acc0 = Vector<float>.Zero, acc1 = Vector<float>.Zero, acc2 = Vector<float>.Zero, acc3 = Vector<float>.Zero;
            int k = 0;
            for (; k < vectorEnd; k += width)
            {
                Vector<float> xv = Vector.LoadUnsafe(ref x0, (nuint)k);
                acc0 = MultiplyAdds.Of(Vector.LoadUnsafe(ref r0, (nuint)k), xv, acc0);
                acc1 = MultiplyAdds.Of(Vector.LoadUnsafe(ref r1, (nuint)k), xv, acc1);
                acc2 = MultiplyAdds.Of(Vector.LoadUnsafe(ref r2, (nuint)k), xv, acc2);
                acc3 = MultiplyAdds.Of(Vector.LoadUnsafe(ref r3, (nuint)k), xv, acc3);
            }

            float s0 = Vector.Sum(acc0), s1 = Vector.Sum(acc1), s2 = Vector.Sum(acc2), s3 = Vector.Sum(acc3);
            for (; k < cols; k++)
            {
                float xk = Unsafe.Add(ref x0, k);
                s0 += Unsafe.Add(ref r0, k) * xk;
                s1 += Unsafe.Add(ref r1, k) * xk;
                s2 += Unsafe.Add(ref r2, k) * xk;
                s3 += Unsafe.Add(ref r3, k) * xk;
            }

            Unsafe.Add(ref y0, j) = s0 + Unsafe.Add(ref b0, j);
            Unsafe.Add(ref y0, j + 1) = s1 + Unsafe.Add(ref b0, j + 1);
            Unsafe.Add(ref y0, j + 2) = s2 + Unsafe.Add(ref b0, j + 2);
            Unsafe.Add(ref y0, j + 3) = s3 + Unsafe.Add(ref b0, j + 3);
        }

        if (j + 2 <= rows)
        {
            // Two rows left (30 = 7 x 4 + 2): two accumulators each, so four independent chains instead of one per row.
            ref float r0 = ref Unsafe.Add(ref w0, (nint)j * cols);
            ref float r1 = ref Unsafe.Add(ref r0, cols);
            Vector<float> acc0 = Vector<float>.Zero, acc1 = Vector<float>.Zero, odd0 = Vector<float>.Zero, odd1 = Vector<float>.Zero;
            int k = 0;
            for (; k + (2 * width) <= vectorEnd; k += 2 * width)
            {
                Vector<float> xv = Vector.LoadUnsafe(ref x0, (nuint)k), xw = Vector.LoadUnsafe(ref x0, (nuint)(k + width));
                acc0 = MultiplyAdds.Of(Vector.LoadUnsafe(ref r0, (nuint)k), xv, acc0);
                acc1 = MultiplyAdds.Of(Vector.LoadUnsafe(ref r1, (nuint)k), xv, acc1);
                odd0 = MultiplyAdds.Of(Vector.LoadUnsafe(ref r0, (nuint)(k + width)), xw, odd0);
                odd1 = MultiplyAdds.Of(Vector.LoadUnsafe(ref r1, (nuint)(k + width)), xw, odd1);
            }

            for (; k < vectorEnd; k += width)
            {
                Vector<float> xv = Vector.LoadUnsafe(ref x0, (nuint)k);
                acc0 = MultiplyAdds.Of(Vector.LoadUnsafe(ref r0, (nuint)k), xv, acc0);
                acc1 = MultiplyAdds.Of(Vector.LoadUnsafe(ref r1, (nuint)k), xv, acc1);
            }

            float s0 = Vector.Sum(acc0 + odd0), s1 = Vector.Sum(acc1 + odd1);
            for (; k < cols; k++)
            {
                float xk = Unsafe.Add(ref x0, k);
                s0 += Unsafe.Add(ref r0, k) * xk;
                s1 += Unsafe.Add(ref r1, k) * xk;
            }

            Unsafe.Add(ref y0, j) = s0 + Unsafe.Add(ref b0, j);
            Unsafe.Add(ref y0, j + 1) = s1 + Unsafe.Add(ref b0, j + 1);
            j += 2;
        }

        for (; j < rows; j++)
        {
            // A last row: two accumulators, two independent chains.
            ref float r = ref Unsafe.Add(ref w0, (nint)j * cols);
            Vector<float> acc = Vector<float>.Zero, odd = Vector<float>.Zero;
            int k = 0;
            for (; k + (2 * width) <= vectorEnd; k += 2 * width)
            {
                acc = MultiplyAdds.Of(Vector.LoadUnsafe(ref r, (nuint)k), Vector.LoadUnsafe(ref x0, (nuint)k), acc);
                odd = MultiplyAdds.Of(Vector.LoadUnsafe(ref r, (nuint)(k + width)), Vector.LoadUnsafe(ref x0, (nuint)(k + width)), odd);
            }

            for (; k < vectorEnd; k += width)
            {
                acc = MultiplyAdds.Of(Vector.LoadUnsafe(ref r, (nuint)k), Vector.LoadUnsafe(ref x0, (nuint)k), acc);
            }

            float s = Vector.Sum(acc + odd);
            for (; k < cols; k++)
            {
                s += Unsafe.Add(ref r, k) * Unsafe.Add(ref x0, k);
            }

            Unsafe.Add(ref y0, j) = s + Unsafe.Add(ref b0, j);
        }
    }
}
