using System.Runtime.CompilerServices;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Register-blocked matrix products, one sample per row. Three kernel families, one file each:
/// <list type="bullet">
/// <item><see cref="MultiplyTransposed(ReadOnlySpan{float}, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, int, int)"/>,
/// <c>C = A B^T + 1 bias^T</c> by dot products (GemmTransposed.cs);</item>
/// <item><see cref="MultiplyStrided(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, int, int, int, int, int, float, float)"/>,
/// <c>C = alpha L R + beta C</c> with L read through strides, by streaming rows of R (GemmStrided.cs), through packed
/// panels of R when the product is large (GemmPanels.cs), and its accumulating form <c>C += L R</c>;</item>
/// <item><see cref="Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, bool)"/>,
/// <c>C = A B + 1 bias^T</c> by outer products, optionally skipping zero inputs (GemmOuter.cs, GemmOuterSparse.cs).</item>
/// </list>
/// Each runs at <see cref="SimdWidth.Bits"/> through <see cref="SimdDispatch"/> (the overloads taking <c>bits</c> pick
/// the width). Every entry of C is computed by exactly one tile in a fixed order, so the result does not depend on
/// how the rows or columns are split among threads. Arguments are not checked: the callers own the shapes.
/// </summary>
internal static partial class Gemm
{
    /// <summary>
    /// <c>C[i, j] = sum_p A[i, p] B[j, p] + bias[j]</c> for columns <c>j</c> in [<paramref name="jStart"/>, <paramref name="jEnd"/>)
    /// and all <paramref name="m"/> rows; A is <c>m x k</c>, B <c>n x k</c>, C <c>m x n</c>, all row-major. Row <c>i</c> of A
    /// is row <c>aRows[i]</c> of <paramref name="a"/> when <paramref name="aRows"/> is not empty.
    /// </summary>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c,
        int m, int n, int k, int jStart, int jEnd) =>
        MultiplyTransposed(a, aRows, b, bias, c, m, n, k, jStart, jEnd, SimdWidth.Bits);

    /// <summary>
    /// <c>C[r, :] = alpha (sum_s L(r, s) R[s, :]) + beta C[r, :]</c> for rows <c>r</c> in [<paramref name="rStart"/>,
    /// <paramref name="rEnd"/>), with <c>L(r, s) = lhs[r * rowStride + s * sumStride]</c>; R is <c>sums x cols</c> and C
    /// <c>rows x cols</c>. Row <c>s</c> of R is row <c>rRows[s]</c> of <paramref name="r"/> when <paramref name="rRows"/> is
    /// not empty. With <paramref name="beta"/> 0, C is only written (the sum itself when <paramref name="alpha"/> is 1);
    /// otherwise C becomes <c>(C * beta) + (alpha * sum)</c>, unfused and in that order.
    /// </summary>
    public static void MultiplyStrided(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int rows, int sums, int cols, int rStart, int rEnd, float alpha, float beta) =>
        MultiplyStrided(lhs, rowStride, sumStride, r, rRows, c, rows, sums, cols, rStart, rEnd, alpha, beta, SimdWidth.Bits);

    /// <summary>
    /// <c>C = A B + 1 bias^T</c>, A <c>m x k</c>, B <c>k x n</c>, C <c>m x n</c>, all row-major. With
    /// <paramref name="skipZeroInputs"/>, each block of eight rows of A is scanned and the steps p where all eight are
    /// zero are skipped when at least 1/8 of them are (exact only when B is finite, which the caller guarantees).
    /// Returns how many blocks were skipped through (0 without <paramref name="skipZeroInputs"/>).
    /// </summary>
    public static int Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, bool skipZeroInputs) =>
        Multiply(a, b, bias, c, m, n, k, skipZeroInputs, SimdWidth.Bits);

    /// <summary>The transpose of the row-major <c>rows x cols</c> matrix <paramref name="w"/> into <paramref name="transposed"/> (<c>cols x rows</c>).</summary>
    public static void Transpose(ReadOnlySpan<float> w, int rows, int cols, Span<float> transposed)
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

    /// <summary><see cref="MultiplyTransposed(ReadOnlySpan{float}, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, int, int)"/> at <paramref name="bits"/>.</summary>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c,
        int m, int n, int k, int jStart, int jEnd, int bits) =>
        MultiplyTransposed(a, aRows, b, bias, c, m, n, k, jStart, jEnd, bits, new Blocking(BlockBytes, PadAliasedRows));

    /// <summary>The forward product with the blocking given rather than read from the caches (the tests compare them).</summary>
    internal static void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c,
        int m, int n, int k, int jStart, int jEnd, int bits, Blocking blocking)
    {
        var kernel = new TransposedKernel(a, aRows, b, bias, c, m, n, k, jStart, jEnd, blocking);
        SimdDispatch.Run(ref kernel, bits, k);
    }

    /// <summary>
    /// <see cref="MultiplyStrided(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, int, int, int, int, int, float, float)"/>
    /// for columns [<paramref name="qStart"/>, <paramref name="qEnd"/>) of C alone (R's rows read in the same columns):
    /// each of those elements the same sum in the same order as in the whole product, so the same bits.
    /// </summary>
    public static void MultiplyStrided(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int rows, int sums, int cols, int rStart, int rEnd, int qStart, int qEnd, float alpha, float beta) =>
        MultiplyStrided(lhs, rowStride, sumStride, r, rRows, c, rows, sums, cols, rStart, rEnd, qStart, qEnd, alpha, beta, SimdWidth.Bits, Panels.Auto);

    /// <summary><see cref="MultiplyStrided(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, int, int, int, int, int, float, float)"/> at <paramref name="bits"/>.</summary>
    public static void MultiplyStrided(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int rows, int sums, int cols, int rStart, int rEnd, float alpha, float beta, int bits) =>
        MultiplyStrided(lhs, rowStride, sumStride, r, rRows, c, rows, sums, cols, rStart, rEnd, alpha, beta, bits, Panels.Auto);

    /// <summary>The strided product with packed panels as <paramref name="panels"/> says (the tests compare the two paths).</summary>
    internal static void MultiplyStrided(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int rows, int sums, int cols, int rStart, int rEnd, float alpha, float beta, int bits, Panels panels) =>
        MultiplyStrided(lhs, rowStride, sumStride, r, rRows, c, rows, sums, cols, rStart, rEnd, 0, cols, alpha, beta, bits, panels);

    /// <summary>The strided product over columns [<paramref name="qStart"/>, <paramref name="qEnd"/>), at <paramref name="bits"/>, panels as <paramref name="panels"/> says.</summary>
    internal static void MultiplyStrided(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int rows, int sums, int cols, int rStart, int rEnd, int qStart, int qEnd, float alpha, float beta, int bits, Panels panels)
    {
        _ = rows; // the shape of C; the rows computed are [rStart, rEnd)
        System.Diagnostics.Debug.Assert(0 <= qStart && qStart <= qEnd && qEnd <= cols, "the window lies inside C's rows");
        var kernel = new StridedKernel(lhs, rowStride, sumStride, r, rRows, c, sums, cols, rStart, rEnd, qStart, qEnd, new Epilogue(alpha, beta), panels);
        SimdDispatch.Run(ref kernel, bits, qEnd - qStart);
    }

    /// <summary>
    /// <c>C[r, :] += sum_s L(r, s) R[s, :]</c> for rows <c>r</c> in [<paramref name="rStart"/>, <paramref name="rEnd"/>), as
    /// <see cref="MultiplyStrided(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, int, int, int, int, int, float, float)"/>
    /// but each chain of multiply-adds starts from what C holds: with C holding the bias, the bits of <see cref="Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, bool)"/>.
    /// </summary>
    public static void MultiplyAccumulate(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, Span<float> c,
        int rows, int sums, int cols, int rStart, int rEnd) =>
        MultiplyAccumulate(lhs, rowStride, sumStride, r, c, rows, sums, cols, rStart, rEnd, SimdWidth.Bits, Panels.Auto);

    /// <summary><see cref="MultiplyAccumulate(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, Span{float}, int, int, int, int, int)"/> at <paramref name="bits"/>, panels as <paramref name="panels"/> says.</summary>
    internal static void MultiplyAccumulate(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, Span<float> c,
        int rows, int sums, int cols, int rStart, int rEnd, int bits, Panels panels)
    {
        _ = rows;
        var kernel = new StridedKernel(lhs, rowStride, sumStride, r, default, c, sums, cols, rStart, rEnd, 0, cols, new Epilogue(1f, 0f, Resume: true), panels);
        SimdDispatch.Run(ref kernel, bits, cols);
    }

    /// <summary><see cref="Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, bool)"/> at <paramref name="bits"/>.</summary>
    public static int Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, bool skipZeroInputs, int bits)
    {
        var kernel = new OuterKernel(a, b, bias, c, m, n, k, skipZeroInputs);
        SimdDispatch.Run(ref kernel, bits, n);
        return kernel.SparseBlocks;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint RowOffset(ReadOnlySpan<int> rows, int i, int length) => (nint)(rows.IsEmpty ? i : rows[i]) * length;

    // The arguments of each family, for SimdDispatch to run its generic body at the chosen width.
    private readonly ref struct TransposedKernel(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c,
        int m, int n, int k, int jStart, int jEnd, Blocking blocking) : ISimdKernel
    {
        private readonly ReadOnlySpan<float> a = a;
        private readonly ReadOnlySpan<int> aRows = aRows;
        private readonly ReadOnlySpan<float> b = b;
        private readonly ReadOnlySpan<float> bias = bias;
        private readonly Span<float> c = c;

        public void Run<TV>()
            where TV : struct, ISimd<TV> => Transposed<TV>(a, aRows, b, bias, c, m, n, k, jStart, jEnd, blocking);
    }

    private readonly ref struct StridedKernel(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int sums, int cols, int rStart, int rEnd, int qStart, int qEnd, Epilogue epilogue, Panels panels) : ISimdKernel
    {
        private readonly ReadOnlySpan<float> lhs = lhs;
        private readonly ReadOnlySpan<float> r = r;
        private readonly ReadOnlySpan<int> rRows = rRows;
        private readonly Span<float> c = c;

        public void Run<TV>()
            where TV : struct, ISimd<TV> => Strided<TV>(lhs, rowStride, sumStride, r, rRows, c, sums, cols, rStart, rEnd, qStart, qEnd, epilogue, panels);
    }

    private ref struct OuterKernel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, bool skipZeroInputs) : ISimdKernel
    {
        private readonly ReadOnlySpan<float> a = a;
        private readonly ReadOnlySpan<float> b = b;
        private readonly ReadOnlySpan<float> bias = bias;
        private readonly Span<float> c = c;

        public int SparseBlocks;

        public void Run<TV>()
            where TV : struct, ISimd<TV> => SparseBlocks = Outer<TV>(a, b, bias, c, m, n, k, skipZeroInputs);
    }
}
