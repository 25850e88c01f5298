using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using Backprop.Simd.Kernels;

namespace Backprop.Simd.Benchmarks.Ladder.PerSample;

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
    /// arithmetic of <see cref="UpdateUnchecked"/> followed by <see cref="SgdFold.Apply"/>.
    /// <paramref name="nabla"/> is only read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    internal static void StepUnchecked(ReadOnlySpan<float> nabla, Span<float> w, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> y, bool first, SgdFold step)
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

    /// <summary><c>decay target + scale t</c> with <c>t</c> the gradient <typeparamref name="TGradient"/> computes (the SGD step of <see cref="SgdFold"/>).</summary>
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
