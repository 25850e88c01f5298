using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

// C[r, :] = alpha sum_s L(r, s) R[s, :] + beta C[r, :], L read through strides: rows of R streamed and scaled by
// broadcasts, in tiles of six output rows by two vectors (then four, two, one rows), strip of columns by strip; with
// 32 registers and short sums, six rows by three vectors, the last of which also takes an odd vector after the pairs.
// Every element is one chain of multiply-adds over s in order, whatever tile computes it, so no split changes a bit.
internal static partial class Gemm
{
    /// <summary>Strips of 2w columns that every block of rows passes over in turn (so that they stay in L1).</summary>
    private const int ChunkStrips = 4;

    /// <summary>Below this many rows of R, all of R stays in L1 anyway: whole rows of C at a time, which the prefetchers follow.</summary>
    private const int ShortSums = 32;

    /// <summary>Rows of R per block of s when C can hold partial sums (long sums, as BP2's over a wide layer).</summary>
    private const int SumBlock = 64;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Strided<TV>(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int sums, int cols, int rStart, int rEnd, int qStart, int qEnd, Epilogue epilogue, Panels panels)
        where TV : struct, ISimd<TV>
    {
        // Columns [qStart, qEnd) of R and C: both start at qStart, rows still cols apart; every tile indexes columns
        // from there and stops at the window's width.
        ref float l0 = ref MemoryMarshal.GetReference(lhs);
        ref float r0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(r), qStart);
        ref float c0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(c), qStart);
        int width = qEnd - qStart;

        // Each kind of epilogue is its own compiled kernel (see Epilogue<TE>). Only plain sums resume.
        Debug.Assert(!epilogue.Resume || (epilogue.Alpha == 1 && epilogue.Beta == 0), "only plain sums can resume");
        if (epilogue.Beta != 0 || epilogue.Alpha != 1)
        {
            if (epilogue.Beta == 0)
            {
                StridedBlock<TV, Scaled>(ref l0, rowStride, sumStride, ref r0, rRows, ref c0, sums, cols, width, rStart, rEnd, new(new Scaled(epilogue.Alpha)), panels);
            }
            else if (epilogue.Beta == 1)
            {
                StridedBlock<TV, FoldedUnit>(ref l0, rowStride, sumStride, ref r0, rRows, ref c0, sums, cols, width, rStart, rEnd, new(new FoldedUnit(epilogue.Alpha)), panels);
            }
            else
            {
                StridedBlock<TV, Folded>(ref l0, rowStride, sumStride, ref r0, rRows, ref c0, sums, cols, width, rStart, rEnd, new(new Folded(epilogue.Alpha, epilogue.Beta)), panels);
            }

            return;
        }

        // Through packed panels a block's rows of R are contiguous, so the blocks can be longer (fewer round trips of
        // C's partial sums) as long as a panel of them still holds a few strips.
        int w = TV.Count;
        int block = UsePanels(panels, Math.Min(sums, PanelSumBlock), rEnd - rStart, width - (width % (2 * w)), w) ? PanelSumBlock : SumBlock;

        // The plain sums (starting from C's values when resuming).
        if (sums <= 2 * block)
        {
            if (epilogue.Resume)
            {
                StridedBlock<TV, ResumedSums>(ref l0, rowStride, sumStride, ref r0, rRows, ref c0, sums, cols, width, rStart, rEnd, default, panels);
            }
            else
            {
                StridedBlock<TV, Sums>(ref l0, rowStride, sumStride, ref r0, rRows, ref c0, sums, cols, width, rStart, rEnd, default, panels);
            }

            return;
        }

        // Long sums in blocks of rows of R, C holding the partial sums in between: each block's rows of R (SumBlock
        // pages at most, when R's rows are 4 KiB apart) stay in L1 and its TLB while every row of C passes.
        for (int s0 = 0; s0 < sums; s0 += block)
        {
            int count = Math.Min(block, sums - s0);
            ref float ls = ref Unsafe.Add(ref l0, (nint)s0 * sumStride);
            ref float rs = ref rRows.IsEmpty ? ref Unsafe.Add(ref r0, (nint)s0 * cols) : ref r0;
            ReadOnlySpan<int> picks = rRows.IsEmpty ? default : rRows.Slice(s0, count);
            if (s0 == 0 && !epilogue.Resume)
            {
                StridedBlock<TV, Sums>(ref ls, rowStride, sumStride, ref rs, picks, ref c0, count, cols, width, rStart, rEnd, default, panels);
            }
            else
            {
                StridedBlock<TV, ResumedSums>(ref ls, rowStride, sumStride, ref rs, picks, ref c0, count, cols, width, rStart, rEnd, default, panels);
            }
        }
    }

    // Rows [rStart, rEnd) of C for one block of s.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StridedBlock<TV, TE>(ref float l0, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float c0,
        int sums, int cols, int width, int rStart, int rEnd, Epilogue<TE> epilogue, Panels panels)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        int vectorEnd = width - (width % w), pairEnd = width - (width % (2 * w));

        // Columns past the last whole vector go through the window's last vector, [width - w, width), computed whole
        // and stored only in its lanes from vectorEnd on (see Epilogue.ApplyTail): one vector step per row instead
        // of a scalar chain per column. Only 128-bit rows shorter than a vector are left to scalars.
        Tail<TV> tail = new(vectorEnd < width && width >= w, width - w, TV.LanesFrom(w - (width - vectorEnd)));

        // Pairs of vectors, a chunk of ChunkStrips strips of 2w columns at a time, every block of rows passing over it
        // while the chunk of R stays in L1 (with rows outer, R streamed from L2 once per block of rows), and C still
        // read in runs of a few lines rather than one line per row.
        int chunk = sums < ShortSums ? pairEnd : ChunkStrips * 2 * w;
        int pairsDone = 0;
        if (UsePanels(panels, sums, rEnd - rStart, pairEnd, w))
        {
            PanelPairs<TV, TE>(ref l0, rowStride, sumStride, ref r0, rRows, ref c0, sums, cols, rStart, rEnd, pairEnd, epilogue, panels);
            pairsDone = pairEnd;
        }

        // Short sums (m = 10 samples) with 32 registers: six rows by three vectors, whose step's fixed instructions
        // serve 18 multiply-adds instead of 12 (docs/optimizing-backprop.md, thirteenth session); the six-row blocks'
        // last such tile also takes the odd whole vector after the pairs (784 floats at 512 bits are 49 vectors),
        // which the single-vector tiles below would otherwise do for those rows.
        bool wide = SimdRegisters.Many && sums < ShortSums;
        bool absorb = wide && vectorEnd - pairEnd == w && pairEnd - pairsDone >= 2 * w;
        for (int q0 = pairsDone; q0 < pairEnd; q0 += chunk)
        {
            int qEnd = Math.Min(q0 + chunk, pairEnd);
            int row = rStart;
            bool last = absorb && qEnd == pairEnd;
            int sixEnd = last ? qEnd - (2 * w) : qEnd; // the six-row blocks' pairs end here; a last 6 x 3 tile from here, if last

            // 6 x 3 tiles where whole pairs of them fit, so that pairs remain.
            int wideEnd = wide ? q0 + ((sixEnd - q0) / (6 * w) * (6 * w)) : q0;
            for (; row + 6 <= rEnd; row += 6)
            {
                ref float lr = ref Unsafe.Add(ref l0, (nint)row * rowStride);
                ref float cr = ref Unsafe.Add(ref c0, (nint)row * cols);
                for (int q = q0; q < wideEnd; q += 3 * w)
                {
                    SixRowTile<TV, TE>(wide: true, ref lr, rowStride, sumStride, ref r0, rRows, ref cr, sums, cols, q, epilogue);
                }

                for (int q = wideEnd; q < sixEnd; q += 2 * w)
                {
                    SixRowTile<TV, TE>(wide: false, ref lr, rowStride, sumStride, ref r0, rRows, ref cr, sums, cols, q, epilogue);
                }

                if (last)
                {
                    SixRowTile<TV, TE>(wide: true, ref lr, rowStride, sumStride, ref r0, rRows, ref cr, sums, cols, sixEnd, epilogue);
                }
            }

            for (; row + 4 <= rEnd; row += 4)
            {
                for (int q = q0; q < qEnd; q += 2 * w)
                {
                    FourRows<TV, TE>(ref Unsafe.Add(ref l0, (nint)row * rowStride), rowStride, sumStride, ref r0, rRows, ref Unsafe.Add(ref c0, (nint)row * cols), sums, cols, q, epilogue);
                }
            }

            if (row + 2 <= rEnd)
            {
                for (int q = q0; q < qEnd; q += 2 * w)
                {
                    TwoRows<TV, TE>(ref Unsafe.Add(ref l0, (nint)row * rowStride), rowStride, sumStride, ref r0, rRows, ref Unsafe.Add(ref c0, (nint)row * cols), sums, cols, q, epilogue);
                }

                row += 2;
            }

            if (row < rEnd)
            {
                for (int q = q0; q < qEnd; q += 2 * w)
                {
                    OneRow<TV, TE>(ref Unsafe.Add(ref l0, (nint)row * rowStride), sumStride, ref r0, rRows, ref Unsafe.Add(ref c0, (nint)row * cols), sums, cols, q, epilogue);
                }
            }
        }

        if (pairEnd < width)
        {
            // With absorb the six-row blocks' whole vectors are done: only their columns past the last whole vector
            // are left.
            int sixRows = absorb ? rStart + ((rEnd - rStart) / 6 * 6) : rStart;
            if (sixRows > rStart && vectorEnd < width)
            {
                Singles(ref l0, rowStride, sumStride, ref r0, rRows, ref c0, sums, cols, width, rStart, sixRows, vectorEnd, tail, epilogue);
            }

            Singles(ref l0, rowStride, sumStride, ref r0, rRows, ref c0, sums, cols, width, sixRows, rEnd, pairEnd, tail, epilogue);
        }
    }

    // Rows [rowFrom, rowTo) of C from column q to the end, one vector (and the tail) at a time: four rows, then one.
    private static void Singles<TV, TE>(ref float l0, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float c0,
        int sums, int cols, int width, int rowFrom, int rowTo, int q, Tail<TV> tail, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int row = rowFrom;
        if (tail.Exists && width - q > TV.Count && width - q < 2 * TV.Count)
        {
            // Past the pairs, one whole vector and the tail (a small layer's 17 to 31 columns at 512 bits, say): both in
            // the same pass over the sums, eight chains per four rows instead of four, and no store before a load it
            // half overlaps.
            for (; row + 4 <= rowTo; row += 4)
            {
                FourRowsVectorAndTail(ref Unsafe.Add(ref l0, (nint)row * rowStride), rowStride, sumStride, ref r0, rRows, ref Unsafe.Add(ref c0, (nint)row * cols), sums, cols, q, tail, epilogue);
            }

            for (; row < rowTo; row++)
            {
                RowVectorAndTail(ref Unsafe.Add(ref l0, (nint)row * rowStride), sumStride, ref r0, rRows, ref Unsafe.Add(ref c0, (nint)row * cols), sums, cols, q, tail, epilogue);
            }

            return;
        }

        if (sums >= ShortSums)
        {
            // Long sums: four chains of dependent multiply-adds cannot hide their latency, eight can.
            for (; row + 8 <= rowTo; row += 8)
            {
                EightRowsSingles(ref Unsafe.Add(ref l0, (nint)row * rowStride), rowStride, sumStride, ref r0, rRows, ref Unsafe.Add(ref c0, (nint)row * cols), sums, cols, width, q, tail, epilogue);
            }
        }

        for (; row + 4 <= rowTo; row += 4)
        {
            FourRowsSingles(ref Unsafe.Add(ref l0, (nint)row * rowStride), rowStride, sumStride, ref r0, rRows, ref Unsafe.Add(ref c0, (nint)row * cols), sums, cols, width, q, tail, epilogue);
        }

        for (; row < rowTo; row++)
        {
            RowSingles(ref Unsafe.Add(ref l0, (nint)row * rowStride), sumStride, ref r0, rRows, ref Unsafe.Add(ref c0, (nint)row * cols), sums, cols, width, q, tail, epilogue);
        }
    }

    // Six rows of C from column q: the 6 x 3 tile (wide) or the 6 x 2, over R's rows in order or picked.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SixRowTile<TV, TE>(bool wide, ref float lr, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr,
        int sums, int cols, int q, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        ref float rq = ref Unsafe.Add(ref r0, q);
        if (rRows.IsEmpty)
        {
            if (wide)
            {
                SixRowsWide<TV, TE, RowsInOrder>(ref lr, rowStride, sumStride, new(ref rq), ref cr, sums, cols, q, epilogue);
            }
            else
            {
                SixRows<TV, TE, RowsInOrder>(ref lr, rowStride, sumStride, new(ref rq), ref cr, sums, cols, q, epilogue);
            }
        }
        else if (wide)
        {
            SixRowsWide<TV, TE, RowsPicked>(ref lr, rowStride, sumStride, new(ref rq, rRows), ref cr, sums, cols, q, epilogue);
        }
        else
        {
            SixRows<TV, TE, RowsPicked>(ref lr, rowStride, sumStride, new(ref rq, rRows), ref cr, sums, cols, q, epilogue);
        }
    }

    // The tiles of the pairs: R output rows by two vectors of columns [q, q + 2w), 2R independent accumulators, each
    // load of R used R times. Six rows is 12 accumulators, 2 loads and a broadcast: 15 of the 16 registers of AVX2.
    // Each broadcast feeds its two multiply-adds through MultiplyAddBroadcast: the JIT shares one vbroadcastss between
    // them and adds into the accumulators' own registers (one register copy a step, where Broadcast then MultiplyAdd
    // left six).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SixRows<TV, TE, TR>(ref float lr, int rowStride, int sumStride, TR rows, ref float cr0, int sums, int cols, int q, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
        where TR : IRows, allows ref struct
    {
        int w = TV.Count;
        // The six rows of L, addressed once here so that the inner loop only steps offsets.
        ref float l1 = ref Unsafe.Add(ref lr, rowStride);
        ref float l2 = ref Unsafe.Add(ref l1, rowStride);
        ref float l3 = ref Unsafe.Add(ref l2, rowStride);
        ref float l4 = ref Unsafe.Add(ref l3, rowStride);
        ref float l5 = ref Unsafe.Add(ref l4, rowStride);
        TV t00 = epilogue.Start<TV>(ref cr0, q), t01 = epilogue.Start<TV>(ref cr0, q + w);
        TV t10 = epilogue.Start<TV>(ref cr0, cols + q), t11 = epilogue.Start<TV>(ref cr0, cols + q + w);
        TV t20 = epilogue.Start<TV>(ref cr0, (2 * cols) + q), t21 = epilogue.Start<TV>(ref cr0, (2 * cols) + q + w);
        TV t30 = epilogue.Start<TV>(ref cr0, (3 * cols) + q), t31 = epilogue.Start<TV>(ref cr0, (3 * cols) + q + w);
        TV t40 = epilogue.Start<TV>(ref cr0, (4 * cols) + q), t41 = epilogue.Start<TV>(ref cr0, (4 * cols) + q + w);
        TV t50 = epilogue.Start<TV>(ref cr0, (5 * cols) + q), t51 = epilogue.Start<TV>(ref cr0, (5 * cols) + q + w);
        // Native-sized steps, so that the loop does not widen them again every step.
        nint at = 0, sumStep = sumStride, stride = cols, count = sums;
        for (nint s = 0; s < count; s++, at += sumStep)
        {
            ref float rs = ref rows.Row(s, stride);
            TV x0 = TV.Load(ref rs, 0), x1 = TV.Load(ref rs, (nuint)w);
            t00 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref lr, at), x0, t00);
            t01 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref lr, at), x1, t01);
            t10 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l1, at), x0, t10);
            t11 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l1, at), x1, t11);
            t20 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l2, at), x0, t20);
            t21 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l2, at), x1, t21);
            t30 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l3, at), x0, t30);
            t31 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l3, at), x1, t31);
            t40 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l4, at), x0, t40);
            t41 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l4, at), x1, t41);
            t50 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l5, at), x0, t50);
            t51 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l5, at), x1, t51);
        }

        ref float cr = ref cr0;
        epilogue.Apply(t00, ref cr, q);
        epilogue.Apply(t01, ref cr, q + w);
        cr = ref Unsafe.Add(ref cr, cols);
        epilogue.Apply(t10, ref cr, q);
        epilogue.Apply(t11, ref cr, q + w);
        cr = ref Unsafe.Add(ref cr, cols);
        epilogue.Apply(t20, ref cr, q);
        epilogue.Apply(t21, ref cr, q + w);
        cr = ref Unsafe.Add(ref cr, cols);
        epilogue.Apply(t30, ref cr, q);
        epilogue.Apply(t31, ref cr, q + w);
        cr = ref Unsafe.Add(ref cr, cols);
        epilogue.Apply(t40, ref cr, q);
        epilogue.Apply(t41, ref cr, q + w);
        cr = ref Unsafe.Add(ref cr, cols);
        epilogue.Apply(t50, ref cr, q);
        epilogue.Apply(t51, ref cr, q + w);
    }

    // Six rows by three vectors, where there are 32 vector registers: 18 accumulators, 3 loads and a broadcast. Each
    // step's row address and broadcasts then serve 18 multiply-adds instead of 12, which counts when the sums are
    // short (m = 10 samples) and the step's fixed instructions are a large part of it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SixRowsWide<TV, TE, TR>(ref float lr, int rowStride, int sumStride, TR rows, ref float cr0, int sums, int cols, int q, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
        where TR : IRows, allows ref struct
    {
        int w = TV.Count;
        ref float l1 = ref Unsafe.Add(ref lr, rowStride);
        ref float l2 = ref Unsafe.Add(ref l1, rowStride);
        ref float l3 = ref Unsafe.Add(ref l2, rowStride);
        ref float l4 = ref Unsafe.Add(ref l3, rowStride);
        ref float l5 = ref Unsafe.Add(ref l4, rowStride);
        TV t00 = epilogue.Start<TV>(ref cr0, q), t01 = epilogue.Start<TV>(ref cr0, q + w), t02 = epilogue.Start<TV>(ref cr0, q + (2 * w));
        TV t10 = epilogue.Start<TV>(ref cr0, cols + q), t11 = epilogue.Start<TV>(ref cr0, cols + q + w), t12 = epilogue.Start<TV>(ref cr0, cols + q + (2 * w));
        TV t20 = epilogue.Start<TV>(ref cr0, (2 * cols) + q), t21 = epilogue.Start<TV>(ref cr0, (2 * cols) + q + w), t22 = epilogue.Start<TV>(ref cr0, (2 * cols) + q + (2 * w));
        TV t30 = epilogue.Start<TV>(ref cr0, (3 * cols) + q), t31 = epilogue.Start<TV>(ref cr0, (3 * cols) + q + w), t32 = epilogue.Start<TV>(ref cr0, (3 * cols) + q + (2 * w));
        TV t40 = epilogue.Start<TV>(ref cr0, (4 * cols) + q), t41 = epilogue.Start<TV>(ref cr0, (4 * cols) + q + w), t42 = epilogue.Start<TV>(ref cr0, (4 * cols) + q + (2 * w));
        TV t50 = epilogue.Start<TV>(ref cr0, (5 * cols) + q), t51 = epilogue.Start<TV>(ref cr0, (5 * cols) + q + w), t52 = epilogue.Start<TV>(ref cr0, (5 * cols) + q + (2 * w));
        nint at = 0, sumStep = sumStride, stride = cols, count = sums;
        for (nint s = 0; s < count; s++, at += sumStep)
        {
            ref float rs = ref rows.Row(s, stride);
            TV x0 = TV.Load(ref rs, 0), x1 = TV.Load(ref rs, (nuint)w), x2 = TV.Load(ref rs, (nuint)(2 * w));
            t00 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref lr, at), x0, t00);
            t01 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref lr, at), x1, t01);
            t02 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref lr, at), x2, t02);
            t10 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l1, at), x0, t10);
            t11 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l1, at), x1, t11);
            t12 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l1, at), x2, t12);
            t20 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l2, at), x0, t20);
            t21 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l2, at), x1, t21);
            t22 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l2, at), x2, t22);
            t30 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l3, at), x0, t30);
            t31 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l3, at), x1, t31);
            t32 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l3, at), x2, t32);
            t40 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l4, at), x0, t40);
            t41 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l4, at), x1, t41);
            t42 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l4, at), x2, t42);
            t50 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l5, at), x0, t50);
            t51 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l5, at), x1, t51);
            t52 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l5, at), x2, t52);
        }

        ref float cr = ref cr0;
        epilogue.Apply(t00, ref cr, q);
        epilogue.Apply(t01, ref cr, q + w);
        epilogue.Apply(t02, ref cr, q + (2 * w));
        cr = ref Unsafe.Add(ref cr, cols);
        epilogue.Apply(t10, ref cr, q);
        epilogue.Apply(t11, ref cr, q + w);
        epilogue.Apply(t12, ref cr, q + (2 * w));
        cr = ref Unsafe.Add(ref cr, cols);
        epilogue.Apply(t20, ref cr, q);
        epilogue.Apply(t21, ref cr, q + w);
        epilogue.Apply(t22, ref cr, q + (2 * w));
        cr = ref Unsafe.Add(ref cr, cols);
        epilogue.Apply(t30, ref cr, q);
        epilogue.Apply(t31, ref cr, q + w);
        epilogue.Apply(t32, ref cr, q + (2 * w));
        cr = ref Unsafe.Add(ref cr, cols);
        epilogue.Apply(t40, ref cr, q);
        epilogue.Apply(t41, ref cr, q + w);
        epilogue.Apply(t42, ref cr, q + (2 * w));
        cr = ref Unsafe.Add(ref cr, cols);
        epilogue.Apply(t50, ref cr, q);
        epilogue.Apply(t51, ref cr, q + w);
        epilogue.Apply(t52, ref cr, q + (2 * w));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows<TV, TE>(ref float lr, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr0, int sums, int cols, int q, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        ref float l1 = ref Unsafe.Add(ref lr, rowStride);
        ref float l2 = ref Unsafe.Add(ref l1, rowStride);
        ref float l3 = ref Unsafe.Add(ref l2, rowStride);
        ref int picks = ref MemoryMarshal.GetReference(rRows);
        bool picked = !rRows.IsEmpty;
        TV t00 = epilogue.Start<TV>(ref cr0, q), t01 = epilogue.Start<TV>(ref cr0, q + w);
        TV t10 = epilogue.Start<TV>(ref cr0, cols + q), t11 = epilogue.Start<TV>(ref cr0, cols + q + w);
        TV t20 = epilogue.Start<TV>(ref cr0, (2 * cols) + q), t21 = epilogue.Start<TV>(ref cr0, (2 * cols) + q + w);
        TV t30 = epilogue.Start<TV>(ref cr0, (3 * cols) + q), t31 = epilogue.Start<TV>(ref cr0, (3 * cols) + q + w);
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

        ref float cr1 = ref Unsafe.Add(ref cr0, cols);
        ref float cr2 = ref Unsafe.Add(ref cr1, cols);
        ref float cr3 = ref Unsafe.Add(ref cr2, cols);
        epilogue.Apply(t00, ref cr0, q);
        epilogue.Apply(t01, ref cr0, q + w);
        epilogue.Apply(t10, ref cr1, q);
        epilogue.Apply(t11, ref cr1, q + w);
        epilogue.Apply(t20, ref cr2, q);
        epilogue.Apply(t21, ref cr2, q + w);
        epilogue.Apply(t30, ref cr3, q);
        epilogue.Apply(t31, ref cr3, q + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoRows<TV, TE>(ref float lr, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr0, int sums, int cols, int q, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        ref float l1 = ref Unsafe.Add(ref lr, rowStride);
        TV t00 = epilogue.Start<TV>(ref cr0, q), t01 = epilogue.Start<TV>(ref cr0, q + w);
        TV t10 = epilogue.Start<TV>(ref cr0, cols + q), t11 = epilogue.Start<TV>(ref cr0, cols + q + w);
        nint at = 0;
        for (int s = 0; s < sums; s++, at += sumStride)
        {
            ref float rs = ref Unsafe.Add(ref r0, RowOffset(rRows, s, cols) + q);
            TV x0 = TV.Load(ref rs, 0), x1 = TV.Load(ref rs, (nuint)w);
            TV f = TV.Broadcast(Unsafe.Add(ref lr, at));
            t00 = TV.MultiplyAdd(f, x0, t00);
            t01 = TV.MultiplyAdd(f, x1, t01);
            f = TV.Broadcast(Unsafe.Add(ref l1, at));
            t10 = TV.MultiplyAdd(f, x0, t10);
            t11 = TV.MultiplyAdd(f, x1, t11);
        }

        ref float cr1 = ref Unsafe.Add(ref cr0, cols);
        epilogue.Apply(t00, ref cr0, q);
        epilogue.Apply(t01, ref cr0, q + w);
        epilogue.Apply(t10, ref cr1, q);
        epilogue.Apply(t11, ref cr1, q + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneRow<TV, TE>(ref float lr, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr, int sums, int cols, int q, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        TV t0 = epilogue.Start<TV>(ref cr, q), t1 = epilogue.Start<TV>(ref cr, q + w);
        nint at = 0;
        for (int s = 0; s < sums; s++, at += sumStride)
        {
            ref float rs = ref Unsafe.Add(ref r0, RowOffset(rRows, s, cols) + q);
            TV f = TV.Broadcast(Unsafe.Add(ref lr, at));
            t0 = TV.MultiplyAdd(f, TV.Load(ref rs, 0), t0);
            t1 = TV.MultiplyAdd(f, TV.Load(ref rs, (nuint)w), t1);
        }

        epilogue.Apply(t0, ref cr, q);
        epilogue.Apply(t1, ref cr, q + w);
    }

    // Four output rows past the pairs: a last single vector of columns, then the tail vector (four independent chains,
    // not four one-chain rows), then any scalar columns. Not inlined: inside a caller with other tiles the JIT's
    // inlining budget ran out here and left about a dozen wrapper calls (Tail.Lanes, Epilogue.ApplyTail, Store) in
    // the tail's epilogue.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void FourRowsSingles<TV, TE>(ref float lr, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr0, int sums, int cols, int width, int q, Tail<TV> tail, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        int vectorEnd = width - (width % w);
        ref float cr1 = ref Unsafe.Add(ref cr0, cols);
        ref float cr2 = ref Unsafe.Add(ref cr1, cols);
        ref float cr3 = ref Unsafe.Add(ref cr2, cols);
        for (; q < vectorEnd || (q == vectorEnd && tail.Exists); q += w)
        {
            int at = q < vectorEnd ? q : tail.Start;
            TV t0 = epilogue.Start<TV>(ref cr0, at), t1 = epilogue.Start<TV>(ref cr1, at), t2 = epilogue.Start<TV>(ref cr2, at), t3 = epilogue.Start<TV>(ref cr3, at);
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
                ScalarColumns(ref Unsafe.Add(ref lr, o * rowStride), sumStride, ref r0, rRows, ref Unsafe.Add(ref cr0, o * cols), sums, cols, width, vectorEnd, epilogue);
            }
        }
    }

    // Eight output rows past the pairs, as FourRowsSingles: eight independent chains, enough to hide a multiply-add's
    // latency over long sums (at 16 registers too: eight accumulators, a load and a broadcast). The same chains, so the
    // same bits.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void EightRowsSingles<TV, TE>(ref float lr, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr0, int sums, int cols, int width, int q, Tail<TV> tail, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        int vectorEnd = width - (width % w);
        for (; q < vectorEnd || (q == vectorEnd && tail.Exists); q += w)
        {
            int at = q < vectorEnd ? q : tail.Start;
            ref float c = ref cr0;
            TV t0 = epilogue.Start<TV>(ref c, at);
            TV t1 = epilogue.Start<TV>(ref c = ref Unsafe.Add(ref c, cols), at);
            TV t2 = epilogue.Start<TV>(ref c = ref Unsafe.Add(ref c, cols), at);
            TV t3 = epilogue.Start<TV>(ref c = ref Unsafe.Add(ref c, cols), at);
            TV t4 = epilogue.Start<TV>(ref c = ref Unsafe.Add(ref c, cols), at);
            TV t5 = epilogue.Start<TV>(ref c = ref Unsafe.Add(ref c, cols), at);
            TV t6 = epilogue.Start<TV>(ref c = ref Unsafe.Add(ref c, cols), at);
            TV t7 = epilogue.Start<TV>(ref c = ref Unsafe.Add(ref c, cols), at);
            nint at4 = 4 * rowStride;
            for (int s = 0; s < sums; s++)
            {
                TV x = TV.Load(ref r0, (nuint)(RowOffset(rRows, s, cols) + at));
                ref float ls = ref Unsafe.Add(ref lr, (nint)s * sumStride);
                ref float ls4 = ref Unsafe.Add(ref ls, at4);
                t0 = TV.MultiplyAddBroadcast(ref ls, x, t0);
                t1 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref ls, rowStride), x, t1);
                t2 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref ls, 2 * rowStride), x, t2);
                t3 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref ls, 3 * rowStride), x, t3);
                t4 = TV.MultiplyAddBroadcast(ref ls4, x, t4);
                t5 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref ls4, rowStride), x, t5);
                t6 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref ls4, 2 * rowStride), x, t6);
                t7 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref ls4, 3 * rowStride), x, t7);
            }

            c = ref cr0;
            if (q < vectorEnd)
            {
                epilogue.Apply(t0, ref c, q);
                epilogue.Apply(t1, ref c = ref Unsafe.Add(ref c, cols), q);
                epilogue.Apply(t2, ref c = ref Unsafe.Add(ref c, cols), q);
                epilogue.Apply(t3, ref c = ref Unsafe.Add(ref c, cols), q);
                epilogue.Apply(t4, ref c = ref Unsafe.Add(ref c, cols), q);
                epilogue.Apply(t5, ref c = ref Unsafe.Add(ref c, cols), q);
                epilogue.Apply(t6, ref c = ref Unsafe.Add(ref c, cols), q);
                epilogue.Apply(t7, ref c = ref Unsafe.Add(ref c, cols), q);
            }
            else
            {
                epilogue.ApplyTail(t0, ref c, at, tail.Lanes);
                epilogue.ApplyTail(t1, ref c = ref Unsafe.Add(ref c, cols), at, tail.Lanes);
                epilogue.ApplyTail(t2, ref c = ref Unsafe.Add(ref c, cols), at, tail.Lanes);
                epilogue.ApplyTail(t3, ref c = ref Unsafe.Add(ref c, cols), at, tail.Lanes);
                epilogue.ApplyTail(t4, ref c = ref Unsafe.Add(ref c, cols), at, tail.Lanes);
                epilogue.ApplyTail(t5, ref c = ref Unsafe.Add(ref c, cols), at, tail.Lanes);
                epilogue.ApplyTail(t6, ref c = ref Unsafe.Add(ref c, cols), at, tail.Lanes);
                epilogue.ApplyTail(t7, ref c = ref Unsafe.Add(ref c, cols), at, tail.Lanes);
            }
        }

        if (!tail.Exists)
        {
            for (int o = 0; o < 8; o++)
            {
                ScalarColumns(ref Unsafe.Add(ref lr, o * rowStride), sumStride, ref r0, rRows, ref Unsafe.Add(ref cr0, o * cols), sums, cols, width, vectorEnd, epilogue);
            }
        }
    }

    // Four output rows from column q, one whole vector and the tail vector: eight accumulators over one pass of the sums.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void FourRowsVectorAndTail<TV, TE>(ref float lr, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr0, int sums, int cols, int q, Tail<TV> tail, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int at = tail.Start;
        ref float cr1 = ref Unsafe.Add(ref cr0, cols);
        ref float cr2 = ref Unsafe.Add(ref cr1, cols);
        ref float cr3 = ref Unsafe.Add(ref cr2, cols);
        TV t0 = epilogue.Start<TV>(ref cr0, q), t1 = epilogue.Start<TV>(ref cr1, q), t2 = epilogue.Start<TV>(ref cr2, q), t3 = epilogue.Start<TV>(ref cr3, q);
        TV u0 = epilogue.Start<TV>(ref cr0, at), u1 = epilogue.Start<TV>(ref cr1, at), u2 = epilogue.Start<TV>(ref cr2, at), u3 = epilogue.Start<TV>(ref cr3, at);
        for (int s = 0; s < sums; s++)
        {
            ref float rs = ref Unsafe.Add(ref r0, RowOffset(rRows, s, cols));
            TV x = TV.Load(ref rs, (nuint)q), y = TV.Load(ref rs, (nuint)at);
            ref float ls = ref Unsafe.Add(ref lr, (nint)s * sumStride);
            TV l = TV.Broadcast(ls);
            t0 = TV.MultiplyAdd(l, x, t0);
            u0 = TV.MultiplyAdd(l, y, u0);
            l = TV.Broadcast(Unsafe.Add(ref ls, rowStride));
            t1 = TV.MultiplyAdd(l, x, t1);
            u1 = TV.MultiplyAdd(l, y, u1);
            l = TV.Broadcast(Unsafe.Add(ref ls, 2 * rowStride));
            t2 = TV.MultiplyAdd(l, x, t2);
            u2 = TV.MultiplyAdd(l, y, u2);
            l = TV.Broadcast(Unsafe.Add(ref ls, 3 * rowStride));
            t3 = TV.MultiplyAdd(l, x, t3);
            u3 = TV.MultiplyAdd(l, y, u3);
        }

        epilogue.ApplyWithTail(t0, u0, ref cr0, q, at, tail.Lanes);
        epilogue.ApplyWithTail(t1, u1, ref cr1, q, at, tail.Lanes);
        epilogue.ApplyWithTail(t2, u2, ref cr2, q, at, tail.Lanes);
        epilogue.ApplyWithTail(t3, u3, ref cr3, q, at, tail.Lanes);
    }

    // One output row from column q, one whole vector and the tail vector, as FourRowsVectorAndTail.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowVectorAndTail<TV, TE>(ref float lr, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr, int sums, int cols, int q, Tail<TV> tail, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int at = tail.Start;
        TV t = epilogue.Start<TV>(ref cr, q), u = epilogue.Start<TV>(ref cr, at);
        for (int s = 0; s < sums; s++)
        {
            ref float rs = ref Unsafe.Add(ref r0, RowOffset(rRows, s, cols));
            TV l = TV.Broadcast(Unsafe.Add(ref lr, (nint)s * sumStride));
            t = TV.MultiplyAdd(l, TV.Load(ref rs, (nuint)q), t);
            u = TV.MultiplyAdd(l, TV.Load(ref rs, (nuint)at), u);
        }

        epilogue.ApplyWithTail(t, u, ref cr, q, at, tail.Lanes);
    }

    // One output row past the pairs: single vectors, then the tail, then any scalar columns.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowSingles<TV, TE>(ref float lr, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr, int sums, int cols, int width, int q, Tail<TV> tail, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        int vectorEnd = width - (width % w);
        for (; q < vectorEnd || (q == vectorEnd && tail.Exists); q += w)
        {
            int at = q < vectorEnd ? q : tail.Start;
            TV t = epilogue.Start<TV>(ref cr, at);
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
            ScalarColumns(ref lr, sumStride, ref r0, rRows, ref cr, sums, cols, width, vectorEnd, epilogue);
        }
    }

    // Columns [from, width) of one output row in scalars (128-bit rows shorter than a vector).
    private static void ScalarColumns<TE>(ref float lr, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float cr, int sums, int cols, int width, int from, Epilogue<TE> epilogue)
        where TE : struct, IEpilogue
    {
        for (int q = from; q < width; q++)
        {
            float t = epilogue.Start(ref Unsafe.Add(ref cr, q));
            for (int s = 0; s < sums; s++)
            {
                t = MultiplyAdds.Scalar(Unsafe.Add(ref lr, (nint)s * sumStride), Unsafe.Add(ref r0, RowOffset(rRows, s, cols) + q), t);
            }

            epilogue.Apply(t, ref Unsafe.Add(ref cr, q));
        }
    }

    // The rows of R a tile reads, from its column q on: in order, or picked (a mini-batch's samples read in place). A
    // type argument of the tile, so that its loop carries no flag: with one, the loop's integers outgrew the
    // registers and the count of sums was spilled and reloaded every step.
    private interface IRows
    {
        ref float Row(nint s, nint cols);
    }

    private readonly ref struct RowsInOrder(ref float rq) : IRows
    {
        private readonly ref float _rq = ref rq;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref float Row(nint s, nint cols) => ref Unsafe.Add(ref _rq, s * cols);
    }

    private readonly ref struct RowsPicked(ref float rq, ReadOnlySpan<int> picks) : IRows
    {
        private readonly ref float _rq = ref rq;
        private readonly ref int _picks = ref MemoryMarshal.GetReference(picks);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref float Row(nint s, nint cols) => ref Unsafe.Add(ref _rq, Unsafe.Add(ref _picks, s) * cols);
    }

    // The overlapping last vector of each output row: whether there is one, where it starts, and which of its lanes are new.
    private readonly record struct Tail<TV>(bool Exists, int Start, TV Lanes)
        where TV : struct, ISimd<TV>;
}
