using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Simd.Kernels;

// The strided kernel's pairs of vectors through packed panels, as BLAS libraries block a product: a panel of R (its
// rows of one block of s, a run of columns) copied once into a contiguous stack buffer, strip after strip of 2w
// columns, so that a tile's loads step through consecutive lines instead of one page per row of R (BP2's rows of W
// and the gradient's rows of A^{l-1} are 4 KiB apart in a 1024-wide layer), and the panel stays in L2 while every
// block of rows passes over it. L, when its factors for one step are not contiguous along s, is packed too, a tile's
// rows at a time. Every element of C is still one chain of multiply-adds over s in order: no bit changes.
internal static partial class Gemm
{
    /// <summary>Floats of R one panel holds: 128 KiB on the stack, a quarter of L2 (64 KiB gave the wide gradient 5% less).</summary>
    private const int PanelFloats = 32 * 1024;

    /// <summary>Rows of R per block of s through panels, when C can hold partial sums (BP2 of a wide layer, batched
    /// inference): 256 ran BP2 of 1024 x 1024 at m = 100 at 77-78% of the peak, 64 at 72-74%, 512 left too few strips per panel.</summary>
    private const int PanelSumBlock = 256;

    /// <summary>Longest block of s a panel takes (twice <see cref="PanelSumBlock"/>): longer sums that cannot be
    /// blocked (the folded step of a mini-batch above 512) stay unpacked.</summary>
    private const int MaxPanelSums = 2 * PanelSumBlock;

    /// <summary>Whether the pairs of a block of <paramref name="sums"/> go through packed panels.</summary>
    private static bool UsePanels(Panels panels, int sums, int rows, int pairEnd, int w) => panels switch
    {
        Panels.Never => false,
        Panels.Always or Panels.Twelve => pairEnd > 0 && sums > 0 && sums <= MaxPanelSums,
        // A panel pays when R does not already sit in L1 (ShortSums) and enough rows share each packed line.
        _ => pairEnd > 0 && sums >= ShortSums && sums <= MaxPanelSums && rows >= 12 && pairEnd >= 4 * w,
    };

    // Columns [0, pairEnd) of rows [rStart, rEnd) for one block of s, panel by panel.
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelPairs<TV, TE>(ref float l0, int rowStride, int sumStride, ref float r0, ReadOnlySpan<int> rRows, ref float c0,
        int sums, int cols, int rStart, int rEnd, int pairEnd, Epilogue<TE> epilogue, Panels panels)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int strip = 2 * TV.Count;
        int panelWidth = Math.Clamp(PanelFloats / sums / strip * strip, strip, pairEnd); // columns per panel, whole strips
        Span<float> panel = OnCacheLine(stackalloc float[(sums * panelWidth) + 16]);
        Span<float> packedL = stackalloc float[12 * sums];
        ref float p0 = ref MemoryMarshal.GetReference(panel);
        ref float pl = ref MemoryMarshal.GetReference(packedL);

        // L's six factors of one step are contiguous already when it runs along s (BP2: rows of Delta); when it runs
        // along rows (the gradient: columns of Delta), the six are adjacent but each step is a row of Delta away.
        bool packL = sumStride != 1;
        for (int q0 = 0; q0 < pairEnd; q0 += panelWidth)
        {
            int strips = Math.Min(panelWidth, pairEnd - q0) / strip;
            PackPanel<TV>(ref r0, rRows, cols, sums, q0, strips, ref p0);
            int row = rStart;

            // 32 registers: twelve rows by two vectors, 24 accumulators, each load of the panel used twelve times.
            for (; (SimdRegisters.Many || panels == Panels.Twelve) && row + 12 <= rEnd; row += 12)
            {
                scoped ref float lr = ref Unsafe.Add(ref l0, (nint)row * rowStride);
                int lRow = rowStride, lSum = sumStride;
                if (packL)
                {
                    PackRows(ref lr, rowStride, sumStride, 12, sums, ref pl);
                    lr = ref pl;
                    (lRow, lSum) = (1, 12);
                }

                ref float cr = ref Unsafe.Add(ref c0, ((nint)row * cols) + q0);
                for (int j = 0; j < strips; j++)
                {
                    PanelTwelve<TV, TE>(ref lr, lRow, lSum, ref Unsafe.Add(ref p0, (nint)j * sums * strip), ref Unsafe.Add(ref cr, j * strip), cols, sums, epilogue);
                }
            }

            for (; row + 6 <= rEnd; row += 6)
            {
                ref float lr = ref Unsafe.Add(ref l0, (nint)row * rowStride);
                ref float cr = ref Unsafe.Add(ref c0, ((nint)row * cols) + q0);
                if (packL)
                {
                    PackRows(ref lr, rowStride, sumStride, 6, sums, ref pl);
                    for (int j = 0; j < strips; j++)
                    {
                        PanelSix<TV, TE>(ref pl, 1, 6, ref Unsafe.Add(ref p0, (nint)j * sums * strip), ref Unsafe.Add(ref cr, j * strip), cols, sums, epilogue);
                    }
                }
                else
                {
                    for (int j = 0; j < strips; j++)
                    {
                        PanelSix<TV, TE>(ref lr, rowStride, sumStride, ref Unsafe.Add(ref p0, (nint)j * sums * strip), ref Unsafe.Add(ref cr, j * strip), cols, sums, epilogue);
                    }
                }
            }

            // The last rows, four, two and one at a time, through the same panel (L packed the same way when it is).
            while (row < rEnd)
            {
                int count = rEnd - row >= 4 ? 4 : rEnd - row >= 2 ? 2 : 1;
                scoped ref float lr = ref Unsafe.Add(ref l0, (nint)row * rowStride);
                int lRow = rowStride, lSum = sumStride;
                if (packL)
                {
                    PackRows(ref lr, rowStride, sumStride, count, sums, ref pl);
                    lr = ref pl;
                    (lRow, lSum) = (1, count);
                }

                ref float cr = ref Unsafe.Add(ref c0, ((nint)row * cols) + q0);
                for (int j = 0; j < strips; j++)
                {
                    ref float rp = ref Unsafe.Add(ref p0, (nint)j * sums * strip);
                    ref float cj = ref Unsafe.Add(ref cr, j * strip);
                    if (count == 4)
                    {
                        PanelFour<TV, TE>(ref lr, lRow, lSum, ref rp, ref cj, cols, sums, epilogue);
                    }
                    else if (count == 2)
                    {
                        PanelTwo<TV, TE>(ref lr, lRow, lSum, ref rp, ref cj, cols, sums, epilogue);
                    }
                    else
                    {
                        PanelOne<TV, TE>(ref lr, lSum, ref rp, ref cj, sums, epilogue);
                    }
                }

                row += count;
            }
        }
    }

    /// <summary>Rows of R ahead of the one being packed whose run of the panel is prefetched where rows are a page or more
    /// apart, so that no hardware prefetcher follows them; it pays where they come from memory (BP2 of layers wider than
    /// 1024; docs/optimizing-backprop.md, eighteenth session).</summary>
    private const int PackAhead = 8;

    /// <summary>Row length from which R's rows are a page (4 KiB) or more apart.</summary>
    private const int PageFloats = 4096 / sizeof(float);

    // Columns [q0, q0 + strips 2w) of the sums rows of R into the panel, strip-major: strip j's row s at (j sums + s) 2w.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackPanel<TV>(ref float r0, ReadOnlySpan<int> rRows, int cols, int sums, int q0, int strips, ref float panel)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count, strip = 2 * w;
        nint stripFloats = (nint)sums * strip;
        int ahead = cols >= PageFloats ? PackAhead : sums;
        for (int s = 0; s < sums; s++)
        {
            ref float source = ref Unsafe.Add(ref r0, RowOffset(rRows, s, cols) + q0);
            if (s + ahead < sums)
            {
                Prefetch.Run(in Unsafe.Add(ref r0, RowOffset(rRows, s + ahead, cols) + q0), strips * strip);
            }

            ref float destination = ref Unsafe.Add(ref panel, (nint)s * strip);
            for (int j = 0; j < strips; j++)
            {
                TV.Store(TV.Load(ref source, (nuint)(j * strip)), ref destination, 0);
                TV.Store(TV.Load(ref source, (nuint)((j * strip) + w)), ref destination, (nuint)w);
                destination = ref Unsafe.Add(ref destination, stripFloats);
            }
        }
    }

    /// <summary>The part of <paramref name="buffer"/> from its first 64-byte boundary on (up to 15 floats shorter): a
    /// panel's vector loads then never split across two cache lines.</summary>
    internal static unsafe Span<float> OnCacheLine(Span<float> buffer)
    {
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(buffer));
        return buffer[(int)(((64 - (address & 63)) & 63) / sizeof(float))..];
    }

    // L(r, s) for count rows into packed[s count + r]: each step's factors side by side.
    private static void PackRows(ref float lr, int rowStride, int sumStride, int count, int sums, ref float packed)
    {
        if (rowStride == 1 && count >= 4)
        {
            // The rows' factors of one step are adjacent already (the gradient's columns of Delta): each step's count
            // floats are copied in 4-float vectors, the last one overlapping the one before when count is not a multiple of 4.
            for (int s = 0; s < sums; s++)
            {
                ref float ls = ref Unsafe.Add(ref lr, (nint)s * sumStride);
                ref float destination = ref Unsafe.Add(ref packed, (nint)s * count);
                for (int r = 0; r < count - 4; r += 4)
                {
                    Vector128.LoadUnsafe(ref ls, (nuint)r).StoreUnsafe(ref destination, (nuint)r);
                }

                Vector128.LoadUnsafe(ref ls, (nuint)(count - 4)).StoreUnsafe(ref destination, (nuint)(count - 4));
            }

            return;
        }

        for (int s = 0; s < sums; s++)
        {
            ref float ls = ref Unsafe.Add(ref lr, (nint)s * sumStride);
            ref float destination = ref Unsafe.Add(ref packed, (nint)s * count);
            for (int r = 0; r < count; r++)
            {
                Unsafe.Add(ref destination, r) = Unsafe.Add(ref ls, (nint)r * rowStride);
            }
        }
    }

    // Twelve rows for 32 registers (AVX-512, ARM64): 24 accumulators, 2 loads and a broadcast. On 16 registers it
    // would spill; the tests run it there all the same (Panels.Twelve), for its arithmetic.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelTwelve<TV, TE>(ref float lr, int rowStride, int sumStride, ref float rp, ref float cr, int cols, int sums, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        ref float l1 = ref Unsafe.Add(ref lr, rowStride);
        ref float l2 = ref Unsafe.Add(ref l1, rowStride);
        ref float l3 = ref Unsafe.Add(ref l2, rowStride);
        ref float l4 = ref Unsafe.Add(ref l3, rowStride);
        ref float l5 = ref Unsafe.Add(ref l4, rowStride);
        ref float l6 = ref Unsafe.Add(ref l5, rowStride);
        ref float l7 = ref Unsafe.Add(ref l6, rowStride);
        ref float l8 = ref Unsafe.Add(ref l7, rowStride);
        ref float l9 = ref Unsafe.Add(ref l8, rowStride);
        ref float l10 = ref Unsafe.Add(ref l9, rowStride);
        ref float l11 = ref Unsafe.Add(ref l10, rowStride);
        TV t0a = epilogue.Start<TV>(ref cr, 0), t0b = epilogue.Start<TV>(ref cr, w);
        TV t1a = epilogue.Start<TV>(ref cr, cols), t1b = epilogue.Start<TV>(ref cr, cols + w);
        TV t2a = epilogue.Start<TV>(ref cr, 2 * cols), t2b = epilogue.Start<TV>(ref cr, (2 * cols) + w);
        TV t3a = epilogue.Start<TV>(ref cr, 3 * cols), t3b = epilogue.Start<TV>(ref cr, (3 * cols) + w);
        TV t4a = epilogue.Start<TV>(ref cr, 4 * cols), t4b = epilogue.Start<TV>(ref cr, (4 * cols) + w);
        TV t5a = epilogue.Start<TV>(ref cr, 5 * cols), t5b = epilogue.Start<TV>(ref cr, (5 * cols) + w);
        TV t6a = epilogue.Start<TV>(ref cr, 6 * cols), t6b = epilogue.Start<TV>(ref cr, (6 * cols) + w);
        TV t7a = epilogue.Start<TV>(ref cr, 7 * cols), t7b = epilogue.Start<TV>(ref cr, (7 * cols) + w);
        TV t8a = epilogue.Start<TV>(ref cr, 8 * cols), t8b = epilogue.Start<TV>(ref cr, (8 * cols) + w);
        TV t9a = epilogue.Start<TV>(ref cr, 9 * cols), t9b = epilogue.Start<TV>(ref cr, (9 * cols) + w);
        TV t10a = epilogue.Start<TV>(ref cr, 10 * cols), t10b = epilogue.Start<TV>(ref cr, (10 * cols) + w);
        TV t11a = epilogue.Start<TV>(ref cr, 11 * cols), t11b = epilogue.Start<TV>(ref cr, (11 * cols) + w);
        nint at = 0, step = 2 * w;
        ref float rs = ref rp;
        for (int s = 0; s < sums; s++, at += sumStride)
        {
            TV x0 = TV.Load(ref rs, 0), x1 = TV.Load(ref rs, (nuint)w);
            rs = ref Unsafe.Add(ref rs, step);
            t0a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref lr, at), x0, t0a);
            t0b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref lr, at), x1, t0b);
            t1a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l1, at), x0, t1a);
            t1b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l1, at), x1, t1b);
            t2a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l2, at), x0, t2a);
            t2b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l2, at), x1, t2b);
            t3a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l3, at), x0, t3a);
            t3b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l3, at), x1, t3b);
            t4a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l4, at), x0, t4a);
            t4b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l4, at), x1, t4b);
            t5a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l5, at), x0, t5a);
            t5b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l5, at), x1, t5b);
            t6a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l6, at), x0, t6a);
            t6b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l6, at), x1, t6b);
            t7a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l7, at), x0, t7a);
            t7b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l7, at), x1, t7b);
            t8a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l8, at), x0, t8a);
            t8b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l8, at), x1, t8b);
            t9a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l9, at), x0, t9a);
            t9b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l9, at), x1, t9b);
            t10a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l10, at), x0, t10a);
            t10b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l10, at), x1, t10b);
            t11a = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l11, at), x0, t11a);
            t11b = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref l11, at), x1, t11b);
        }

        // Finished out of line: with the epilogue's stores inlined here the JIT's inlining budget ran out at 512 bits,
        // the last applies stayed calls, and ten accumulators live across them were spilled on every step of the loop.
        // Field by field, as Tile10x2's sums: a constructor of 24 vectors stayed a call that copied them all once more.
        Unsafe.SkipInit(out Twelve<TV> accumulators);
        (accumulators.T0A, accumulators.T0B, accumulators.T1A, accumulators.T1B, accumulators.T2A, accumulators.T2B) = (t0a, t0b, t1a, t1b, t2a, t2b);
        (accumulators.T3A, accumulators.T3B, accumulators.T4A, accumulators.T4B, accumulators.T5A, accumulators.T5B) = (t3a, t3b, t4a, t4b, t5a, t5b);
        (accumulators.T6A, accumulators.T6B, accumulators.T7A, accumulators.T7B, accumulators.T8A, accumulators.T8B) = (t6a, t6b, t7a, t7b, t8a, t8b);
        (accumulators.T9A, accumulators.T9B, accumulators.T10A, accumulators.T10B, accumulators.T11A, accumulators.T11B) = (t9a, t9b, t10a, t10b, t11a, t11b);
        FinishTwelve(ref cr, cols, in accumulators, epilogue);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void FinishTwelve<TV, TE>(ref float cr, int cols, in Twelve<TV> t, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        ref float c = ref cr;
        epilogue.Apply(t.T0A, ref c, 0);
        epilogue.Apply(t.T0B, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t.T1A, ref c, 0);
        epilogue.Apply(t.T1B, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t.T2A, ref c, 0);
        epilogue.Apply(t.T2B, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t.T3A, ref c, 0);
        epilogue.Apply(t.T3B, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t.T4A, ref c, 0);
        epilogue.Apply(t.T4B, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t.T5A, ref c, 0);
        epilogue.Apply(t.T5B, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t.T6A, ref c, 0);
        epilogue.Apply(t.T6B, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t.T7A, ref c, 0);
        epilogue.Apply(t.T7B, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t.T8A, ref c, 0);
        epilogue.Apply(t.T8B, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t.T9A, ref c, 0);
        epilogue.Apply(t.T9B, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t.T10A, ref c, 0);
        epilogue.Apply(t.T10B, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t.T11A, ref c, 0);
        epilogue.Apply(t.T11B, ref c, w);
    }

    // PanelTwelve's 24 accumulators, rows 0..11 by its two vectors (a and b).
    [System.Diagnostics.CodeAnalysis.SuppressMessage("StyleCop.CSharp.MaintainabilityRules", "SA1401:Fields should be private", Justification = "a register file's spill: filled field by field")]
    private struct Twelve<TV>
        where TV : struct, ISimd<TV>
    {
        public TV T0A, T0B, T1A, T1B, T2A, T2B, T3A, T3B, T4A, T4B, T5A, T5B, T6A, T6B, T7A, T7B, T8A, T8B, T9A, T9B, T10A, T10B, T11A, T11B;
    }

    // The panel tiles: R rows of C by one strip of two vectors, the strip's rows of R consecutive in the panel. Six
    // rows is 12 accumulators, 2 loads and a broadcast: 15 of the 16 registers of AVX2.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelSix<TV, TE>(ref float lr, int rowStride, int sumStride, ref float rp, ref float cr, int cols, int sums, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        ref float l1 = ref Unsafe.Add(ref lr, rowStride);
        ref float l2 = ref Unsafe.Add(ref l1, rowStride);
        ref float l3 = ref Unsafe.Add(ref l2, rowStride);
        ref float l4 = ref Unsafe.Add(ref l3, rowStride);
        ref float l5 = ref Unsafe.Add(ref l4, rowStride);
        TV t00 = epilogue.Start<TV>(ref cr, 0), t01 = epilogue.Start<TV>(ref cr, w);
        TV t10 = epilogue.Start<TV>(ref cr, cols), t11 = epilogue.Start<TV>(ref cr, cols + w);
        TV t20 = epilogue.Start<TV>(ref cr, 2 * cols), t21 = epilogue.Start<TV>(ref cr, (2 * cols) + w);
        TV t30 = epilogue.Start<TV>(ref cr, 3 * cols), t31 = epilogue.Start<TV>(ref cr, (3 * cols) + w);
        TV t40 = epilogue.Start<TV>(ref cr, 4 * cols), t41 = epilogue.Start<TV>(ref cr, (4 * cols) + w);
        TV t50 = epilogue.Start<TV>(ref cr, 5 * cols), t51 = epilogue.Start<TV>(ref cr, (5 * cols) + w);
        nint at = 0, step = 2 * w;
        ref float rs = ref rp;
        for (int s = 0; s < sums; s++, at += sumStride)
        {
            TV x0 = TV.Load(ref rs, 0), x1 = TV.Load(ref rs, (nuint)w);
            rs = ref Unsafe.Add(ref rs, step);
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
            f = TV.Broadcast(Unsafe.Add(ref l4, at));
            t40 = TV.MultiplyAdd(f, x0, t40);
            t41 = TV.MultiplyAdd(f, x1, t41);
            f = TV.Broadcast(Unsafe.Add(ref l5, at));
            t50 = TV.MultiplyAdd(f, x0, t50);
            t51 = TV.MultiplyAdd(f, x1, t51);
        }

        ref float c = ref cr;
        epilogue.Apply(t00, ref c, 0);
        epilogue.Apply(t01, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t10, ref c, 0);
        epilogue.Apply(t11, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t20, ref c, 0);
        epilogue.Apply(t21, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t30, ref c, 0);
        epilogue.Apply(t31, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t40, ref c, 0);
        epilogue.Apply(t41, ref c, w);
        c = ref Unsafe.Add(ref c, cols);
        epilogue.Apply(t50, ref c, 0);
        epilogue.Apply(t51, ref c, w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelFour<TV, TE>(ref float lr, int rowStride, int sumStride, ref float rp, ref float cr, int cols, int sums, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        ref float l1 = ref Unsafe.Add(ref lr, rowStride);
        ref float l2 = ref Unsafe.Add(ref l1, rowStride);
        ref float l3 = ref Unsafe.Add(ref l2, rowStride);
        TV t00 = epilogue.Start<TV>(ref cr, 0), t01 = epilogue.Start<TV>(ref cr, w);
        TV t10 = epilogue.Start<TV>(ref cr, cols), t11 = epilogue.Start<TV>(ref cr, cols + w);
        TV t20 = epilogue.Start<TV>(ref cr, 2 * cols), t21 = epilogue.Start<TV>(ref cr, (2 * cols) + w);
        TV t30 = epilogue.Start<TV>(ref cr, 3 * cols), t31 = epilogue.Start<TV>(ref cr, (3 * cols) + w);
        nint at = 0, step = 2 * w;
        ref float rs = ref rp;
        for (int s = 0; s < sums; s++, at += sumStride)
        {
            TV x0 = TV.Load(ref rs, 0), x1 = TV.Load(ref rs, (nuint)w);
            rs = ref Unsafe.Add(ref rs, step);
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

        ref float c1 = ref Unsafe.Add(ref cr, cols);
        ref float c2 = ref Unsafe.Add(ref c1, cols);
        ref float c3 = ref Unsafe.Add(ref c2, cols);
        epilogue.Apply(t00, ref cr, 0);
        epilogue.Apply(t01, ref cr, w);
        epilogue.Apply(t10, ref c1, 0);
        epilogue.Apply(t11, ref c1, w);
        epilogue.Apply(t20, ref c2, 0);
        epilogue.Apply(t21, ref c2, w);
        epilogue.Apply(t30, ref c3, 0);
        epilogue.Apply(t31, ref c3, w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelTwo<TV, TE>(ref float lr, int rowStride, int sumStride, ref float rp, ref float cr, int cols, int sums, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        ref float l1 = ref Unsafe.Add(ref lr, rowStride);
        TV t00 = epilogue.Start<TV>(ref cr, 0), t01 = epilogue.Start<TV>(ref cr, w);
        TV t10 = epilogue.Start<TV>(ref cr, cols), t11 = epilogue.Start<TV>(ref cr, cols + w);
        nint at = 0, step = 2 * w;
        ref float rs = ref rp;
        for (int s = 0; s < sums; s++, at += sumStride)
        {
            TV x0 = TV.Load(ref rs, 0), x1 = TV.Load(ref rs, (nuint)w);
            rs = ref Unsafe.Add(ref rs, step);
            TV f = TV.Broadcast(Unsafe.Add(ref lr, at));
            t00 = TV.MultiplyAdd(f, x0, t00);
            t01 = TV.MultiplyAdd(f, x1, t01);
            f = TV.Broadcast(Unsafe.Add(ref l1, at));
            t10 = TV.MultiplyAdd(f, x0, t10);
            t11 = TV.MultiplyAdd(f, x1, t11);
        }

        ref float c1 = ref Unsafe.Add(ref cr, cols);
        epilogue.Apply(t00, ref cr, 0);
        epilogue.Apply(t01, ref cr, w);
        epilogue.Apply(t10, ref c1, 0);
        epilogue.Apply(t11, ref c1, w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelOne<TV, TE>(ref float lr, int sumStride, ref float rp, ref float cr, int sums, Epilogue<TE> epilogue)
        where TV : struct, ISimd<TV>
        where TE : struct, IEpilogue
    {
        int w = TV.Count;
        TV t0 = epilogue.Start<TV>(ref cr, 0), t1 = epilogue.Start<TV>(ref cr, w);
        nint at = 0, step = 2 * w;
        ref float rs = ref rp;
        for (int s = 0; s < sums; s++, at += sumStride)
        {
            TV f = TV.Broadcast(Unsafe.Add(ref lr, at));
            t0 = TV.MultiplyAdd(f, TV.Load(ref rs, 0), t0);
            t1 = TV.MultiplyAdd(f, TV.Load(ref rs, (nuint)w), t1);
            rs = ref Unsafe.Add(ref rs, step);
        }

        epilogue.Apply(t0, ref cr, 0);
        epilogue.Apply(t1, ref cr, w);
    }

    /// <summary>When the strided kernel packs panels: as it judges best, never, or whenever the shape allows (tests).</summary>
    internal enum Panels
    {
        Auto,
        Never,
        Always,

        /// <summary>As <see cref="Always"/>, with the 32-register tile of twelve rows on any machine (for its tests).</summary>
        Twelve,
    }
}
