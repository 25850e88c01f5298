using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Register-blocked matrix products for the batched path, where a mini-batch is processed as matrices
/// (one sample per row). Two loop shapes cover every product backprop needs:
/// <list type="bullet">
/// <item><see cref="MultiplyTransposedAddBias"/>, <c>C = A B^T + 1 b^T</c>, the forward pass <c>Z = A W^T + b</c>:
/// dot products along rows of both operands, in 4 x 3 tiles (four rows of A against three rows of B: twelve
/// independent accumulators, each load of B used four times and each load of A three times).</item>
/// <item><see cref="MultiplyRows"/>, <c>C[r, :] = sum_s L(r, s) R[s, :]</c> with L read through strides, which is
/// both the weight gradient <c>nabla_W = Delta^T A</c> (r a neuron, s a sample) and BP2's <c>Delta W</c> (r a sample,
/// s a neuron): rows of R streamed and scaled by broadcasts, in tiles of four output rows by two vectors.</item>
/// </list>
/// The vector width is <see cref="SimdWidth.Bits"/>; leftover rows and columns go through narrower tiles and the
/// tail of each row through scalar code. Every entry of C is computed by exactly one tile in a fixed order, so the
/// result does not depend on how the rows are split among threads.
/// </summary>
public static partial class Gemm
{
    /// <summary><c>C = A B^T + 1 b^T</c>: <c>C[i, j] = dot(A[i, :], B[j, :]) + bias[j]</c>.</summary>
    /// <param name="a">Row-major <c>m x k</c>.</param>
    /// <param name="b">Row-major <c>n x k</c>.</param>
    /// <param name="bias">Length <c>n</c>.</param>
    /// <param name="c">Row-major <c>m x n</c>, overwritten; must not overlap the inputs.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Rows of B, columns of C.</param>
    /// <param name="k">Columns of A and B.</param>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    public static void MultiplyTransposedAddBias(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k)
    {
        Guard.Positive(m);
        Guard.Positive(n);
        Guard.Positive(k);
        Guard.Length(a.Length, m * k, "m * k");
        Guard.Length(b.Length, n * k, "n * k");
        Guard.Length(bias.Length, n, "n");
        Guard.Length(c.Length, m * n, "m * n");
        MultiplyTransposedAddBiasUnchecked(a, default, b, bias, c, m, n, k, 0, n);
    }

    /// <summary>
    /// <c>C[r, :] = sum_s L(r, s) R[s, :]</c> for <c>r</c> in [0, rows), where <c>L(r, s) = lhs[r * rowStride + s * sumStride]</c>.
    /// With <c>rowStride = 1, sumStride = n</c> and L an <c>m x n</c> matrix this is <c>L^T R</c>; with
    /// <c>rowStride = n, sumStride = 1</c> it is <c>L R</c>.
    /// </summary>
    /// <param name="lhs">The left factor, read through the strides.</param>
    /// <param name="rowStride">Step in <paramref name="lhs"/> from one output row to the next.</param>
    /// <param name="sumStride">Step in <paramref name="lhs"/> from one summation index to the next.</param>
    /// <param name="r">Row-major <c>sums x cols</c>.</param>
    /// <param name="c">Row-major <c>rows x cols</c>, overwritten; must not overlap the inputs.</param>
    /// <param name="rows">Output rows.</param>
    /// <param name="sums">Length of each sum (rows of R).</param>
    /// <param name="cols">Columns of R and C.</param>
    /// <exception cref="ArgumentException">A length or stride does not fit the shape.</exception>
    public static void MultiplyRows(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, Span<float> c, int rows, int sums, int cols)
    {
        Guard.Positive(rows);
        Guard.Positive(sums);
        Guard.Positive(cols);
        Guard.Positive(rowStride);
        Guard.Positive(sumStride);
        long lastIndex = ((long)(rows - 1) * rowStride) + ((long)(sums - 1) * sumStride);
        if (lastIndex >= lhs.Length)
        {
            throw new ArgumentException($"lhs has length {lhs.Length}, expected more than {lastIndex} for {rows} rows and {sums} sums with strides {rowStride} and {sumStride}.", nameof(lhs));
        }

        Guard.Length(r.Length, sums * cols, "sums * cols");
        Guard.Length(c.Length, rows * cols, "rows * cols");
        MultiplyRowsUnchecked(lhs, rowStride, sumStride, r, default, c, rows, sums, cols, 0, rows, Epilogue.Store);
    }

    /// <summary>
    /// Columns <c>[jStart, jEnd)</c> of <see cref="MultiplyTransposedAddBias"/>. Row <c>i</c> of A is row
    /// <c>aRows[i]</c> of <paramref name="a"/> when <paramref name="aRows"/> is not empty (the samples of a mini-batch,
    /// read where they lie in the data set instead of being gathered first).
    /// </summary>
    internal static void MultiplyTransposedAddBiasUnchecked(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c,
        int m, int n, int k, int jStart, int jEnd)
    {
        switch (SimdWidth.Bits)
        {
            case 512:
                Forward<Simd512>(a, aRows, b, bias, c, m, n, k, jStart, jEnd);
                break;
            case 32:
                Forward<SimdScalar>(a, aRows, b, bias, c, m, n, k, jStart, jEnd);
                break;
            case 256:
                Forward<Simd256>(a, aRows, b, bias, c, m, n, k, jStart, jEnd);
                break;
            default:
                Forward<Simd128>(a, aRows, b, bias, c, m, n, k, jStart, jEnd);
                break;
        }
    }

    /// <summary>
    /// Rows <c>[rStart, rEnd)</c> of <see cref="MultiplyRows"/>, with row <c>s</c> of R at row <c>rRows[s]</c> of
    /// <paramref name="r"/> when <paramref name="rRows"/> is not empty, and the result stored or folded into C as
    /// <paramref name="epilogue"/> says.
    /// </summary>
    internal static void MultiplyRowsUnchecked(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int rows, int sums, int cols, int rStart, int rEnd, Epilogue epilogue)
    {
        switch (SimdWidth.Bits)
        {
            case 512:
                Rows<Simd512>(lhs, rowStride, sumStride, r, rRows, c, sums, cols, rStart, rEnd, epilogue);
                break;
            case 32:
                Rows<SimdScalar>(lhs, rowStride, sumStride, r, rRows, c, sums, cols, rStart, rEnd, epilogue);
                break;
            case 256:
                Rows<Simd256>(lhs, rowStride, sumStride, r, rRows, c, sums, cols, rStart, rEnd, epilogue);
                break;
            default:
                Rows<Simd128>(lhs, rowStride, sumStride, r, rRows, c, sums, cols, rStart, rEnd, epilogue);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Forward<TV>(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, int jStart, int jEnd)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        if (k < w && w > 4)
        {
            // Rows shorter than a vector: the next narrower width, so that the tail always has a whole vector.
            if (w == 16)
            {
                Forward<Simd256>(a, aRows, b, bias, c, m, n, k, jStart, jEnd);
            }
            else
            {
                Forward<Simd128>(a, aRows, b, bias, c, m, n, k, jStart, jEnd);
            }

            return;
        }

        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float bias0 = ref MemoryMarshal.GetReference(bias);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        Dot<TV> dot = new(k, k - (k % w), TV.LanesFrom(w - (k % w))); // the tail's lanes: those of [k - w, k) past the last whole vector
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            ref float ar0 = ref Unsafe.Add(ref a0, RowOffset(aRows, i, k));
            ref float ar1 = ref Unsafe.Add(ref a0, RowOffset(aRows, i + 1, k));
            ref float ar2 = ref Unsafe.Add(ref a0, RowOffset(aRows, i + 2, k));
            ref float ar3 = ref Unsafe.Add(ref a0, RowOffset(aRows, i + 3, k));
            int j = jStart;
            if (SimdRegisters.Many || MultiplyAdds.AreFused)
            {
                for (; j + 3 <= jEnd; j += 3)
                {
                    Tile4x3(ref ar0, ref ar1, ref ar2, ref ar3, ref Unsafe.Add(ref b0, (nint)j * k), ref Unsafe.Add(ref bias0, j), ref Unsafe.Add(ref c0, ((nint)i * n) + j), n, dot);
                }
            }
            else
            {
                // 16 registers and no FMA: 4 x 3 needs 12 accumulators, 3 + 1 operands and a temporary for the product,
                // and the spilled accumulator's store-to-load round trip then bounds the whole loop. 4 x 2 fits.
                for (; j + 2 <= jEnd; j += 2)
                {
                    Tile4x2(ref ar0, ref ar1, ref ar2, ref ar3, ref Unsafe.Add(ref b0, (nint)j * k), ref Unsafe.Add(ref bias0, j), ref Unsafe.Add(ref c0, ((nint)i * n) + j), n, dot);
                }
            }

            for (; j < jEnd; j++)
            {
                Tile4x1(ref ar0, ref ar1, ref ar2, ref ar3, ref Unsafe.Add(ref b0, (nint)j * k), ref Unsafe.Add(ref bias0, j), ref Unsafe.Add(ref c0, ((nint)i * n) + j), n, dot);
            }
        }

        if (i + 2 <= m)
        {
            // Two rows left (m = 10, say): one pass over B for both instead of one per row.
            ref float ar0 = ref Unsafe.Add(ref a0, RowOffset(aRows, i, k));
            ref float ar1 = ref Unsafe.Add(ref a0, RowOffset(aRows, i + 1, k));
            int j = jStart;
            for (; j + 3 <= jEnd; j += 3)
            {
                Tile2x3(ref ar0, ref ar1, ref Unsafe.Add(ref b0, (nint)j * k), ref Unsafe.Add(ref bias0, j), ref Unsafe.Add(ref c0, ((nint)i * n) + j), n, dot);
            }

            for (; j < jEnd; j++)
            {
                Tile2x1(ref ar0, ref ar1, ref Unsafe.Add(ref b0, (nint)j * k), ref Unsafe.Add(ref bias0, j), ref Unsafe.Add(ref c0, ((nint)i * n) + j), n, dot);
            }

            i += 2;
        }

        for (; i < m; i++)
        {
            ref float ar = ref Unsafe.Add(ref a0, RowOffset(aRows, i, k));
            int j = jStart;
            for (; j + 3 <= jEnd; j += 3)
            {
                Tile1x3(ref ar, ref Unsafe.Add(ref b0, (nint)j * k), ref Unsafe.Add(ref bias0, j), ref Unsafe.Add(ref c0, ((nint)i * n) + j), dot);
            }

            for (; j < jEnd; j++)
            {
                Tile1x1(ref ar, ref Unsafe.Add(ref b0, (nint)j * k), ref Unsafe.Add(ref bias0, j), ref Unsafe.Add(ref c0, ((nint)i * n) + j), dot);
            }
        }
    }

    // The tiles of Forward: R rows of A against J consecutive rows of B, R x J independent accumulators, each load of
    // B used R times and each load of A J times; C[r, j] at cr + r * n + j. One method per tile shape keeps each
    // small enough for the JIT to inline every vector operation in it.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x3<TV>(ref float ar0, ref float ar1, ref float ar2, ref float ar3, ref float br0, ref float bias, ref float cr, int n, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        ref float br1 = ref Unsafe.Add(ref br0, dot.K);
        ref float br2 = ref Unsafe.Add(ref br1, dot.K);
        TV s00 = TV.Zero, s01 = TV.Zero, s02 = TV.Zero, s10 = TV.Zero, s11 = TV.Zero, s12 = TV.Zero;
        TV s20 = TV.Zero, s21 = TV.Zero, s22 = TV.Zero, s30 = TV.Zero, s31 = TV.Zero, s32 = TV.Zero;
        for (int p = 0; p < dot.VectorEnd; p += w)
        {
            TV x0 = TV.Load(ref br0, (nuint)p), x1 = TV.Load(ref br1, (nuint)p), x2 = TV.Load(ref br2, (nuint)p);
            TV y = TV.Load(ref ar0, (nuint)p);
            s00 = TV.MultiplyAdd(y, x0, s00);
            s01 = TV.MultiplyAdd(y, x1, s01);
            s02 = TV.MultiplyAdd(y, x2, s02);
            y = TV.Load(ref ar1, (nuint)p);
            s10 = TV.MultiplyAdd(y, x0, s10);
            s11 = TV.MultiplyAdd(y, x1, s11);
            s12 = TV.MultiplyAdd(y, x2, s12);
            y = TV.Load(ref ar2, (nuint)p);
            s20 = TV.MultiplyAdd(y, x0, s20);
            s21 = TV.MultiplyAdd(y, x1, s21);
            s22 = TV.MultiplyAdd(y, x2, s22);
            y = TV.Load(ref ar3, (nuint)p);
            s30 = TV.MultiplyAdd(y, x0, s30);
            s31 = TV.MultiplyAdd(y, x1, s31);
            s32 = TV.MultiplyAdd(y, x2, s32);
        }

        Finish(ref cr, s00, ref ar0, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, 1), s01, ref ar0, ref br1, Unsafe.Add(ref bias, 1), dot);
        Finish(ref Unsafe.Add(ref cr, 2), s02, ref ar0, ref br2, Unsafe.Add(ref bias, 2), dot);
        Finish(ref Unsafe.Add(ref cr, n), s10, ref ar1, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, n + 1), s11, ref ar1, ref br1, Unsafe.Add(ref bias, 1), dot);
        Finish(ref Unsafe.Add(ref cr, n + 2), s12, ref ar1, ref br2, Unsafe.Add(ref bias, 2), dot);
        Finish(ref Unsafe.Add(ref cr, 2 * n), s20, ref ar2, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, (2 * n) + 1), s21, ref ar2, ref br1, Unsafe.Add(ref bias, 1), dot);
        Finish(ref Unsafe.Add(ref cr, (2 * n) + 2), s22, ref ar2, ref br2, Unsafe.Add(ref bias, 2), dot);
        Finish(ref Unsafe.Add(ref cr, 3 * n), s30, ref ar3, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, (3 * n) + 1), s31, ref ar3, ref br1, Unsafe.Add(ref bias, 1), dot);
        Finish(ref Unsafe.Add(ref cr, (3 * n) + 2), s32, ref ar3, ref br2, Unsafe.Add(ref bias, 2), dot);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2<TV>(ref float ar0, ref float ar1, ref float ar2, ref float ar3, ref float br0, ref float bias, ref float cr, int n, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        ref float br1 = ref Unsafe.Add(ref br0, dot.K);
        TV s00 = TV.Zero, s01 = TV.Zero, s10 = TV.Zero, s11 = TV.Zero, s20 = TV.Zero, s21 = TV.Zero, s30 = TV.Zero, s31 = TV.Zero;
        for (int p = 0; p < dot.VectorEnd; p += w)
        {
            TV x0 = TV.Load(ref br0, (nuint)p), x1 = TV.Load(ref br1, (nuint)p);
            TV y = TV.Load(ref ar0, (nuint)p);
            s00 = TV.MultiplyAdd(y, x0, s00);
            s01 = TV.MultiplyAdd(y, x1, s01);
            y = TV.Load(ref ar1, (nuint)p);
            s10 = TV.MultiplyAdd(y, x0, s10);
            s11 = TV.MultiplyAdd(y, x1, s11);
            y = TV.Load(ref ar2, (nuint)p);
            s20 = TV.MultiplyAdd(y, x0, s20);
            s21 = TV.MultiplyAdd(y, x1, s21);
            y = TV.Load(ref ar3, (nuint)p);
            s30 = TV.MultiplyAdd(y, x0, s30);
            s31 = TV.MultiplyAdd(y, x1, s31);
        }

        Finish(ref cr, s00, ref ar0, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, 1), s01, ref ar0, ref br1, Unsafe.Add(ref bias, 1), dot);
        Finish(ref Unsafe.Add(ref cr, n), s10, ref ar1, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, n + 1), s11, ref ar1, ref br1, Unsafe.Add(ref bias, 1), dot);
        Finish(ref Unsafe.Add(ref cr, 2 * n), s20, ref ar2, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, (2 * n) + 1), s21, ref ar2, ref br1, Unsafe.Add(ref bias, 1), dot);
        Finish(ref Unsafe.Add(ref cr, 3 * n), s30, ref ar3, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, (3 * n) + 1), s31, ref ar3, ref br1, Unsafe.Add(ref bias, 1), dot);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x1<TV>(ref float ar0, ref float ar1, ref float ar2, ref float ar3, ref float br0, ref float bias, ref float cr, int n, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        TV s00 = TV.Zero, s10 = TV.Zero, s20 = TV.Zero, s30 = TV.Zero;
        for (int p = 0; p < dot.VectorEnd; p += w)
        {
            TV x0 = TV.Load(ref br0, (nuint)p);
            s00 = TV.MultiplyAdd(TV.Load(ref ar0, (nuint)p), x0, s00);
            s10 = TV.MultiplyAdd(TV.Load(ref ar1, (nuint)p), x0, s10);
            s20 = TV.MultiplyAdd(TV.Load(ref ar2, (nuint)p), x0, s20);
            s30 = TV.MultiplyAdd(TV.Load(ref ar3, (nuint)p), x0, s30);
        }

        Finish(ref cr, s00, ref ar0, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, n), s10, ref ar1, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, 2 * n), s20, ref ar2, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, 3 * n), s30, ref ar3, ref br0, bias, dot);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x3<TV>(ref float ar0, ref float ar1, ref float br0, ref float bias, ref float cr, int n, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        ref float br1 = ref Unsafe.Add(ref br0, dot.K);
        ref float br2 = ref Unsafe.Add(ref br1, dot.K);
        TV s00 = TV.Zero, s01 = TV.Zero, s02 = TV.Zero, s10 = TV.Zero, s11 = TV.Zero, s12 = TV.Zero;
        for (int p = 0; p < dot.VectorEnd; p += w)
        {
            TV x0 = TV.Load(ref br0, (nuint)p), x1 = TV.Load(ref br1, (nuint)p), x2 = TV.Load(ref br2, (nuint)p);
            TV y = TV.Load(ref ar0, (nuint)p);
            s00 = TV.MultiplyAdd(y, x0, s00);
            s01 = TV.MultiplyAdd(y, x1, s01);
            s02 = TV.MultiplyAdd(y, x2, s02);
            y = TV.Load(ref ar1, (nuint)p);
            s10 = TV.MultiplyAdd(y, x0, s10);
            s11 = TV.MultiplyAdd(y, x1, s11);
            s12 = TV.MultiplyAdd(y, x2, s12);
        }

        Finish(ref cr, s00, ref ar0, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, 1), s01, ref ar0, ref br1, Unsafe.Add(ref bias, 1), dot);
        Finish(ref Unsafe.Add(ref cr, 2), s02, ref ar0, ref br2, Unsafe.Add(ref bias, 2), dot);
        Finish(ref Unsafe.Add(ref cr, n), s10, ref ar1, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, n + 1), s11, ref ar1, ref br1, Unsafe.Add(ref bias, 1), dot);
        Finish(ref Unsafe.Add(ref cr, n + 2), s12, ref ar1, ref br2, Unsafe.Add(ref bias, 2), dot);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x1<TV>(ref float ar0, ref float ar1, ref float br0, ref float bias, ref float cr, int n, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        TV s00 = TV.Zero, s10 = TV.Zero;
        for (int p = 0; p < dot.VectorEnd; p += w)
        {
            TV x0 = TV.Load(ref br0, (nuint)p);
            s00 = TV.MultiplyAdd(TV.Load(ref ar0, (nuint)p), x0, s00);
            s10 = TV.MultiplyAdd(TV.Load(ref ar1, (nuint)p), x0, s10);
        }

        Finish(ref cr, s00, ref ar0, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, n), s10, ref ar1, ref br0, bias, dot);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1x3<TV>(ref float ar0, ref float br0, ref float bias, ref float cr, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        ref float br1 = ref Unsafe.Add(ref br0, dot.K);
        ref float br2 = ref Unsafe.Add(ref br1, dot.K);
        TV s00 = TV.Zero, s01 = TV.Zero, s02 = TV.Zero;
        for (int p = 0; p < dot.VectorEnd; p += w)
        {
            TV x0 = TV.Load(ref br0, (nuint)p), x1 = TV.Load(ref br1, (nuint)p), x2 = TV.Load(ref br2, (nuint)p);
            TV y = TV.Load(ref ar0, (nuint)p);
            s00 = TV.MultiplyAdd(y, x0, s00);
            s01 = TV.MultiplyAdd(y, x1, s01);
            s02 = TV.MultiplyAdd(y, x2, s02);
        }

        Finish(ref cr, s00, ref ar0, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, 1), s01, ref ar0, ref br1, Unsafe.Add(ref bias, 1), dot);
        Finish(ref Unsafe.Add(ref cr, 2), s02, ref ar0, ref br2, Unsafe.Add(ref bias, 2), dot);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1x1<TV>(ref float ar0, ref float br0, ref float bias, ref float cr, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        TV s00 = TV.Zero;
        for (int p = 0; p < dot.VectorEnd; p += w)
        {
            TV x0 = TV.Load(ref br0, (nuint)p);
            s00 = TV.MultiplyAdd(TV.Load(ref ar0, (nuint)p), x0, s00);
        }

        Finish(ref cr, s00, ref ar0, ref br0, bias, dot);
    }

    // The tail of one dot product, then the bias. The tail is the row's last whole vector, [k - w, k), with the lanes
    // the main loop already summed masked to zero in both factors (0 * 0 adds nothing, whatever the other factor
    // held): one vector step instead of a scalar chain of up to w - 1 dependent multiply-adds. Only 128-bit rows
    // shorter than a vector fall back to scalars.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TV>(ref float destination, TV acc, ref float a, ref float b, float bias, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count, k = dot.K;
        if (dot.VectorEnd < k && k >= w)
        {
            nuint p = (nuint)(k - w);
            acc = TV.MultiplyAdd(TV.And(TV.Load(ref a, p), dot.Tail), TV.And(TV.Load(ref b, p), dot.Tail), acc);
            destination = TV.Sum(acc) + bias;
            return;
        }

        float sum = TV.Sum(acc);
        for (int p = dot.VectorEnd; p < k; p++)
        {
            sum += Unsafe.Add(ref a, p) * Unsafe.Add(ref b, p);
        }

        destination = sum + bias;
    }

    // The shape of Forward's dot products: their length, where the whole vectors end, and the tail's lanes.
    private readonly record struct Dot<TV>(int K, int VectorEnd, TV Tail)
        where TV : struct, ISimd<TV>;

    /// <summary>
    /// <c>C = A B + 1 b^T</c> with B given as its <c>k x n</c> row-major matrix: <c>C[i, j] = sum_p A[i, p] B[p, j] + bias[j]</c>,
    /// the forward pass <c>Z = A W^T + b</c> when B holds <c>W^T</c>. An outer-product shape: each step p broadcasts
    /// <c>A[i, p]</c> for eight rows of A and multiplies two vectors of row p of B into sixteen accumulators that run
    /// along the outputs, so there are no horizontal sums and each load of B serves eight samples.
    /// </summary>
    /// <param name="a">Row-major <c>m x k</c>.</param>
    /// <param name="b">Row-major <c>k x n</c>.</param>
    /// <param name="bias">Length <c>n</c>.</param>
    /// <param name="c">Row-major <c>m x n</c>, overwritten; must not overlap the inputs.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="k">Columns of A, rows of B.</param>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    public static void MultiplyAddBias(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k)
    {
        Guard.Positive(m);
        Guard.Positive(n);
        Guard.Positive(k);
        Guard.Length(a.Length, m * k, "m * k");
        Guard.Length(b.Length, k * n, "k * n");
        Guard.Length(bias.Length, n, "n");
        Guard.Length(c.Length, m * n, "m * n");
        MultiplyAddBiasUnchecked(a, b, bias, c, m, n, k, skipZeroInputs: false);
    }

    /// <summary>The transpose of the row-major <c>rows x cols</c> matrix <paramref name="w"/> into <paramref name="transposed"/> (<c>cols x rows</c>).</summary>
    internal static void Transpose(ReadOnlySpan<float> w, int rows, int cols, Span<float> transposed)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = w.Slice(r * cols, cols);
            for (int q = 0; q < row.Length; q++)
            {
                transposed[(q * rows) + r] = row[q];
            }
        }
    }

    /// <summary>
    /// <see cref="MultiplyAddBias"/>; with <paramref name="skipZeroInputs"/>, steps p at which all eight rows of a block
    /// of A hold zero are skipped (see the outer-product kernel), which is exact only when B is finite.
    /// </summary>
    internal static void MultiplyAddBiasUnchecked(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, bool skipZeroInputs)
    {
        var skip = new ZeroSkipping { Enabled = skipZeroInputs };
        MultiplyAddBiasUnchecked(a, b, bias, c, m, n, k, ref skip);
    }

    /// <summary><see cref="MultiplyAddBias"/>, skipping zero inputs as <paramref name="skip"/> says, whose state carries over to the next call.</summary>
    internal static void MultiplyAddBiasUnchecked(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, ref ZeroSkipping skip)
    {
        switch (SimdWidth.Bits)
        {
            case 512:
                Outer<Simd512>(a, b, bias, c, m, n, k, ref skip);
                break;
            case 32:
                Outer<SimdScalar>(a, b, bias, c, m, n, k, ref skip);
                break;
            case 256:
                Outer<Simd256>(a, b, bias, c, m, n, k, ref skip);
                break;
            default:
                Outer<Simd128>(a, b, bias, c, m, n, k, ref skip);
                break;
        }
    }

    /// <summary>Most inputs per row for which the outer-product kernel keeps its bitmap of non-zero columns on the stack (4 KiB).</summary>
    private const int MaxSkippingInputs = 32_768;

    // Skipping zero inputs: an image's blank pixels, say (81% of an MNIST digit, 53% of the pixels of a block of eight
    // digits). Where all eight rows of a block have A[i, p] = 0 the step adds 0 * B[p, j] = 0 to every accumulator,
    // which changes nothing when B is finite (at most the sign of a zero sum), so a bitmap of the columns where some
    // row is non-zero, built with one vector OR per eight loads, lets the block visit only those. Blocks where nearly
    // every column is non-zero (dense inputs) keep the plain loop, and ZeroSkipping stops scanning inputs that keep
    // turning out dense.
    internal static void Outer<TV>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, bool skipZeroInputs = false)
        where TV : struct, ISimd<TV>
    {
        var skip = new ZeroSkipping { Enabled = skipZeroInputs };
        Outer<TV>(a, b, bias, c, m, n, k, ref skip);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Outer<TV>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, ref ZeroSkipping skip)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        if (n < w && w > 4)
        {
            // Fewer outputs than a vector: the next narrower width.
            if (w == 16)
            {
                Outer<Simd256>(a, b, bias, c, m, n, k, ref skip);
            }
            else
            {
                Outer<Simd128>(a, b, bias, c, m, n, k, ref skip);
            }

            return;
        }

        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float bias0 = ref MemoryMarshal.GetReference(bias);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        if (n < w)
        {
            // 128-bit vectors and fewer than four outputs: scalars, summed in the same order as the vector lanes.
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    float sum = Unsafe.Add(ref bias0, j);
                    for (int p = 0; p < k; p++)
                    {
                        sum = MultiplyAdds.Scalar(Unsafe.Add(ref a0, ((nint)i * k) + p), Unsafe.Add(ref b0, ((nint)p * n) + j), sum);
                    }

                    Unsafe.Add(ref c0, ((nint)i * n) + j) = sum;
                }
            }

            return;
        }

        // The output vectors start at 0, w, 2w, ...; when n is not a multiple of w the last one is [n - w, n), which
        // overlaps the one before it: the shared lanes are computed twice in the same order, so both stores agree.
        int vectors = (n + w - 1) / w;
        Span<ulong> columns = skip.Enabled && m >= 8 && k <= MaxSkippingInputs ? stackalloc ulong[(k + 63) / 64] : default;
        int i0 = 0;
        for (; i0 + 8 <= m; i0 += 8)
        {
            ref float ai = ref Unsafe.Add(ref a0, (nint)i0 * k);
            ref float ci = ref Unsafe.Add(ref c0, (nint)i0 * n);
            int v = 0;
            // Eight rows by two vectors is 16 accumulators: only with 32 registers; with 16, one vector at a time.
            if (!columns.IsEmpty && skip.Scan() && skip.Found(NonZeroColumns<TV>(ref ai, k, columns) <= k - (k / 8)))
            {
                for (; SimdRegisters.Many && v + 2 <= vectors; v += 2)
                {
                    Sparse8x2<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, columns, VectorStart(v, w, n), VectorStart(v + 1, w, n));
                }

                for (; v < vectors; v++)
                {
                    Sparse8x1<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, columns, VectorStart(v, w, n));
                }

                continue;
            }

            for (; SimdRegisters.Many && v + 2 <= vectors; v += 2)
            {
                Outer8x2<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n), VectorStart(v + 1, w, n));
            }

            for (; v < vectors; v++)
            {
                Outer8x1<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n));
            }
        }

        for (; i0 + 4 <= m; i0 += 4)
        {
            ref float ai = ref Unsafe.Add(ref a0, (nint)i0 * k);
            ref float ci = ref Unsafe.Add(ref c0, (nint)i0 * n);
            int v = 0;
            for (; v + 2 <= vectors; v += 2)
            {
                Outer4x2<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n), VectorStart(v + 1, w, n));
            }

            if (v < vectors)
            {
                Outer4x1<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n));
            }
        }

        for (; i0 < m; i0++)
        {
            ref float ai = ref Unsafe.Add(ref a0, (nint)i0 * k);
            ref float ci = ref Unsafe.Add(ref c0, (nint)i0 * n);
            int v = 0;
            for (; v + 2 <= vectors; v += 2)
            {
                Outer1x2<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n), VectorStart(v + 1, w, n));
            }

            if (v < vectors)
            {
                Outer1x1<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n));
            }
        }
    }

    private static int VectorStart(int v, int w, int n) => Math.Min(v * w, n - w);

    // Sets bit p of the bitmap when any of the eight rows (k apart from a) is non-zero at p; returns how many are.
    private static int NonZeroColumns<TV>(ref float a, int k, Span<ulong> columns)
        where TV : struct, ISimd<TV>
    {
        columns.Clear();
        int w = TV.Count; // 1, 4, 8 or 16: a vector's bits never straddle two words
        int p = 0;
        for (; p + w <= k; p += w)
        {
            ref float x = ref Unsafe.Add(ref a, p);
            TV any = TV.Or(TV.Or(TV.Or(TV.Load(ref x, 0), TV.Load(ref x, (nuint)k)), TV.Or(TV.Load(ref x, (nuint)(2 * k)), TV.Load(ref x, (nuint)(3 * k)))),
                TV.Or(TV.Or(TV.Load(ref x, (nuint)(4 * k)), TV.Load(ref x, (nuint)(5 * k))), TV.Or(TV.Load(ref x, (nuint)(6 * k)), TV.Load(ref x, (nuint)(7 * k)))));
            columns[p >> 6] |= TV.NonZeroLanes(any) << (p & 63);
        }

        for (; p < k; p++)
        {
            for (int s = 0; s < 8; s++)
            {
                if (Unsafe.Add(ref a, (s * k) + p) != 0)
                {
                    columns[p >> 6] |= 1UL << (p & 63);
                    break;
                }
            }
        }

        int count = 0;
        foreach (ulong word in columns)
        {
            count += BitOperations.PopCount(word);
        }

        return count;
    }

    // The tiles of Outer: S rows of A (k apart) against one or two vectors of outputs, S x V accumulators that start
    // at the bias. Generated shapes, one method each so the JIT inlines every vector operation.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer8x2<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0, int q1)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0), b1 = TV.Load(ref bias, (nuint)q1);
        TV c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        TV c40 = b0, c41 = b1, c50 = b0, c51 = b1, c60 = b0, c61 = b1, c70 = b0, c71 = b1;
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref bt, (nint)p * n);
            TV w0 = TV.Load(ref row, (nuint)q0), w1 = TV.Load(ref row, (nuint)q1);
            ref float x = ref Unsafe.Add(ref a, p);
            TV f = TV.Broadcast(x);
            c00 = TV.MultiplyAdd(f, w0, c00);
            c01 = TV.MultiplyAdd(f, w1, c01);
            f = TV.Broadcast(Unsafe.Add(ref x, k));
            c10 = TV.MultiplyAdd(f, w0, c10);
            c11 = TV.MultiplyAdd(f, w1, c11);
            f = TV.Broadcast(Unsafe.Add(ref x, 2 * k));
            c20 = TV.MultiplyAdd(f, w0, c20);
            c21 = TV.MultiplyAdd(f, w1, c21);
            f = TV.Broadcast(Unsafe.Add(ref x, 3 * k));
            c30 = TV.MultiplyAdd(f, w0, c30);
            c31 = TV.MultiplyAdd(f, w1, c31);
            f = TV.Broadcast(Unsafe.Add(ref x, 4 * k));
            c40 = TV.MultiplyAdd(f, w0, c40);
            c41 = TV.MultiplyAdd(f, w1, c41);
            f = TV.Broadcast(Unsafe.Add(ref x, 5 * k));
            c50 = TV.MultiplyAdd(f, w0, c50);
            c51 = TV.MultiplyAdd(f, w1, c51);
            f = TV.Broadcast(Unsafe.Add(ref x, 6 * k));
            c60 = TV.MultiplyAdd(f, w0, c60);
            c61 = TV.MultiplyAdd(f, w1, c61);
            f = TV.Broadcast(Unsafe.Add(ref x, 7 * k));
            c70 = TV.MultiplyAdd(f, w0, c70);
            c71 = TV.MultiplyAdd(f, w1, c71);
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c01, ref c, (nuint)q1);
        TV.Store(c10, ref Unsafe.Add(ref c, n), (nuint)q0);
        TV.Store(c11, ref Unsafe.Add(ref c, n), (nuint)q1);
        TV.Store(c20, ref Unsafe.Add(ref c, 2 * n), (nuint)q0);
        TV.Store(c21, ref Unsafe.Add(ref c, 2 * n), (nuint)q1);
        TV.Store(c30, ref Unsafe.Add(ref c, 3 * n), (nuint)q0);
        TV.Store(c31, ref Unsafe.Add(ref c, 3 * n), (nuint)q1);
        TV.Store(c40, ref Unsafe.Add(ref c, 4 * n), (nuint)q0);
        TV.Store(c41, ref Unsafe.Add(ref c, 4 * n), (nuint)q1);
        TV.Store(c50, ref Unsafe.Add(ref c, 5 * n), (nuint)q0);
        TV.Store(c51, ref Unsafe.Add(ref c, 5 * n), (nuint)q1);
        TV.Store(c60, ref Unsafe.Add(ref c, 6 * n), (nuint)q0);
        TV.Store(c61, ref Unsafe.Add(ref c, 6 * n), (nuint)q1);
        TV.Store(c70, ref Unsafe.Add(ref c, 7 * n), (nuint)q0);
        TV.Store(c71, ref Unsafe.Add(ref c, 7 * n), (nuint)q1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer8x1<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0);
        TV c00 = b0, c10 = b0, c20 = b0, c30 = b0, c40 = b0, c50 = b0, c60 = b0, c70 = b0;
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref bt, (nint)p * n);
            TV w0 = TV.Load(ref row, (nuint)q0);
            ref float x = ref Unsafe.Add(ref a, p);
            TV f = TV.Broadcast(x);
            c00 = TV.MultiplyAdd(f, w0, c00);
            f = TV.Broadcast(Unsafe.Add(ref x, k));
            c10 = TV.MultiplyAdd(f, w0, c10);
            f = TV.Broadcast(Unsafe.Add(ref x, 2 * k));
            c20 = TV.MultiplyAdd(f, w0, c20);
            f = TV.Broadcast(Unsafe.Add(ref x, 3 * k));
            c30 = TV.MultiplyAdd(f, w0, c30);
            f = TV.Broadcast(Unsafe.Add(ref x, 4 * k));
            c40 = TV.MultiplyAdd(f, w0, c40);
            f = TV.Broadcast(Unsafe.Add(ref x, 5 * k));
            c50 = TV.MultiplyAdd(f, w0, c50);
            f = TV.Broadcast(Unsafe.Add(ref x, 6 * k));
            c60 = TV.MultiplyAdd(f, w0, c60);
            f = TV.Broadcast(Unsafe.Add(ref x, 7 * k));
            c70 = TV.MultiplyAdd(f, w0, c70);
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c10, ref Unsafe.Add(ref c, n), (nuint)q0);
        TV.Store(c20, ref Unsafe.Add(ref c, 2 * n), (nuint)q0);
        TV.Store(c30, ref Unsafe.Add(ref c, 3 * n), (nuint)q0);
        TV.Store(c40, ref Unsafe.Add(ref c, 4 * n), (nuint)q0);
        TV.Store(c50, ref Unsafe.Add(ref c, 5 * n), (nuint)q0);
        TV.Store(c60, ref Unsafe.Add(ref c, 6 * n), (nuint)q0);
        TV.Store(c70, ref Unsafe.Add(ref c, 7 * n), (nuint)q0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer4x2<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0, int q1)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0), b1 = TV.Load(ref bias, (nuint)q1);
        TV c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref bt, (nint)p * n);
            TV w0 = TV.Load(ref row, (nuint)q0), w1 = TV.Load(ref row, (nuint)q1);
            ref float x = ref Unsafe.Add(ref a, p);
            TV f = TV.Broadcast(x);
            c00 = TV.MultiplyAdd(f, w0, c00);
            c01 = TV.MultiplyAdd(f, w1, c01);
            f = TV.Broadcast(Unsafe.Add(ref x, k));
            c10 = TV.MultiplyAdd(f, w0, c10);
            c11 = TV.MultiplyAdd(f, w1, c11);
            f = TV.Broadcast(Unsafe.Add(ref x, 2 * k));
            c20 = TV.MultiplyAdd(f, w0, c20);
            c21 = TV.MultiplyAdd(f, w1, c21);
            f = TV.Broadcast(Unsafe.Add(ref x, 3 * k));
            c30 = TV.MultiplyAdd(f, w0, c30);
            c31 = TV.MultiplyAdd(f, w1, c31);
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c01, ref c, (nuint)q1);
        TV.Store(c10, ref Unsafe.Add(ref c, n), (nuint)q0);
        TV.Store(c11, ref Unsafe.Add(ref c, n), (nuint)q1);
        TV.Store(c20, ref Unsafe.Add(ref c, 2 * n), (nuint)q0);
        TV.Store(c21, ref Unsafe.Add(ref c, 2 * n), (nuint)q1);
        TV.Store(c30, ref Unsafe.Add(ref c, 3 * n), (nuint)q0);
        TV.Store(c31, ref Unsafe.Add(ref c, 3 * n), (nuint)q1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer4x1<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0);
        TV c00 = b0, c10 = b0, c20 = b0, c30 = b0;
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref bt, (nint)p * n);
            TV w0 = TV.Load(ref row, (nuint)q0);
            ref float x = ref Unsafe.Add(ref a, p);
            TV f = TV.Broadcast(x);
            c00 = TV.MultiplyAdd(f, w0, c00);
            f = TV.Broadcast(Unsafe.Add(ref x, k));
            c10 = TV.MultiplyAdd(f, w0, c10);
            f = TV.Broadcast(Unsafe.Add(ref x, 2 * k));
            c20 = TV.MultiplyAdd(f, w0, c20);
            f = TV.Broadcast(Unsafe.Add(ref x, 3 * k));
            c30 = TV.MultiplyAdd(f, w0, c30);
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c10, ref Unsafe.Add(ref c, n), (nuint)q0);
        TV.Store(c20, ref Unsafe.Add(ref c, 2 * n), (nuint)q0);
        TV.Store(c30, ref Unsafe.Add(ref c, 3 * n), (nuint)q0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer1x2<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0, int q1)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0), b1 = TV.Load(ref bias, (nuint)q1);
        TV c00 = b0, c01 = b1;
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref bt, (nint)p * n);
            TV w0 = TV.Load(ref row, (nuint)q0), w1 = TV.Load(ref row, (nuint)q1);
            ref float x = ref Unsafe.Add(ref a, p);
            TV f = TV.Broadcast(x);
            c00 = TV.MultiplyAdd(f, w0, c00);
            c01 = TV.MultiplyAdd(f, w1, c01);
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c01, ref c, (nuint)q1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer1x1<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0);
        TV c00 = b0;
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref bt, (nint)p * n);
            TV w0 = TV.Load(ref row, (nuint)q0);
            ref float x = ref Unsafe.Add(ref a, p);
            TV f = TV.Broadcast(x);
            c00 = TV.MultiplyAdd(f, w0, c00);
        }

        TV.Store(c00, ref c, (nuint)q0);
    }

    // Outer8x2 and Outer8x1 over the columns set in the bitmap only.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sparse8x2<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, ReadOnlySpan<ulong> columns, int q0, int q1)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0), b1 = TV.Load(ref bias, (nuint)q1);
        TV c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        TV c40 = b0, c41 = b1, c50 = b0, c51 = b1, c60 = b0, c61 = b1, c70 = b0, c71 = b1;
        for (int word = 0; word < columns.Length; word++)
        {
            for (ulong bits = columns[word]; bits != 0; bits &= bits - 1)
            {
                int p = (word * 64) + BitOperations.TrailingZeroCount(bits);
                ref float row = ref Unsafe.Add(ref bt, (nint)p * n);
                TV w0 = TV.Load(ref row, (nuint)q0), w1 = TV.Load(ref row, (nuint)q1);
                ref float x = ref Unsafe.Add(ref a, p);
                TV f = TV.Broadcast(x);
                c00 = TV.MultiplyAdd(f, w0, c00);
                c01 = TV.MultiplyAdd(f, w1, c01);
                f = TV.Broadcast(Unsafe.Add(ref x, k));
                c10 = TV.MultiplyAdd(f, w0, c10);
                c11 = TV.MultiplyAdd(f, w1, c11);
                f = TV.Broadcast(Unsafe.Add(ref x, 2 * k));
                c20 = TV.MultiplyAdd(f, w0, c20);
                c21 = TV.MultiplyAdd(f, w1, c21);
                f = TV.Broadcast(Unsafe.Add(ref x, 3 * k));
                c30 = TV.MultiplyAdd(f, w0, c30);
                c31 = TV.MultiplyAdd(f, w1, c31);
                f = TV.Broadcast(Unsafe.Add(ref x, 4 * k));
                c40 = TV.MultiplyAdd(f, w0, c40);
                c41 = TV.MultiplyAdd(f, w1, c41);
                f = TV.Broadcast(Unsafe.Add(ref x, 5 * k));
                c50 = TV.MultiplyAdd(f, w0, c50);
                c51 = TV.MultiplyAdd(f, w1, c51);
                f = TV.Broadcast(Unsafe.Add(ref x, 6 * k));
                c60 = TV.MultiplyAdd(f, w0, c60);
                c61 = TV.MultiplyAdd(f, w1, c61);
                f = TV.Broadcast(Unsafe.Add(ref x, 7 * k));
                c70 = TV.MultiplyAdd(f, w0, c70);
                c71 = TV.MultiplyAdd(f, w1, c71);
            }
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c01, ref c, (nuint)q1);
        TV.Store(c10, ref Unsafe.Add(ref c, n), (nuint)q0);
        TV.Store(c11, ref Unsafe.Add(ref c, n), (nuint)q1);
        TV.Store(c20, ref Unsafe.Add(ref c, 2 * n), (nuint)q0);
        TV.Store(c21, ref Unsafe.Add(ref c, 2 * n), (nuint)q1);
        TV.Store(c30, ref Unsafe.Add(ref c, 3 * n), (nuint)q0);
        TV.Store(c31, ref Unsafe.Add(ref c, 3 * n), (nuint)q1);
        TV.Store(c40, ref Unsafe.Add(ref c, 4 * n), (nuint)q0);
        TV.Store(c41, ref Unsafe.Add(ref c, 4 * n), (nuint)q1);
        TV.Store(c50, ref Unsafe.Add(ref c, 5 * n), (nuint)q0);
        TV.Store(c51, ref Unsafe.Add(ref c, 5 * n), (nuint)q1);
        TV.Store(c60, ref Unsafe.Add(ref c, 6 * n), (nuint)q0);
        TV.Store(c61, ref Unsafe.Add(ref c, 6 * n), (nuint)q1);
        TV.Store(c70, ref Unsafe.Add(ref c, 7 * n), (nuint)q0);
        TV.Store(c71, ref Unsafe.Add(ref c, 7 * n), (nuint)q1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sparse8x1<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, ReadOnlySpan<ulong> columns, int q0)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0);
        TV c00 = b0, c10 = b0, c20 = b0, c30 = b0, c40 = b0, c50 = b0, c60 = b0, c70 = b0;
        for (int word = 0; word < columns.Length; word++)
        {
            for (ulong bits = columns[word]; bits != 0; bits &= bits - 1)
            {
                int p = (word * 64) + BitOperations.TrailingZeroCount(bits);
                ref float row = ref Unsafe.Add(ref bt, (nint)p * n);
                TV w0 = TV.Load(ref row, (nuint)q0);
                ref float x = ref Unsafe.Add(ref a, p);
                TV f = TV.Broadcast(x);
                c00 = TV.MultiplyAdd(f, w0, c00);
                f = TV.Broadcast(Unsafe.Add(ref x, k));
                c10 = TV.MultiplyAdd(f, w0, c10);
                f = TV.Broadcast(Unsafe.Add(ref x, 2 * k));
                c20 = TV.MultiplyAdd(f, w0, c20);
                f = TV.Broadcast(Unsafe.Add(ref x, 3 * k));
                c30 = TV.MultiplyAdd(f, w0, c30);
                f = TV.Broadcast(Unsafe.Add(ref x, 4 * k));
                c40 = TV.MultiplyAdd(f, w0, c40);
                f = TV.Broadcast(Unsafe.Add(ref x, 5 * k));
                c50 = TV.MultiplyAdd(f, w0, c50);
                f = TV.Broadcast(Unsafe.Add(ref x, 6 * k));
                c60 = TV.MultiplyAdd(f, w0, c60);
                f = TV.Broadcast(Unsafe.Add(ref x, 7 * k));
                c70 = TV.MultiplyAdd(f, w0, c70);
            }
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c10, ref Unsafe.Add(ref c, n), (nuint)q0);
        TV.Store(c20, ref Unsafe.Add(ref c, 2 * n), (nuint)q0);
        TV.Store(c30, ref Unsafe.Add(ref c, 3 * n), (nuint)q0);
        TV.Store(c40, ref Unsafe.Add(ref c, 4 * n), (nuint)q0);
        TV.Store(c50, ref Unsafe.Add(ref c, 5 * n), (nuint)q0);
        TV.Store(c60, ref Unsafe.Add(ref c, 6 * n), (nuint)q0);
        TV.Store(c70, ref Unsafe.Add(ref c, 7 * n), (nuint)q0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint RowOffset(ReadOnlySpan<int> rows, int i, int length) => (nint)(rows.IsEmpty ? i : rows[i]) * length;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Rows<TV>(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int sums, int cols, int rStart, int rEnd, Epilogue epilogue)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        if (cols < w && w > 4)
        {
            // Rows shorter than a vector: the next narrower width, so that the tail below always has a whole vector.
            if (w == 16)
            {
                Rows<Simd256>(lhs, rowStride, sumStride, r, rRows, c, sums, cols, rStart, rEnd, epilogue);
            }
            else
            {
                Rows<Simd128>(lhs, rowStride, sumStride, r, rRows, c, sums, cols, rStart, rEnd, epilogue);
            }

            return;
        }

        ref float l0 = ref MemoryMarshal.GetReference(lhs);
        ref float r0 = ref MemoryMarshal.GetReference(r);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        int vectorEnd = cols - (cols % w);

        // Columns past the last whole vector go through the row's last vector, [cols - w, cols), computed whole
        // and stored only in its lanes from vectorEnd on (see Epilogue.ApplyTail): one vector step per row instead
        // of a scalar chain per column. Only 128-bit rows shorter than a vector are left to scalars.
        Tail<TV> tail = new(vectorEnd < cols && cols >= w, cols - w, TV.LanesFrom(w - (cols - vectorEnd)));
        int row = rStart;
        for (; row + 4 <= rEnd; row += 4)
        {
            FourRows(ref Unsafe.Add(ref l0, (nint)row * rowStride), rowStride, sumStride, ref r0, rRows, ref Unsafe.Add(ref c0, (nint)row * cols), sums, cols, tail, epilogue);
        }

        if (row + 2 <= rEnd)
        {
            // Two rows left (30 neurons = 7 x 4 + 2): one pass over R for both.
            TwoRows(ref Unsafe.Add(ref l0, (nint)row * rowStride), rowStride, sumStride, ref r0, rRows, ref Unsafe.Add(ref c0, (nint)row * cols), sums, cols, tail, epilogue);
            row += 2;
        }

        if (row < rEnd)
        {
            RowTail(ref Unsafe.Add(ref l0, (nint)row * rowStride), sumStride, ref r0, rRows, ref Unsafe.Add(ref c0, (nint)row * cols), sums, cols, tail, epilogue);
        }
    }

    // Four output rows: two vectors of each at a time (eight accumulators; each load of R used four times), then a
    // single vector, then the tail, four independent chains each (not four one-chain rows).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows<TV>(ref float lr, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr0, int sums, int cols, Tail<TV> tail, Epilogue epilogue)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        int pairEnd = cols - (cols % (2 * w));
        int vectorEnd = cols - (cols % w);
        ref float cr1 = ref Unsafe.Add(ref cr0, cols);
        ref float cr2 = ref Unsafe.Add(ref cr1, cols);
        ref float cr3 = ref Unsafe.Add(ref cr2, cols);
        // The four rows of L and the picked rows of R, addressed once here so that the inner loop only steps offsets.
        ref float l1 = ref Unsafe.Add(ref lr, rowStride);
        ref float l2 = ref Unsafe.Add(ref l1, rowStride);
        ref float l3 = ref Unsafe.Add(ref l2, rowStride);
        ref int picks = ref MemoryMarshal.GetReference(rRows);
        bool picked = !rRows.IsEmpty;
        int q = 0;
        for (; q < pairEnd; q += 2 * w)
        {
            TV t00 = TV.Zero, t01 = TV.Zero, t10 = TV.Zero, t11 = TV.Zero, t20 = TV.Zero, t21 = TV.Zero, t30 = TV.Zero, t31 = TV.Zero;
            nint at = 0;
            for (int s = 0; s < sums; s++, at += sumStride)
            {
                ref float rs = ref Unsafe.Add(ref r0, ((nint)(picked ? Unsafe.Add(ref picks, s) : s) * cols) + q);
                TV x0 = TV.Load(ref rs, 0), x1 = TV.Load(ref rs, (nuint)w);
                TV f = TV.Broadcast(Unsafe.Add(ref lr, at));
                t00 = TV.MultiplyAdd(f, x0, t00);
                t01 = TV.MultiplyAdd(f, x1, t01);
                f = TV.Broadcast(Unsafe.Add(ref l1, at));
                t10 = TV.MultiplyAdd(f, x0, t10);
                t11 = TV.MultiplyAdd(f, x1, t11);
                f = TV.Broadcast(Unsafe.Add(ref l2, at));
                t20 = TV.MultiplyAdd(f, x0, t20);
                t21 = TV.MultiplyAdd(f, x1, t21);
                f = TV.Broadcast(Unsafe.Add(ref l3, at));
                t30 = TV.MultiplyAdd(f, x0, t30);
                t31 = TV.MultiplyAdd(f, x1, t31);
            }

            epilogue.Apply(t00, ref cr0, q);
            epilogue.Apply(t01, ref cr0, q + w);
            epilogue.Apply(t10, ref cr1, q);
            epilogue.Apply(t11, ref cr1, q + w);
            epilogue.Apply(t20, ref cr2, q);
            epilogue.Apply(t21, ref cr2, q + w);
            epilogue.Apply(t30, ref cr3, q);
            epilogue.Apply(t31, ref cr3, q + w);
        }

        // A last single vector of columns, then the tail vector: four rows, four independent chains (not four one-chain rows).
        for (; q < vectorEnd || (q == vectorEnd && tail.Exists); q += w)
        {
            int at = q < vectorEnd ? q : tail.Start;
            TV t0 = TV.Zero, t1 = TV.Zero, t2 = TV.Zero, t3 = TV.Zero;
            for (int s = 0; s < sums; s++)
            {
                TV x = TV.Load(ref r0, (nuint)(RowOffset(rRows, s, cols) + at));
                ref float ls = ref Unsafe.Add(ref lr, (nint)s * sumStride);
                t0 = TV.MultiplyAdd(TV.Broadcast(ls), x, t0);
                t1 = TV.MultiplyAdd(TV.Broadcast(Unsafe.Add(ref ls, rowStride)), x, t1);
                t2 = TV.MultiplyAdd(TV.Broadcast(Unsafe.Add(ref ls, 2 * rowStride)), x, t2);
                t3 = TV.MultiplyAdd(TV.Broadcast(Unsafe.Add(ref ls, 3 * rowStride)), x, t3);
            }

            if (q < vectorEnd)
            {
                epilogue.Apply(t0, ref cr0, q);
                epilogue.Apply(t1, ref cr1, q);
                epilogue.Apply(t2, ref cr2, q);
                epilogue.Apply(t3, ref cr3, q);
            }
            else
            {
                epilogue.ApplyTail(t0, ref cr0, at, tail.Lanes);
                epilogue.ApplyTail(t1, ref cr1, at, tail.Lanes);
                epilogue.ApplyTail(t2, ref cr2, at, tail.Lanes);
                epilogue.ApplyTail(t3, ref cr3, at, tail.Lanes);
            }
        }

        if (!tail.Exists)
        {
            for (int o = 0; o < 4; o++)
            {
                ScalarColumns(ref Unsafe.Add(ref lr, o * rowStride), sumStride, ref r0, rRows, ref Unsafe.Add(ref cr0, o * cols), sums, cols, vectorEnd, epilogue);
            }
        }
    }

    // Two output rows: two vectors of each at a time, then single vectors, then the tail.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoRows<TV>(ref float lr, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr0, int sums, int cols, Tail<TV> tail, Epilogue epilogue)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        int pairEnd = cols - (cols % (2 * w));
        int vectorEnd = cols - (cols % w);
        ref float cr1 = ref Unsafe.Add(ref cr0, cols);
        int q = 0;
        for (; q < pairEnd; q += 2 * w)
        {
            TV t00 = TV.Zero, t01 = TV.Zero, t10 = TV.Zero, t11 = TV.Zero;
            for (int s = 0; s < sums; s++)
            {
                ref float rs = ref Unsafe.Add(ref r0, RowOffset(rRows, s, cols) + q);
                TV x0 = TV.Load(ref rs, 0), x1 = TV.Load(ref rs, (nuint)w);
                ref float ls = ref Unsafe.Add(ref lr, (nint)s * sumStride);
                TV f = TV.Broadcast(ls);
                t00 = TV.MultiplyAdd(f, x0, t00);
                t01 = TV.MultiplyAdd(f, x1, t01);
                f = TV.Broadcast(Unsafe.Add(ref ls, rowStride));
                t10 = TV.MultiplyAdd(f, x0, t10);
                t11 = TV.MultiplyAdd(f, x1, t11);
            }

            epilogue.Apply(t00, ref cr0, q);
            epilogue.Apply(t01, ref cr0, q + w);
            epilogue.Apply(t10, ref cr1, q);
            epilogue.Apply(t11, ref cr1, q + w);
        }

        for (; q < vectorEnd || (q == vectorEnd && tail.Exists); q += w)
        {
            int at = q < vectorEnd ? q : tail.Start;
            TV t0 = TV.Zero, t1 = TV.Zero;
            for (int s = 0; s < sums; s++)
            {
                TV x = TV.Load(ref r0, (nuint)(RowOffset(rRows, s, cols) + at));
                ref float ls = ref Unsafe.Add(ref lr, (nint)s * sumStride);
                t0 = TV.MultiplyAdd(TV.Broadcast(ls), x, t0);
                t1 = TV.MultiplyAdd(TV.Broadcast(Unsafe.Add(ref ls, rowStride)), x, t1);
            }

            if (q < vectorEnd)
            {
                epilogue.Apply(t0, ref cr0, q);
                epilogue.Apply(t1, ref cr1, q);
            }
            else
            {
                epilogue.ApplyTail(t0, ref cr0, at, tail.Lanes);
                epilogue.ApplyTail(t1, ref cr1, at, tail.Lanes);
            }
        }

        if (!tail.Exists)
        {
            ScalarColumns(ref lr, sumStride, ref r0, rRows, ref cr0, sums, cols, vectorEnd, epilogue);
            ScalarColumns(ref Unsafe.Add(ref lr, rowStride), sumStride, ref r0, rRows, ref cr1, sums, cols, vectorEnd, epilogue);
        }
    }

    // A last single output row: four vectors at a time (four independent chains hide the multiply-add latency),
    // then single vectors, then the tail.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowTail<TV>(ref float lr, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr, int sums, int cols, Tail<TV> tail, Epilogue epilogue)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        int vectorEnd = cols - (cols % w);
        int q = 0;
        for (; q + (4 * w) <= vectorEnd; q += 4 * w)
        {
            TV t0 = TV.Zero, t1 = TV.Zero, t2 = TV.Zero, t3 = TV.Zero;
            for (int s = 0; s < sums; s++)
            {
                TV f = TV.Broadcast(Unsafe.Add(ref lr, (nint)s * sumStride));
                ref float rs = ref Unsafe.Add(ref r0, RowOffset(rRows, s, cols) + q);
                t0 = TV.MultiplyAdd(f, TV.Load(ref rs, 0), t0);
                t1 = TV.MultiplyAdd(f, TV.Load(ref rs, (nuint)w), t1);
                t2 = TV.MultiplyAdd(f, TV.Load(ref rs, (nuint)(2 * w)), t2);
                t3 = TV.MultiplyAdd(f, TV.Load(ref rs, (nuint)(3 * w)), t3);
            }

            epilogue.Apply(t0, ref cr, q);
            epilogue.Apply(t1, ref cr, q + w);
            epilogue.Apply(t2, ref cr, q + (2 * w));
            epilogue.Apply(t3, ref cr, q + (3 * w));
        }

        for (; q < vectorEnd || (q == vectorEnd && tail.Exists); q += w)
        {
            int at = q < vectorEnd ? q : tail.Start;
            TV t = TV.Zero;
            for (int s = 0; s < sums; s++)
            {
                t = TV.MultiplyAdd(TV.Broadcast(Unsafe.Add(ref lr, (nint)s * sumStride)), TV.Load(ref r0, (nuint)(RowOffset(rRows, s, cols) + at)), t);
            }

            if (q < vectorEnd)
            {
                epilogue.Apply(t, ref cr, q);
            }
            else
            {
                epilogue.ApplyTail(t, ref cr, at, tail.Lanes);
            }
        }

        if (!tail.Exists)
        {
            ScalarColumns(ref lr, sumStride, ref r0, rRows, ref cr, sums, cols, vectorEnd, epilogue);
        }
    }

    // Columns [from, cols) of one output row in scalars (128-bit rows shorter than a vector).
    private static void ScalarColumns(ref float lr, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr, int sums, int cols, int from, Epilogue epilogue)
    {
        for (int q = from; q < cols; q++)
        {
            float t = 0;
            for (int s = 0; s < sums; s++)
            {
                t = MultiplyAdds.Scalar(Unsafe.Add(ref lr, (nint)s * sumStride), Unsafe.Add(ref r0, RowOffset(rRows, s, cols) + q), t);
            }

            epilogue.Apply(t, ref Unsafe.Add(ref cr, q));
        }
    }

    // The overlapping last vector of each output row: whether there is one, where it starts, and which of its lanes are new.
    private readonly record struct Tail<TV>(bool Exists, int Start, TV Lanes)
        where TV : struct, ISimd<TV>;
}

/// <summary>
/// When <see cref="Gemm.Outer{TV}(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, ref ZeroSkipping)"/>
/// looks for zero inputs. Scanning a block of eight rows costs a pass over its inputs before the product, and on inputs
/// that are never zero it finds nothing to skip, so after a block that turned out dense the next scan waits 1 block,
/// then 2, 4, ... up to <see cref="MaxWait"/> (each scan costs at most 1/64 of the blocks on dense inputs); a block
/// that had enough zeros to skip brings scanning back to every block. Skipping changes no result, so neither does
/// this policy: only the time.
/// </summary>
internal struct ZeroSkipping
{
    /// <summary>The longest wait, in blocks of eight rows, between two scans.</summary>
    public const int MaxWait = 64;

    private int _wait;    // blocks to go before the next scan
    private int _backoff; // the wait after the next dense scan

    /// <summary>Whether zero inputs may be skipped at all (exact only while the other factor is finite).</summary>
    public bool Enabled;

    /// <summary>Whether to scan the next block (counts it when not).</summary>
    public bool Scan()
    {
        if (_wait > 0)
        {
            _wait--;
            return false;
        }

        return true;
    }

    /// <summary>Records what a scan found; returns <paramref name="sparse"/>.</summary>
    public bool Found(bool sparse)
    {
        _backoff = sparse ? 0 : Math.Min(Math.Max(1, 2 * _backoff), MaxWait);
        _wait = _backoff;
        return sparse;
    }
}

/// <summary>
/// What <see cref="Gemm.MultiplyRowsUnchecked"/> does with each result <c>t</c>: store it (<c>C = t</c>), or fold it
/// into C as a gradient step (<c>C = decay C + scale t</c>), which lets the weight gradient update the weights the
/// moment it is computed instead of being written to and read back from the gradient arena. The fold uses the
/// same unfused multiplications and additions, in the same order, as <c>UpdateRules.Sgd</c> does with a stored
/// gradient, so both give the same bits.
/// </summary>
internal readonly record struct Epilogue(bool Fold, float Scale, float Decay)
{
    public static Epilogue Store => default;

    public static Epilogue Step(float scale, float decay) => new(true, scale, decay);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply<TV>(TV t, ref float c, int offset)
        where TV : struct, ISimd<TV>
    {
        if (Fold)
        {
            t = TV.Add(TV.Multiply(TV.Load(ref c, (nuint)offset), TV.Broadcast(Decay)), TV.Multiply(TV.Broadcast(Scale), t));
        }

        TV.Store(t, ref c, (nuint)offset);
    }

    /// <summary>
    /// <see cref="Apply{TV}"/> in the lanes of <paramref name="lanes"/> only; the other lanes of C keep what they hold
    /// (the overlapping last vector of a row, whose first lanes an earlier vector has already finished).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ApplyTail<TV>(TV t, ref float c, int offset, TV lanes)
        where TV : struct, ISimd<TV>
    {
        TV old = TV.Load(ref c, (nuint)offset);
        if (Fold)
        {
            t = TV.Add(TV.Multiply(old, TV.Broadcast(Decay)), TV.Multiply(TV.Broadcast(Scale), t));
        }

        TV.Store(TV.Select(lanes, t, old), ref c, (nuint)offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(float t, ref float c) => c = Fold ? (c * Decay) + (Scale * t) : t;
}
