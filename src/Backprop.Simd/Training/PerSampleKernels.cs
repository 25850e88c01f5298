using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Training;

// The per-sample path's Vector<T> kernels, kept here only until that path leaves the library for the kernel lab
// (benchmarks/Backprop.Simd.Benchmarks/Ladder/PerSample holds the lab's copies, which the tests check).

/// <summary>The loop bound of the per-sample kernels' <see cref="Vector{T}"/> loops.</summary>
internal static class VectorLoops
{
    /// <summary>
    /// Where the whole <see cref="Vector{T}"/> steps of a loop over <paramref name="n"/> floats end: 0 where
    /// <see cref="Vector{T}"/> is not hardware accelerated, so that the scalar remainder loop does all the work
    /// instead of software-emulated vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int VectorEnd(int n) => Vector.IsHardwareAccelerated ? n - (n % Vector<float>.Count) : 0;
}

/// <summary>The library's multiply-add (<see cref="MultiplyAdds"/>) for <see cref="Vector{T}"/>, through the fixed-width vector of its size.</summary>
internal static class VectorMultiplyAdds
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Of(Vector<float> a, Vector<float> b, Vector<float> c)
    {
        if (Vector<float>.Count == Vector128<float>.Count)
        {
            return MultiplyAdds.Of(a.AsVector128(), b.AsVector128(), c.AsVector128()).AsVector();
        }

        if (Vector<float>.Count == Vector256<float>.Count)
        {
            return MultiplyAdds.Of(a.AsVector256(), b.AsVector256(), c.AsVector256()).AsVector();
        }

        if (Vector<float>.Count == Vector512<float>.Count)
        {
            return MultiplyAdds.Of(a.AsVector512(), b.AsVector512(), c.AsVector512()).AsVector();
        }

        return (a * b) + c;
    }
}

/// <summary>
/// Rank-1 update, <c>A += alpha * x y^T</c>: BP4 accumulating the weight gradient
/// <c>nabla_W += delta^l (a^{l-1})^T</c> in place. <c>A</c> is row-major <c>rows x cols</c>.
/// </summary>
/// <remarks>
/// Row <c>i</c> of <c>A</c> gains <c>(alpha * x[i]) * y</c>: one streaming fused multiply-add pass per row,
/// which reads and writes <c>A</c> exactly once. The tail of each row is handled by a scalar remainder loop.
/// The per-sample training path also uses two fused forms internally: the first sample of a mini-batch stores its
/// product (no clearing pass before it), and with plain SGD the last one folds the step into the weights
/// (no separate update pass after it).
/// </remarks>
internal static class Rank1
{
    /// <summary>Computes <c>A += alpha * x y^T</c>.</summary>
    /// <param name="a">Row-major <c>rows x cols</c> matrix, updated in place.</param>
    /// <param name="rows">Number of rows of <paramref name="a"/> (length of <paramref name="x"/>).</param>
    /// <param name="cols">Number of columns of <paramref name="a"/> (length of <paramref name="y"/>).</param>
    /// <param name="alpha">Scale factor.</param>
    /// <param name="x">Column vector, length <paramref name="rows"/>.</param>
    /// <param name="y">Row vector, length <paramref name="cols"/>.</param>
    public static void Update(Span<float> a, int rows, int cols, float alpha, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        UpdateUnchecked(a, rows, cols, alpha, x, y);
    }

    /// <summary><c>A += alpha x y^T</c>; shapes were checked by the caller.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)] // fully optimized from the first call; its own method: the loop keeps its registers
    internal static void UpdateUnchecked(Span<float> a, int rows, int cols, float alpha, ReadOnlySpan<float> x, ReadOnlySpan<float> y) =>
        Run(a, a, rows, cols, alpha, x, y, default(Accumulate));

    /// <summary><c>A = alpha x y^T</c>, the same values <see cref="UpdateUnchecked"/> gives on a cleared <c>A</c>, without reading it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    internal static void SetUnchecked(Span<float> a, int rows, int cols, float alpha, ReadOnlySpan<float> x, ReadOnlySpan<float> y) =>
        Run(a, a, rows, cols, alpha, x, y, default(Set));

    /// <summary>
    /// The last rank-1 term of a gradient folded into the SGD step: with <c>t = nabla + x y^T</c> (<c>t = x y^T</c>
    /// when <paramref name="first"/>, and <paramref name="nabla"/> is not read), <c>W = decay W + scale t</c>, the
    /// arithmetic of <see cref="UpdateUnchecked"/> followed by the SGD step of <see cref="Epilogue"/>.
    /// <paramref name="nabla"/> is only read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    internal static void StepUnchecked(ReadOnlySpan<float> nabla, Span<float> w, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> y, bool first, Epilogue step)
    {
        if (first)
        {
            Run(w, nabla, rows, cols, 1f, x, y, new Step<Set>(step.Scale, step.Decay));
        }
        else
        {
            Run(w, nabla, rows, cols, 1f, x, y, new Step<Accumulate>(step.Scale, step.Decay));
        }
    }

    /// <summary>The one loop shape of every form: row i of <paramref name="target"/> gets <c>op(y, alpha x[i], row i of source, row i of target)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run<TOp>(Span<float> target, ReadOnlySpan<float> source, int rows, int cols, float alpha, ReadOnlySpan<float> x, ReadOnlySpan<float> y, TOp op)
        where TOp : struct, IRowOp
    {
        ref float t0 = ref MemoryMarshal.GetReference(target);
        ref float s0 = ref MemoryMarshal.GetReference(source);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        int width = Vector<float>.Count;
        int vectorEnd = VectorLoops.VectorEnd(cols);

        for (int i = 0; i < rows; i++)
        {
            ref float to = ref Unsafe.Add(ref t0, (nint)i * cols);
            ref float from = ref Unsafe.Add(ref s0, (nint)i * cols);
            float c = alpha * Unsafe.Add(ref x0, i);
            Vector<float> v = new(c);
            int k = 0;
            for (; k < vectorEnd; k += width)
            {
                op.Apply(Vector.LoadUnsafe(ref y0, (nuint)k), v, ref from, ref to, (nuint)k).StoreUnsafe(ref to, (nuint)k);
            }

            for (; k < cols; k++)
            {
                Unsafe.Add(ref to, k) = op.Apply(Unsafe.Add(ref y0, k), c, Unsafe.Add(ref from, k), Unsafe.Add(ref to, k));
            }
        }
    }

    /// <summary>What one form makes of the product <c>c y[k]</c> and the current source and target elements.</summary>
    private interface IRowOp
    {
        Vector<float> Apply(Vector<float> y, Vector<float> c, ref float source, ref float target, nuint k);

        float Apply(float y, float c, float source, float target);
    }

    /// <summary><c>source + c y</c>: one fused multiply-add per vector (the scalar tail rounds the product first).</summary>
    private readonly struct Accumulate : IRowOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<float> Apply(Vector<float> y, Vector<float> c, ref float source, ref float target, nuint k) =>
            VectorMultiplyAdds.Of(y, c, Vector.LoadUnsafe(ref source, k));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Apply(float y, float c, float source, float target) => source + (c * y);
    }

    /// <summary>
    /// <c>c y</c> as <see cref="Accumulate"/> computes it on a cleared source, to the bit: added to +0, so that a
    /// product of -0 (a zero input times a negative delta) gives +0 as it does there.
    /// </summary>
    private readonly struct Set : IRowOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<float> Apply(Vector<float> y, Vector<float> c, ref float source, ref float target, nuint k) =>
            VectorMultiplyAdds.Of(y, c, Vector<float>.Zero);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Apply(float y, float c, float source, float target) => 0f + (c * y);
    }

    /// <summary><c>decay target + scale t</c> with <c>t</c> the gradient <typeparamref name="TGradient"/> computes (the SGD step of <see cref="Epilogue"/>).</summary>
    private readonly struct Step<TGradient>(float scale, float decay) : IRowOp
        where TGradient : struct, IRowOp
    {
        private readonly Vector<float> _scale = new(scale), _decay = new(decay);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<float> Apply(Vector<float> y, Vector<float> c, ref float source, ref float target, nuint k) =>
            (Vector.LoadUnsafe(ref target, k) * _decay) + (_scale * default(TGradient).Apply(y, c, ref source, ref target, k));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Apply(float y, float c, float source, float target) =>
            (target * decay) + (scale * default(TGradient).Apply(y, c, source, target));
    }
}

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
