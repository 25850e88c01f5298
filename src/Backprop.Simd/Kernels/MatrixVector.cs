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
/// <see cref="Vector{T}"/> accumulator, so four independent multiply-add chains are in flight.
/// Columns that do not fill a whole vector are finished by a scalar remainder loop; leftover rows
/// (rows % 4) run two accumulators each. Without SIMD a scalar kernel of the same shape runs instead.
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
        if (!Vector.IsHardwareAccelerated)
        {
            MultiplyAddScalar(ref w0, rows, cols, ref x0, ref b0, ref y0);
            return;
        }

        int width = Vector<float>.Count;
        int vectorEnd = cols - (cols % width);

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

    /// <summary>
    /// The kernel without SIMD, in its own method so that its accumulators stay in registers: four rows at a time,
    /// each with two accumulators (even and odd columns), eight independent chains.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void MultiplyAddScalar(ref float w0, int rows, int cols, ref float x0, ref float b0, ref float y0)
    {
        int pairEnd = cols & ~1;
        int j = 0;
        for (; j + 4 <= rows; j += 4)
        {
            ref float r0 = ref Unsafe.Add(ref w0, (nint)j * cols);
            ref float r1 = ref Unsafe.Add(ref r0, cols);
            ref float r2 = ref Unsafe.Add(ref r1, cols);
            ref float r3 = ref Unsafe.Add(ref r2, cols);
            float e0 = 0, e1 = 0, e2 = 0, e3 = 0, o0 = 0, o1 = 0, o2 = 0, o3 = 0;
            int k = 0;
            for (; k < pairEnd; k += 2)
            {
                float xe = Unsafe.Add(ref x0, k), xo = Unsafe.Add(ref x0, k + 1);
                e0 += Unsafe.Add(ref r0, k) * xe;
                e1 += Unsafe.Add(ref r1, k) * xe;
                e2 += Unsafe.Add(ref r2, k) * xe;
                e3 += Unsafe.Add(ref r3, k) * xe;
                o0 += Unsafe.Add(ref r0, k + 1) * xo;
                o1 += Unsafe.Add(ref r1, k + 1) * xo;
                o2 += Unsafe.Add(ref r2, k + 1) * xo;
                o3 += Unsafe.Add(ref r3, k + 1) * xo;
            }

            if (k < cols)
            {
                float xk = Unsafe.Add(ref x0, k);
                e0 += Unsafe.Add(ref r0, k) * xk;
                e1 += Unsafe.Add(ref r1, k) * xk;
                e2 += Unsafe.Add(ref r2, k) * xk;
                e3 += Unsafe.Add(ref r3, k) * xk;
            }

            Unsafe.Add(ref y0, j) = e0 + o0 + Unsafe.Add(ref b0, j);
            Unsafe.Add(ref y0, j + 1) = e1 + o1 + Unsafe.Add(ref b0, j + 1);
            Unsafe.Add(ref y0, j + 2) = e2 + o2 + Unsafe.Add(ref b0, j + 2);
            Unsafe.Add(ref y0, j + 3) = e3 + o3 + Unsafe.Add(ref b0, j + 3);
        }

        for (; j < rows; j++)
        {
            ref float r = ref Unsafe.Add(ref w0, (nint)j * cols);
            float e = 0, o = 0;
            int k = 0;
            for (; k < pairEnd; k += 2)
            {
                e += Unsafe.Add(ref r, k) * Unsafe.Add(ref x0, k);
                o += Unsafe.Add(ref r, k + 1) * Unsafe.Add(ref x0, k + 1);
            }

            if (k < cols)
            {
                e += Unsafe.Add(ref r, k) * Unsafe.Add(ref x0, k);
            }

            Unsafe.Add(ref y0, j) = e + o + Unsafe.Add(ref b0, j);
        }
    }
}
