using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using Backprop.Simd.Kernels;

namespace Backprop.Simd.Benchmarks.Ladder.PerSample;

/// <summary>
/// Transposed matrix-vector product, <c>y = W^T x</c>: the first half of BP2
/// (<c>(W^{l+1})^T delta^{l+1}</c>). <c>W</c> is row-major <c>rows x cols</c>, so <c>x</c> has
/// <c>rows</c> elements and <c>y</c> has <c>cols</c>.
/// </summary>
/// <remarks>
/// Reading <c>W</c> by columns would stride through memory, so the kernel streams it by rows instead:
/// <c>y = sum_j x[j] * W[j,:]</c>. Four rows are folded into each pass over <c>y</c>, which cuts the
/// loads and stores of <c>y</c> fourfold; the tail of each row is handled by a scalar remainder loop.
/// </remarks>
internal static class TransposedMatrixVector
{
    /// <summary>Computes <c>y = W^T x</c>.</summary>
    /// <param name="w">Row-major <c>rows x cols</c> matrix.</param>
    /// <param name="rows">Number of rows of <paramref name="w"/> (length of <paramref name="x"/>).</param>
    /// <param name="cols">Number of columns of <paramref name="w"/> (length of <paramref name="y"/>).</param>
    /// <param name="x">Input vector, length <paramref name="rows"/>.</param>
    /// <param name="y">Output vector, length <paramref name="cols"/>; overwritten; must not overlap the inputs.</param>
    public static void Multiply(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        MultiplyUnchecked(w, rows, cols, x, y);
    }

    /// <summary>The kernel body; shapes were checked by the caller.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // fully optimized from the first call: no tier-0 epoch
    internal static void MultiplyUnchecked(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        ref float w0 = ref MemoryMarshal.GetReference(w);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        int width = Vector<float>.Count;
        int vectorEnd = VectorLoops.VectorEnd(cols);

        y.Clear();
        int j = 0;
        for (; j + 4 <= rows; j += 4)
        {
            ref float r0 = ref Unsafe.Add(ref w0, (nint)j * cols);
            ref float r1 = ref Unsafe.Add(ref r0, cols);
            ref float r2 = ref Unsafe.Add(ref r1, cols);
            ref float r3 = ref Unsafe.Add(ref r2, cols);
            float c0 = Unsafe.Add(ref x0, j), c1 = Unsafe.Add(ref x0, j + 1), c2 = Unsafe.Add(ref x0, j + 2), c3 = Unsafe.Add(ref x0, j + 3);
            Vector<float> v0 = new(c0), v1 = new(c1), v2 = new(c2), v3 = new(c3);
            int k = 0;
            for (; k < vectorEnd; k += width)
            {
                Vector<float> acc = Vector.LoadUnsafe(ref y0, (nuint)k);
                acc = VectorMultiplyAdds.Of(Vector.LoadUnsafe(ref r0, (nuint)k), v0, acc);
                acc = VectorMultiplyAdds.Of(Vector.LoadUnsafe(ref r1, (nuint)k), v1, acc);
                acc = VectorMultiplyAdds.Of(Vector.LoadUnsafe(ref r2, (nuint)k), v2, acc);
                acc = VectorMultiplyAdds.Of(Vector.LoadUnsafe(ref r3, (nuint)k), v3, acc);
                acc.StoreUnsafe(ref y0, (nuint)k);
            }

            for (; k < cols; k++)
            {
                Unsafe.Add(ref y0, k) += Unsafe.Add(ref r0, k) * c0 + Unsafe.Add(ref r1, k) * c1
                    + Unsafe.Add(ref r2, k) * c2 + Unsafe.Add(ref r3, k) * c3;
            }
        }

        for (; j < rows; j++)
        {
            ref float r = ref Unsafe.Add(ref w0, (nint)j * cols);
            float c = Unsafe.Add(ref x0, j);
            Vector<float> v = new(c);
            int k = 0;
            for (; k < vectorEnd; k += width)
            {
                VectorMultiplyAdds.Of(Vector.LoadUnsafe(ref r, (nuint)k), v, Vector.LoadUnsafe(ref y0, (nuint)k)).StoreUnsafe(ref y0, (nuint)k);
            }

            for (; k < cols; k++)
            {
                Unsafe.Add(ref y0, k) += Unsafe.Add(ref r, k) * c;
            }
        }
    }
}
