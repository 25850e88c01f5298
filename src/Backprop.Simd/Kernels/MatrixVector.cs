using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Matrix-vector product with bias, <c>y = W x + b</c>: the forward pass of one sample (<c>z = W a + b</c>).
/// <c>W</c> is row-major, <c>rows x cols</c>; row <c>j</c> holds the weights into output <c>j</c>.
/// </summary>
/// <remarks>
/// Four rows at a time share each load of <c>x</c>, each row with its own accumulator: four independent
/// multiply-add chains. Leftover rows (rows % 4) run two accumulators each; columns past the last whole vector go
/// through a scalar remainder loop. Without SIMD (<see cref="SimdWidth.Bits"/> 32) a scalar kernel of the same
/// shape runs instead.
/// </remarks>
internal static class MatrixVector
{
    /// <summary><c>y = W x + b</c>; <paramref name="y"/> (length <paramref name="rows"/>) must not overlap the inputs.</summary>
    public static void MultiplyAdd(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> b, Span<float> y) =>
        MultiplyAdd(w, rows, cols, x, b, y, SimdWidth.Bits);

    /// <summary><see cref="MultiplyAdd(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> at <paramref name="bits"/>.</summary>
    public static void MultiplyAdd(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> b, Span<float> y, int bits)
    {
        var kernel = new Kernel(w, rows, cols, x, b, y);
        SimdDispatch.Run(ref kernel, bits);
    }

    private readonly ref struct Kernel(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> b, Span<float> y) : ISimdKernel
    {
        private readonly ReadOnlySpan<float> w = w;
        private readonly ReadOnlySpan<float> x = x;
        private readonly ReadOnlySpan<float> b = b;
        private readonly Span<float> y = y;

        public void Run<TV>()
            where TV : struct, ISimd<TV>
        {
            if (TV.Count == 1)
            {
                MultiplyAddScalar(ref MemoryMarshal.GetReference(w), rows, cols, ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(b), ref MemoryMarshal.GetReference(y));
            }
            else
            {
                MultiplyAdd<TV>(w, rows, cols, x, b, y);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // fully optimized from the first call: no tier-0 epoch
    private static void MultiplyAdd<TV>(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> b, Span<float> y)
        where TV : struct, ISimd<TV>
    {
        ref float w0 = ref MemoryMarshal.GetReference(w);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        int width = TV.Count;
        int vectorEnd = cols - (cols % width);

        int j = 0;
        for (; j + 4 <= rows; j += 4)
        {
            ref float r0 = ref Unsafe.Add(ref w0, (nint)j * cols);
            ref float r1 = ref Unsafe.Add(ref r0, cols);
            ref float r2 = ref Unsafe.Add(ref r1, cols);
            ref float r3 = ref Unsafe.Add(ref r2, cols);
            TV acc0 = TV.Zero, acc1 = TV.Zero, acc2 = TV.Zero, acc3 = TV.Zero;
            int k = 0;
            for (; k < vectorEnd; k += width)
            {
                TV xv = TV.Load(ref x0, (nuint)k);
                acc0 = TV.MultiplyAddLoad(ref r0, (nuint)k, xv, acc0);
                acc1 = TV.MultiplyAddLoad(ref r1, (nuint)k, xv, acc1);
                acc2 = TV.MultiplyAddLoad(ref r2, (nuint)k, xv, acc2);
                acc3 = TV.MultiplyAddLoad(ref r3, (nuint)k, xv, acc3);
            }

            float s0 = TV.Sum(acc0), s1 = TV.Sum(acc1), s2 = TV.Sum(acc2), s3 = TV.Sum(acc3);
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
            TV acc0 = TV.Zero, acc1 = TV.Zero, odd0 = TV.Zero, odd1 = TV.Zero;
            int k = 0;
            for (; k + (2 * width) <= vectorEnd; k += 2 * width)
            {
                TV xv = TV.Load(ref x0, (nuint)k), xw = TV.Load(ref x0, (nuint)(k + width));
                acc0 = TV.MultiplyAddLoad(ref r0, (nuint)k, xv, acc0);
                acc1 = TV.MultiplyAddLoad(ref r1, (nuint)k, xv, acc1);
                odd0 = TV.MultiplyAddLoad(ref r0, (nuint)(k + width), xw, odd0);
                odd1 = TV.MultiplyAddLoad(ref r1, (nuint)(k + width), xw, odd1);
            }

            for (; k < vectorEnd; k += width)
            {
                TV xv = TV.Load(ref x0, (nuint)k);
                acc0 = TV.MultiplyAddLoad(ref r0, (nuint)k, xv, acc0);
                acc1 = TV.MultiplyAddLoad(ref r1, (nuint)k, xv, acc1);
            }

            float s0 = TV.Sum(TV.Add(acc0, odd0)), s1 = TV.Sum(TV.Add(acc1, odd1));
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
            TV acc = TV.Zero, odd = TV.Zero;
            int k = 0;
            for (; k + (2 * width) <= vectorEnd; k += 2 * width)
            {
                acc = TV.MultiplyAddLoad(ref r, (nuint)k, TV.Load(ref x0, (nuint)k), acc);
                odd = TV.MultiplyAddLoad(ref r, (nuint)(k + width), TV.Load(ref x0, (nuint)(k + width)), odd);
            }

            for (; k < vectorEnd; k += width)
            {
                acc = TV.MultiplyAddLoad(ref r, (nuint)k, TV.Load(ref x0, (nuint)k), acc);
            }

            float s = TV.Sum(TV.Add(acc, odd));
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
    private static void MultiplyAddScalar(ref float w0, int rows, int cols, ref float x0, ref float b0, ref float y0)
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
