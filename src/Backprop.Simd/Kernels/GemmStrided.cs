using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

// C[r, :] = alpha sum_s L(r, s) R[s, :] + beta C[r, :], L read through strides: rows of R streamed and scaled by
// broadcasts, in tiles of four output rows by two vectors (then two rows, then one).
internal static partial class Gemm
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Strided<TV>(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int sums, int cols, int rStart, int rEnd, Epilogue epilogue)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
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

        FourRowsSingles(ref lr, rowStride, sumStride, ref r0, rRows, ref cr0, sums, cols, q, tail, epilogue);
    }

    // FourRows past its pairs: a last single vector of columns, then the tail vector (four rows, four independent
    // chains, not four one-chain rows), then any scalar columns. A method of its own so that the JIT's inlining budget,
    // spent on one method's inlinees, is not used up by the pairs first: inside FourRows it ran out here and left
    // about a dozen wrapper calls (Tail.Lanes, Epilogue.ApplyTail, SimdVector.V256, Store) in the tail's epilogue.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void FourRowsSingles<TV>(ref float lr, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr0, int sums, int cols, int q, Tail<TV> tail, Epilogue epilogue)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        int vectorEnd = cols - (cols % w);
        ref float cr1 = ref Unsafe.Add(ref cr0, cols);
        ref float cr2 = ref Unsafe.Add(ref cr1, cols);
        ref float cr3 = ref Unsafe.Add(ref cr2, cols);
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

    // What Strided does with each sum t: C = alpha t + beta C. With beta = 0, C is only written (t itself when alpha = 1);
    // otherwise C = (C beta) + (alpha t), unfused and in that order: the bits of a separate SGD step on a stored t.
    private readonly struct Epilogue(float alpha, float beta)
    {
        private readonly bool _fold = beta != 0, _scale = beta == 0 && alpha != 1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply<TV>(TV t, ref float c, int offset)
            where TV : struct, ISimd<TV>
        {
            if (_fold)
            {
                t = TV.Add(TV.Multiply(TV.Load(ref c, (nuint)offset), TV.Broadcast(beta)), TV.Multiply(TV.Broadcast(alpha), t));
            }
            else if (_scale)
            {
                t = TV.Multiply(TV.Broadcast(alpha), t);
            }

            TV.Store(t, ref c, (nuint)offset);
        }

        // Apply in the lanes of `lanes` only; the others keep what an earlier vector of the row stored there.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void ApplyTail<TV>(TV t, ref float c, int offset, TV lanes)
            where TV : struct, ISimd<TV>
        {
            TV old = TV.Load(ref c, (nuint)offset);
            if (_fold)
            {
                t = TV.Add(TV.Multiply(old, TV.Broadcast(beta)), TV.Multiply(TV.Broadcast(alpha), t));
            }
            else if (_scale)
            {
                t = TV.Multiply(TV.Broadcast(alpha), t);
            }

            TV.Store(TV.Select(lanes, t, old), ref c, (nuint)offset);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(float t, ref float c) => c = _fold ? (c * beta) + (alpha * t) : _scale ? alpha * t : t;
    }
}
