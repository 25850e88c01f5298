using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

// C = A B^T + 1 bias^T by dot products along rows of both operands: tiles of R rows of A against J rows of B
// (10 x 2 and 4 x 3 where registers allow), R x J independent accumulators, each load of B used R times and each load of A J times;
// a small layer's few outputs over short rows, a row of A against all of them (Rows1x12).
internal static partial class Gemm
{
    /// <summary>Bytes of B one block of its rows may take: 512 KiB (half of a 1 MiB L2, the other half for A and C) where
    /// the L2 has 1 MiB or more, else half of a 512 KiB L2 (512 KiB took 0.955-0.975 of the time on a 1 MiB L2).</summary>
    private static readonly int BlockBytes = CacheInfo.L2Bytes >= 1024 * 1024 ? 512 * 1024 : 256 * 1024;

    /// <summary>Whether rows 4 KiB apart are copied apart: a tile's seven rows at the same offset (four of A, three of
    /// B) fall in one set of L1, which 8 ways cannot hold with the lines streaming past; 12 ways can, and the copies
    /// then cost more than they save (0.92-0.94 of the 4 x 3 tile's time without them on Zen 5).</summary>
    private static readonly bool PadAliasedRows = CacheInfo.L1Ways < 12;

    /// <summary>How the forward product blocks B and whether it copies 4 KiB-apart rows of A apart; either way the same sums.</summary>
    internal readonly record struct Blocking(int BlockBytes, bool PadAliasedRows);

    // B (the weights) in blocks of rows that fit L2, every block of rows of A passing over one before the next: with
    // A's blocks outer, a B larger than L2 (a wide layer's 4 MB) was streamed from L3 once per four samples. Each C
    // element is the same sum in the same order in any block.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transposed<TV>(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, int jStart, int jEnd,
        Blocking blocking)
        where TV : struct, ISimd<TV>
    {
        int block = Math.Max(6, blocking.BlockBytes / sizeof(float) / Math.Max(k, 1) / 6 * 6); // a multiple of both tiles' 3 and 2 columns
        for (int j = jStart; j < jEnd; j += block)
        {
            TransposedBlock<TV>(a, aRows, b, bias, c, m, n, k, j, Math.Min(jEnd, j + block), blocking.PadAliasedRows);
        }
    }

    /// <summary>Longest rows of A copied into the padded stack block (4 rows of it: 64 KiB at most).</summary>
    private const int MaxPaddedK = 4096;

    /// <summary>Floats between the copied rows beyond k: 64 bytes, so that no two rows sit a multiple of 4 KiB apart.</summary>
    private const int RowPad = 16;

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposedBlock<TV>(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, int jStart, int jEnd,
        bool padAliasedRows)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float bias0 = ref MemoryMarshal.GetReference(bias);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        Dot<TV> dot = new(k, k - (k % w), TV.LanesFrom(w - (k % w))); // the tail's lanes: those of [k - w, k) past the last whole vector
        if (ShortRows<TV>(k, jEnd - jStart))
        {
            Rows1x12(a, aRows, m, ref Unsafe.Add(ref b0, (nint)jStart * k), ref Unsafe.Add(ref bias0, jStart), ref Unsafe.Add(ref c0, jStart), n, jEnd - jStart, dot);
            return;
        }

        // Rows of 1024 floats (a wide layer's inputs) are 4 KiB apart, and a tile's rows of A and B at the same
        // offset then fall in one set of L1 (a Zen 3's 32 KiB, 8 ways: 67% of the peak where rows of 1040 floats ran
        // at 75%). Where the L1 has fewer than 12 ways or does not say (PadAliasedRows), the tile's four rows of A are
        // copied 64 bytes apart; the same values, so the same sums. At 512 bits they are copied as well when A's rows do not start on cache lines:
        // each 64-byte load then spans two lines, and a 4 x 3 step's seven loads no longer hide under its twelve
        // multiply-adds (docs/optimizing-backprop.md, twelfth session). The copies start on cache lines.
        bool pad = k <= MaxPaddedK && (((k * sizeof(float)) % 4096 == 0 && padAliasedRows) || (w == 16 && k >= 64 && !OnCacheLines(ref a0, k)));
        int kp = ((k + RowPad - 1) / RowPad * RowPad) + RowPad;
        if (kp % 1024 == 0)
        {
            kp += RowPad; // not 4 KiB apart either
        }

        Span<float> padded = pad ? OnCacheLine(stackalloc float[(4 * kp) + RowPad]) : default;

        ref float pad0 = ref MemoryMarshal.GetReference(padded);
        int i = 0;
        if (!pad && TenRows<TV>(k))
        {
            // Ten rows of A at a time (m = 10 in one tile): 2 loads of B and 10 of A for 20 multiply-adds, and B read
            // once per ten rows of A rather than once per four; A's ten rows stay in L1 while B's pairs stream past.
            for (; i + 10 <= m; i += 10)
            {
                TenRowsOf(a, aRows, i, k, ref b0, ref bias0, ref Unsafe.Add(ref c0, (nint)i * n), n, jStart, jEnd, dot);
            }
        }

        for (; i + 4 <= m; i += 4)
        {
            scoped ref float ar0 = ref Unsafe.Add(ref a0, RowOffset(aRows, i, k));
            scoped ref float ar1 = ref Unsafe.Add(ref a0, RowOffset(aRows, i + 1, k));
            scoped ref float ar2 = ref Unsafe.Add(ref a0, RowOffset(aRows, i + 2, k));
            scoped ref float ar3 = ref Unsafe.Add(ref a0, RowOffset(aRows, i + 3, k));
            if (pad)
            {
                MemoryMarshal.CreateReadOnlySpan(ref ar0, k).CopyTo(padded);
                MemoryMarshal.CreateReadOnlySpan(ref ar1, k).CopyTo(padded[kp..]);
                MemoryMarshal.CreateReadOnlySpan(ref ar2, k).CopyTo(padded[(2 * kp)..]);
                MemoryMarshal.CreateReadOnlySpan(ref ar3, k).CopyTo(padded[(3 * kp)..]);
                ar0 = ref pad0;
                ar1 = ref Unsafe.Add(ref pad0, kp);
                ar2 = ref Unsafe.Add(ref pad0, 2 * kp);
                ar3 = ref Unsafe.Add(ref pad0, 3 * kp);
            }

            int j = jStart;
            if (SimdRegisters.Many)
            {
                for (; j + 3 <= jEnd; j += 3)
                {
                    Tile4x3(ref ar0, ref ar1, ref ar2, ref ar3, ref Unsafe.Add(ref b0, (nint)j * k), ref Unsafe.Add(ref bias0, j), ref Unsafe.Add(ref c0, ((nint)i * n) + j), n, dot);
                }
            }
            else
            {
                // 16 registers: 4 x 3 needs 12 accumulators and 3 + 1 operands, all 16, and no room for a temporary:
                // without FMA the product needs one, and with FMA the JIT (.NET 10, SimdVector<T>) still takes one for
                // an accumulator it copies, so one accumulator is spilled and its store-to-load round trip on every
                // step bounds the whole loop (DotProduct evaluation 1.43x slower than the hand-written Simd256 of
                // dbe5e35, whose 4 x 3 fitted). 4 x 2 fits; each C element is the same sum in the same order.
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
            // Two rows left (m = 10, say): one pass over B for both instead of one per row. With 32 registers, six
            // rows of B at a time: 8 loads for 12 multiply-adds (2 x 3: 5 for 6), and the twelve sums done together.
            ref float ar0 = ref Unsafe.Add(ref a0, RowOffset(aRows, i, k));
            ref float ar1 = ref Unsafe.Add(ref a0, RowOffset(aRows, i + 1, k));
            int j = jStart;
            if (SimdRegisters.Many && HorizontalSums.Batched<TV>() && k >= w)
            {
                for (; j + 6 <= jEnd; j += 6)
                {
                    Tile2x6(ref ar0, ref ar1, ref Unsafe.Add(ref b0, (nint)j * k), ref Unsafe.Add(ref bias0, j), ref Unsafe.Add(ref c0, ((nint)i * n) + j), n, dot);
                }
            }

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

    /// <summary>Longest rows of A, in vectors, for <see cref="Rows1x12"/>.</summary>
    private const int MaxShortVectors = 2;

    /// <summary>Whether <see cref="Rows1x12"/> computes the whole block: 7 to 12 columns (a small layer's outputs; with
    /// fewer, its twelve accumulators would mostly compute sums it drops) of rows one to <see cref="MaxShortVectors"/>
    /// vectors long, where the tiles' tails and sums cost more than their multiply-adds; 32 registers and x86's batched sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ShortRows<TV>(int k, int columns)
        where TV : struct, ISimd<TV> =>
        SimdRegisters.Many && HorizontalSums.Batched<TV>() && columns >= 7 && columns <= 12 && k >= TV.Count && k <= MaxShortVectors * TV.Count;

    // Each of the m rows of A against `count` (at most twelve) rows of B: a row's sums, tails included, in one batch.
    // Rows of B past `count` repeat the last one; their sums are dropped. 13 registers in the loop: 12 accumulators and a
    // row of A (B is the multiply-adds' memory operand).
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows1x12<TV>(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, int m, ref float br0, ref float bias, ref float c0, int n, int count, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        nint k = dot.K, last = count - 1;
        ref float br1 = ref Unsafe.Add(ref br0, Math.Min(1, last) * k), br2 = ref Unsafe.Add(ref br0, Math.Min(2, last) * k);
        ref float br3 = ref Unsafe.Add(ref br0, Math.Min(3, last) * k), br4 = ref Unsafe.Add(ref br0, Math.Min(4, last) * k);
        ref float br5 = ref Unsafe.Add(ref br0, Math.Min(5, last) * k), br6 = ref Unsafe.Add(ref br0, Math.Min(6, last) * k);
        ref float br7 = ref Unsafe.Add(ref br0, Math.Min(7, last) * k), br8 = ref Unsafe.Add(ref br0, Math.Min(8, last) * k);
        ref float br9 = ref Unsafe.Add(ref br0, Math.Min(9, last) * k), br10 = ref Unsafe.Add(ref br0, Math.Min(10, last) * k);
        ref float br11 = ref Unsafe.Add(ref br0, Math.Min(11, last) * k);
        Vector512<float> lanes = typeof(TV) == typeof(SimdVector<Vector512<float>>) ? Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle() : default;
        Span<float> sums = typeof(TV) == typeof(SimdVector<Vector512<float>>) ? default : stackalloc float[16];
        for (int i = 0; i < m; i++)
        {
            ref float ar = ref Unsafe.Add(ref MemoryMarshal.GetReference(a), RowOffset(aRows, i, (int)k));
            ref float cr = ref Unsafe.Add(ref c0, (nint)i * n);
            TV s0 = TV.Zero, s1 = TV.Zero, s2 = TV.Zero, s3 = TV.Zero, s4 = TV.Zero, s5 = TV.Zero;
            TV s6 = TV.Zero, s7 = TV.Zero, s8 = TV.Zero, s9 = TV.Zero, s10 = TV.Zero, s11 = TV.Zero;
            for (int p = 0; p < dot.VectorEnd; p += w)
            {
                TV y = TV.Load(ref ar, (nuint)p);
                s0 = TV.MultiplyAddLoad(ref br0, (nuint)p, y, s0);
                s1 = TV.MultiplyAddLoad(ref br1, (nuint)p, y, s1);
                s2 = TV.MultiplyAddLoad(ref br2, (nuint)p, y, s2);
                s3 = TV.MultiplyAddLoad(ref br3, (nuint)p, y, s3);
                s4 = TV.MultiplyAddLoad(ref br4, (nuint)p, y, s4);
                s5 = TV.MultiplyAddLoad(ref br5, (nuint)p, y, s5);
                s6 = TV.MultiplyAddLoad(ref br6, (nuint)p, y, s6);
                s7 = TV.MultiplyAddLoad(ref br7, (nuint)p, y, s7);
                s8 = TV.MultiplyAddLoad(ref br8, (nuint)p, y, s8);
                s9 = TV.MultiplyAddLoad(ref br9, (nuint)p, y, s9);
                s10 = TV.MultiplyAddLoad(ref br10, (nuint)p, y, s10);
                s11 = TV.MultiplyAddLoad(ref br11, (nuint)p, y, s11);
            }

            if (typeof(TV) == typeof(SimdVector<Vector512<float>>) && Avx512F.IsSupported)
            {
                // The sums stay in a register: bias added and the row stored under a mask, no store and reload of the sums.
                Vector512<float> total = HorizontalSums.Of12In512(
                    WithTail(s0, ref ar, ref br0, dot), WithTail(s1, ref ar, ref br1, dot), WithTail(s2, ref ar, ref br2, dot),
                    WithTail(s3, ref ar, ref br3, dot), WithTail(s4, ref ar, ref br4, dot), WithTail(s5, ref ar, ref br5, dot),
                    WithTail(s6, ref ar, ref br6, dot), WithTail(s7, ref ar, ref br7, dot), WithTail(s8, ref ar, ref br8, dot),
                    WithTail(s9, ref ar, ref br9, dot), WithTail(s10, ref ar, ref br10, dot), WithTail(s11, ref ar, ref br11, dot));
                unsafe
                {
                    fixed (float* b = &bias, c = &cr)
                    {
                        Avx512F.MaskStore(c, lanes, total + Avx512F.MaskLoad(b, lanes, Vector512<float>.Zero));
                    }
                }

                continue;
            }

            HorizontalSums.Of12(
                WithTail(s0, ref ar, ref br0, dot), WithTail(s1, ref ar, ref br1, dot), WithTail(s2, ref ar, ref br2, dot),
                WithTail(s3, ref ar, ref br3, dot), WithTail(s4, ref ar, ref br4, dot), WithTail(s5, ref ar, ref br5, dot),
                WithTail(s6, ref ar, ref br6, dot), WithTail(s7, ref ar, ref br7, dot), WithTail(s8, ref ar, ref br8, dot),
                WithTail(s9, ref ar, ref br9, dot), WithTail(s10, ref ar, ref br10, dot), WithTail(s11, ref ar, ref br11, dot),
                sums);
            for (int j = 0; j < count; j++)
            {
                Unsafe.Add(ref cr, j) = sums[j] + Unsafe.Add(ref bias, j);
            }
        }
    }

    /// <summary>Longest rows of A for the 10-row tile: its ten rows and a pair of B's then fit a 48 KiB L1 (Zen 5's; with
    /// a 32 KiB L1, ten rows of 784 floats do not, and part of them is read from L2 on every step: not measured).</summary>
    private const int MaxTenRowsK = 1000;

    /// <summary>Whether <see cref="Tile10x2"/> runs for rows of <paramref name="k"/> floats: 32 registers (20 accumulators,
    /// 2 rows of B, 1 of A), x86's batched sums, and rows of at least a vector that fit L1 ten at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TenRows<TV>(int k)
        where TV : struct, ISimd<TV> =>
        SimdRegisters.Many && HorizontalSums.Batched<TV>() && k >= TV.Count && k <= MaxTenRowsK;

    // Rows [i, i + 10) of C, columns [jStart, jEnd): pairs of columns by Tile10x2, an odd last one by the 4- and 2-row
    // single-column tiles.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TenRowsOf<TV>(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, int i, int k, ref float b0, ref float bias0, ref float ci, int n, int jStart, int jEnd, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        ref float a0 = ref MemoryMarshal.GetReference(a);
        Rows10 rows = new(RowOffset(aRows, i, k), RowOffset(aRows, i + 1, k), RowOffset(aRows, i + 2, k), RowOffset(aRows, i + 3, k), RowOffset(aRows, i + 4, k),
            RowOffset(aRows, i + 5, k), RowOffset(aRows, i + 6, k), RowOffset(aRows, i + 7, k), RowOffset(aRows, i + 8, k), RowOffset(aRows, i + 9, k));
        int j = jStart;
        for (; j + 2 <= jEnd; j += 2)
        {
            Tile10x2(ref a0, in rows, ref Unsafe.Add(ref b0, (nint)j * k), ref Unsafe.Add(ref bias0, j), ref Unsafe.Add(ref ci, j), n, dot);
        }

        if (j < jEnd)
        {
            ref float br = ref Unsafe.Add(ref b0, (nint)j * k);
            ref float bias = ref Unsafe.Add(ref bias0, j);
            ref float c = ref Unsafe.Add(ref ci, j);
            Tile4x1(ref Unsafe.Add(ref a0, rows.R0), ref Unsafe.Add(ref a0, rows.R1), ref Unsafe.Add(ref a0, rows.R2), ref Unsafe.Add(ref a0, rows.R3), ref br, ref bias, ref c, n, dot);
            Tile4x1(ref Unsafe.Add(ref a0, rows.R4), ref Unsafe.Add(ref a0, rows.R5), ref Unsafe.Add(ref a0, rows.R6), ref Unsafe.Add(ref a0, rows.R7), ref br, ref bias, ref Unsafe.Add(ref c, 4 * n), n, dot);
            Tile2x1(ref Unsafe.Add(ref a0, rows.R8), ref Unsafe.Add(ref a0, rows.R9), ref br, ref bias, ref Unsafe.Add(ref c, 8 * n), n, dot);
        }
    }

    [SkipLocalsInit] // the accumulators' spill is written field by field: no zeroing of its 20 vectors first
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile10x2<TV>(ref float a0, in Rows10 rows, ref float br0, ref float bias, ref float cr, int n, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        ref float br1 = ref Unsafe.Add(ref br0, dot.K);
        ref float ar0 = ref Unsafe.Add(ref a0, rows.R0), ar1 = ref Unsafe.Add(ref a0, rows.R1), ar2 = ref Unsafe.Add(ref a0, rows.R2);
        ref float ar3 = ref Unsafe.Add(ref a0, rows.R3), ar4 = ref Unsafe.Add(ref a0, rows.R4), ar5 = ref Unsafe.Add(ref a0, rows.R5);
        ref float ar6 = ref Unsafe.Add(ref a0, rows.R6), ar7 = ref Unsafe.Add(ref a0, rows.R7), ar8 = ref Unsafe.Add(ref a0, rows.R8);
        ref float ar9 = ref Unsafe.Add(ref a0, rows.R9);
        TV s00 = TV.Zero, s01 = TV.Zero, s10 = TV.Zero, s11 = TV.Zero, s20 = TV.Zero, s21 = TV.Zero, s30 = TV.Zero, s31 = TV.Zero;
        TV s40 = TV.Zero, s41 = TV.Zero, s50 = TV.Zero, s51 = TV.Zero, s60 = TV.Zero, s61 = TV.Zero, s70 = TV.Zero, s71 = TV.Zero;
        TV s80 = TV.Zero, s81 = TV.Zero, s90 = TV.Zero, s91 = TV.Zero;
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
            y = TV.Load(ref ar4, (nuint)p);
            s40 = TV.MultiplyAdd(y, x0, s40);
            s41 = TV.MultiplyAdd(y, x1, s41);
            y = TV.Load(ref ar5, (nuint)p);
            s50 = TV.MultiplyAdd(y, x0, s50);
            s51 = TV.MultiplyAdd(y, x1, s51);
            y = TV.Load(ref ar6, (nuint)p);
            s60 = TV.MultiplyAdd(y, x0, s60);
            s61 = TV.MultiplyAdd(y, x1, s61);
            y = TV.Load(ref ar7, (nuint)p);
            s70 = TV.MultiplyAdd(y, x0, s70);
            s71 = TV.MultiplyAdd(y, x1, s71);
            y = TV.Load(ref ar8, (nuint)p);
            s80 = TV.MultiplyAdd(y, x0, s80);
            s81 = TV.MultiplyAdd(y, x1, s81);
            y = TV.Load(ref ar9, (nuint)p);
            s90 = TV.MultiplyAdd(y, x0, s90);
            s91 = TV.MultiplyAdd(y, x1, s91);
        }

        // Field by field: a constructor of twenty vectors is past the inliner's limit on arguments, and was a call.
        Unsafe.SkipInit(out Sums10x2<TV> sums);
        (sums.S00, sums.S01, sums.S10, sums.S11, sums.S20, sums.S21, sums.S30, sums.S31, sums.S40, sums.S41) = (s00, s01, s10, s11, s20, s21, s30, s31, s40, s41);
        (sums.S50, sums.S51, sums.S60, sums.S61, sums.S70, sums.S71, sums.S80, sums.S81, sums.S90, sums.S91) = (s50, s51, s60, s61, s70, s71, s80, s81, s90, s91);
        FinishTile10x2(ref cr, n, ref sums, ref a0, in rows, ref br0, ref bias, dot);
    }

    // Tile10x2's twenty sums, out of line (as FinishTile4x3, so that nothing is spilled in the k loop), in two batches
    // of HorizontalSums.Of12: the first twelve, then the last eight (the second batch's last four lanes unused). The
    // tails, when rows end inside a vector, are added in place first: one test for all twenty.
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FinishTile10x2<TV>(ref float cr, int n, ref Sums10x2<TV> s, ref float a0, in Rows10 rows, ref float br0, ref float bias, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        if (dot.VectorEnd < dot.K)
        {
            AddTails(ref s, ref a0, in rows, ref br0, dot);
        }

        if (typeof(TV) == typeof(SimdVector<Vector512<float>>) && Avx512F.IsSupported)
        {
            // Each row's two sums are a 64-bit lane: bias pair added in a register, each pair stored straight to its row
            // (a store of the sums and scalar reloads of it cost more than the sums themselves).
            Vector512<float> pairs = Vector512.Create(Unsafe.ReadUnaligned<long>(ref Unsafe.As<float, byte>(ref bias))).AsSingle();
            Vector512<float> top = pairs + HorizontalSums.Of12In512(
                s.S00, s.S01, s.S10, s.S11, s.S20, s.S21, s.S30, s.S31, s.S40, s.S41, s.S50, s.S51);
            Vector512<float> bottom = pairs + HorizontalSums.Of12In512(
                s.S60, s.S61, s.S70, s.S71, s.S80, s.S81, s.S90, s.S91, s.S80, s.S80, s.S80, s.S80);
            unsafe
            {
                fixed (float* c = &cr)
                {
                    StorePairs(c, n, top.GetLower().GetLower());
                    StorePairs(c + (2 * n), n, top.GetLower().GetUpper());
                    StorePairs(c + (4 * n), n, top.GetUpper().GetLower());
                    StorePairs(c + (6 * n), n, bottom.GetLower().GetLower());
                    StorePairs(c + (8 * n), n, bottom.GetLower().GetUpper());
                }
            }

            return;
        }

        Span<float> sums = stackalloc float[28];
        HorizontalSums.Of12(s.S00, s.S01, s.S10, s.S11, s.S20, s.S21, s.S30, s.S31, s.S40, s.S41, s.S50, s.S51, sums[..16]);
        HorizontalSums.Of12(s.S60, s.S61, s.S70, s.S71, s.S80, s.S81, s.S90, s.S91, s.S80, s.S80, s.S80, s.S80, sums[12..]);
        ref float sum = ref MemoryMarshal.GetReference(sums);
        float bias0 = bias, bias1 = Unsafe.Add(ref bias, 1);
        for (int r = 0; r < 10; r++)
        {
            ref float c = ref Unsafe.Add(ref cr, r * n);
            c = Unsafe.Add(ref sum, 2 * r) + bias0;
            Unsafe.Add(ref c, 1) = Unsafe.Add(ref sum, (2 * r) + 1) + bias1;
        }
    }

    // Two rows' pairs of C from the two 64-bit lanes of `pairs`, the rows n floats apart.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StorePairs(float* c, int n, Vector128<float> pairs)
    {
        Sse.StoreLow(c, pairs);
        Sse.StoreHigh(c + n, pairs);
    }

    // Finish's tail step for each of Tile10x2's twenty sums.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddTails<TV>(ref Sums10x2<TV> s, ref float a0, in Rows10 rows, ref float br0, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        ref float br1 = ref Unsafe.Add(ref br0, dot.K);
        ref float ar0 = ref Unsafe.Add(ref a0, rows.R0), ar1 = ref Unsafe.Add(ref a0, rows.R1), ar2 = ref Unsafe.Add(ref a0, rows.R2);
        ref float ar3 = ref Unsafe.Add(ref a0, rows.R3), ar4 = ref Unsafe.Add(ref a0, rows.R4), ar5 = ref Unsafe.Add(ref a0, rows.R5);
        ref float ar6 = ref Unsafe.Add(ref a0, rows.R6), ar7 = ref Unsafe.Add(ref a0, rows.R7), ar8 = ref Unsafe.Add(ref a0, rows.R8);
        ref float ar9 = ref Unsafe.Add(ref a0, rows.R9);
        (s.S00, s.S01) = (WithTail(s.S00, ref ar0, ref br0, dot), WithTail(s.S01, ref ar0, ref br1, dot));
        (s.S10, s.S11) = (WithTail(s.S10, ref ar1, ref br0, dot), WithTail(s.S11, ref ar1, ref br1, dot));
        (s.S20, s.S21) = (WithTail(s.S20, ref ar2, ref br0, dot), WithTail(s.S21, ref ar2, ref br1, dot));
        (s.S30, s.S31) = (WithTail(s.S30, ref ar3, ref br0, dot), WithTail(s.S31, ref ar3, ref br1, dot));
        (s.S40, s.S41) = (WithTail(s.S40, ref ar4, ref br0, dot), WithTail(s.S41, ref ar4, ref br1, dot));
        (s.S50, s.S51) = (WithTail(s.S50, ref ar5, ref br0, dot), WithTail(s.S51, ref ar5, ref br1, dot));
        (s.S60, s.S61) = (WithTail(s.S60, ref ar6, ref br0, dot), WithTail(s.S61, ref ar6, ref br1, dot));
        (s.S70, s.S71) = (WithTail(s.S70, ref ar7, ref br0, dot), WithTail(s.S71, ref ar7, ref br1, dot));
        (s.S80, s.S81) = (WithTail(s.S80, ref ar8, ref br0, dot), WithTail(s.S81, ref ar8, ref br1, dot));
        (s.S90, s.S91) = (WithTail(s.S90, ref ar9, ref br0, dot), WithTail(s.S91, ref ar9, ref br1, dot));
    }

    // Where Tile10x2's ten rows of A start (in floats from A's first element).
    private readonly record struct Rows10(nint R0, nint R1, nint R2, nint R3, nint R4, nint R5, nint R6, nint R7, nint R8, nint R9);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("StyleCop.CSharp.MaintainabilityRules", "SA1401:Fields should be private", Justification = "a register file's spill: filled field by field")]
    private struct Sums10x2<TV>
        where TV : struct, ISimd<TV>
    {
        public TV S00, S01, S10, S11, S20, S21, S30, S31, S40, S41, S50, S51, S60, S61, S70, S71, S80, S81, S90, S91;
    }

    /// <summary>Whether every row of <paramref name="k"/> floats from <paramref name="a0"/> starts on a 64-byte line.</summary>
    private static unsafe bool OnCacheLines(ref float a0, int k) =>
        k % 16 == 0 && ((nuint)Unsafe.AsPointer(ref a0) % 64) == 0;

    // The tiles of Transposed: R rows of A against J consecutive rows of B, R x J independent accumulators, each load of
    // B used R times and each load of A J times; C[r, j] at cr + r * n + j. One method per tile shape keeps each
    // small enough for the JIT to inline every vector operation in it.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x3<TV>(ref float ar0, ref float ar1, ref float ar2, ref float ar3, ref float br0, ref float bias, ref float cr, int n, in Dot<TV> dot)
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

        Sums4x3<TV> sums = new(s00, s01, s02, s10, s11, s12, s20, s21, s22, s30, s31, s32);
        FinishTile4x3(ref cr, n, in sums, ref ar0, ref ar1, ref ar2, ref ar3, ref br0, ref bias, dot);
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
            s00 = TV.MultiplyAddLoad(ref ar0, (nuint)p, x0, s00);
            s10 = TV.MultiplyAddLoad(ref ar1, (nuint)p, x0, s10);
            s20 = TV.MultiplyAddLoad(ref ar2, (nuint)p, x0, s20);
            s30 = TV.MultiplyAddLoad(ref ar3, (nuint)p, x0, s30);
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
    private static void Tile2x6<TV>(ref float ar0, ref float ar1, ref float br0, ref float bias, ref float cr, int n, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        ref float br1 = ref Unsafe.Add(ref br0, dot.K);
        ref float br2 = ref Unsafe.Add(ref br1, dot.K);
        ref float br3 = ref Unsafe.Add(ref br2, dot.K);
        ref float br4 = ref Unsafe.Add(ref br3, dot.K);
        ref float br5 = ref Unsafe.Add(ref br4, dot.K);
        TV s00 = TV.Zero, s01 = TV.Zero, s02 = TV.Zero, s03 = TV.Zero, s04 = TV.Zero, s05 = TV.Zero;
        TV s10 = TV.Zero, s11 = TV.Zero, s12 = TV.Zero, s13 = TV.Zero, s14 = TV.Zero, s15 = TV.Zero;
        for (int p = 0; p < dot.VectorEnd; p += w)
        {
            TV y0 = TV.Load(ref ar0, (nuint)p), y1 = TV.Load(ref ar1, (nuint)p);
            TV x = TV.Load(ref br0, (nuint)p);
            s00 = TV.MultiplyAdd(y0, x, s00);
            s10 = TV.MultiplyAdd(y1, x, s10);
            x = TV.Load(ref br1, (nuint)p);
            s01 = TV.MultiplyAdd(y0, x, s01);
            s11 = TV.MultiplyAdd(y1, x, s11);
            x = TV.Load(ref br2, (nuint)p);
            s02 = TV.MultiplyAdd(y0, x, s02);
            s12 = TV.MultiplyAdd(y1, x, s12);
            x = TV.Load(ref br3, (nuint)p);
            s03 = TV.MultiplyAdd(y0, x, s03);
            s13 = TV.MultiplyAdd(y1, x, s13);
            x = TV.Load(ref br4, (nuint)p);
            s04 = TV.MultiplyAdd(y0, x, s04);
            s14 = TV.MultiplyAdd(y1, x, s14);
            x = TV.Load(ref br5, (nuint)p);
            s05 = TV.MultiplyAdd(y0, x, s05);
            s15 = TV.MultiplyAdd(y1, x, s15);
        }

        // Twelve sums, as Tile4x3's: the same Sums4x3 read as two rows of six.
        Sums4x3<TV> sums = new(s00, s01, s02, s03, s04, s05, s10, s11, s12, s13, s14, s15);
        FinishTile2x6(ref cr, n, in sums, ref ar0, ref ar1, ref br0, ref bias, dot);
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
            s00 = TV.MultiplyAddLoad(ref ar0, (nuint)p, x0, s00);
            s10 = TV.MultiplyAddLoad(ref ar1, (nuint)p, x0, s10);
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
            s00 = TV.MultiplyAddLoad(ref ar0, (nuint)p, x0, s00);
        }

        Finish(ref cr, s00, ref ar0, ref br0, bias, dot);
    }

    // Tile4x3's twelve sums finished out of line (see FinishRow3 for why out of line). Where the vectors are x86's
    // 128-, 256- or 512-bit ones the twelve horizontal sums are done together, by shuffles that add the same pairs of
    // lanes in the same tree as Vector128/256/512.Sum (adjacent lanes, then pairs of those, then 128-bit halves, then
    // 256-bit halves): the same sums, in about a tenth of the instructions.
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FinishTile4x3<TV>(ref float cr, int n, in Sums4x3<TV> s, ref float ar0, ref float ar1, ref float ar2, ref float ar3, ref float br0, ref float bias, in Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        ref float br1 = ref Unsafe.Add(ref br0, dot.K);
        ref float br2 = ref Unsafe.Add(ref br1, dot.K);
        if (!HorizontalSums.Batched<TV>() || dot.K < TV.Count)
        {
            FinishRow3(ref cr, new Row3<TV>(s.S00, s.S01, s.S02), ref ar0, ref br0, ref bias, dot);
            FinishRow3(ref Unsafe.Add(ref cr, n), new Row3<TV>(s.S10, s.S11, s.S12), ref ar1, ref br0, ref bias, dot);
            FinishRow3(ref Unsafe.Add(ref cr, 2 * n), new Row3<TV>(s.S20, s.S21, s.S22), ref ar2, ref br0, ref bias, dot);
            FinishRow3(ref Unsafe.Add(ref cr, 3 * n), new Row3<TV>(s.S30, s.S31, s.S32), ref ar3, ref br0, ref bias, dot);
            return;
        }

        if (typeof(TV) == typeof(SimdVector<Vector512<float>>) && Avx512F.IsSupported)
        {
            // The sums stay in a register: row r's three are lanes 3r to 3r + 2, moved to lanes 0 to 2 and stored under a mask.
            Vector512<float> total = HorizontalSums.Of12In512(
                WithTail(s.S00, ref ar0, ref br0, dot), WithTail(s.S01, ref ar0, ref br1, dot), WithTail(s.S02, ref ar0, ref br2, dot),
                WithTail(s.S10, ref ar1, ref br0, dot), WithTail(s.S11, ref ar1, ref br1, dot), WithTail(s.S12, ref ar1, ref br2, dot),
                WithTail(s.S20, ref ar2, ref br0, dot), WithTail(s.S21, ref ar2, ref br1, dot), WithTail(s.S22, ref ar2, ref br2, dot),
                WithTail(s.S30, ref ar3, ref br0, dot), WithTail(s.S31, ref ar3, ref br1, dot), WithTail(s.S32, ref ar3, ref br2, dot));
            Vector512<float> three = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(3)).AsSingle();
            unsafe
            {
                fixed (float* b = &bias, c = &cr)
                {
                    Vector512<float> triple = Avx512F.MaskLoad(b, three, Vector512<float>.Zero);
                    for (int r = 0; r < 4; r++)
                    {
                        Avx512F.MaskStore(c + (r * n), three, Avx512F.PermuteVar16x32(total, Vector512<int>.Indices + Vector512.Create(3 * r)) + triple);
                    }
                }
            }

            return;
        }

        Span<float> sums = stackalloc float[16];
        HorizontalSums.Of12(
            WithTail(s.S00, ref ar0, ref br0, dot), WithTail(s.S01, ref ar0, ref br1, dot), WithTail(s.S02, ref ar0, ref br2, dot),
            WithTail(s.S10, ref ar1, ref br0, dot), WithTail(s.S11, ref ar1, ref br1, dot), WithTail(s.S12, ref ar1, ref br2, dot),
            WithTail(s.S20, ref ar2, ref br0, dot), WithTail(s.S21, ref ar2, ref br1, dot), WithTail(s.S22, ref ar2, ref br2, dot),
            WithTail(s.S30, ref ar3, ref br0, dot), WithTail(s.S31, ref ar3, ref br1, dot), WithTail(s.S32, ref ar3, ref br2, dot),
            sums);
        float bias0 = bias, bias1 = Unsafe.Add(ref bias, 1), bias2 = Unsafe.Add(ref bias, 2);
        for (int r = 0; r < 4; r++)
        {
            ref float c = ref Unsafe.Add(ref cr, r * n);
            c = sums[3 * r] + bias0;
            Unsafe.Add(ref c, 1) = sums[(3 * r) + 1] + bias1;
            Unsafe.Add(ref c, 2) = sums[(3 * r) + 2] + bias2;
        }
    }

    // Tile2x6's twelve sums (rows of A by rows of B: S00..S05 with A's first row, S10..S15 with its second), out of
    // line and together as in FinishTile4x3; only where HorizontalSums batches them and k is at least a vector.
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FinishTile2x6<TV>(ref float cr, int n, in Sums4x3<TV> s, ref float ar0, ref float ar1, ref float br0, ref float bias, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        ref float br1 = ref Unsafe.Add(ref br0, dot.K);
        ref float br2 = ref Unsafe.Add(ref br1, dot.K);
        ref float br3 = ref Unsafe.Add(ref br2, dot.K);
        ref float br4 = ref Unsafe.Add(ref br3, dot.K);
        ref float br5 = ref Unsafe.Add(ref br4, dot.K);
        Span<float> sums = stackalloc float[16];
        HorizontalSums.Of12(
            WithTail(s.S00, ref ar0, ref br0, dot), WithTail(s.S01, ref ar0, ref br1, dot), WithTail(s.S02, ref ar0, ref br2, dot),
            WithTail(s.S10, ref ar0, ref br3, dot), WithTail(s.S11, ref ar0, ref br4, dot), WithTail(s.S12, ref ar0, ref br5, dot),
            WithTail(s.S20, ref ar1, ref br0, dot), WithTail(s.S21, ref ar1, ref br1, dot), WithTail(s.S22, ref ar1, ref br2, dot),
            WithTail(s.S30, ref ar1, ref br3, dot), WithTail(s.S31, ref ar1, ref br4, dot), WithTail(s.S32, ref ar1, ref br5, dot),
            sums);
        for (int r = 0; r < 2; r++)
        {
            ref float c = ref Unsafe.Add(ref cr, r * n);
            for (int j = 0; j < 6; j++)
            {
                Unsafe.Add(ref c, j) = sums[(6 * r) + j] + Unsafe.Add(ref bias, j);
            }
        }
    }

    // Finish's tail step alone, for rows at least one vector long.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV WithTail<TV>(TV acc, ref float a, ref float b, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        if (dot.VectorEnd < dot.K)
        {
            nuint p = (nuint)(dot.K - TV.Count);
            acc = TV.MultiplyAdd(TV.And(TV.Load(ref a, p), dot.Tail), TV.And(TV.Load(ref b, p), dot.Tail), acc);
        }

        return acc;
    }

    private readonly record struct Sums4x3<TV>(TV S00, TV S01, TV S02, TV S10, TV S11, TV S12, TV S20, TV S21, TV S22, TV S30, TV S31, TV S32)
        where TV : struct, ISimd<TV>;

    // One row of a tile's three sums finished, out of line: inlined twelve times into Tile4x3, Finish exhausted the
    // JIT's inlining budget at 512 bits (Vector512.Sum is two Vector256 sums), the last ones stayed calls, and the
    // accumulator still needed after them was spilled on every step of the k loop.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FinishRow3<TV>(ref float cr, in Row3<TV> s, ref float ar, ref float br0, ref float bias, Dot<TV> dot)
        where TV : struct, ISimd<TV>
    {
        ref float br1 = ref Unsafe.Add(ref br0, dot.K);
        ref float br2 = ref Unsafe.Add(ref br1, dot.K);
        Finish(ref cr, s.S0, ref ar, ref br0, bias, dot);
        Finish(ref Unsafe.Add(ref cr, 1), s.S1, ref ar, ref br1, Unsafe.Add(ref bias, 1), dot);
        Finish(ref Unsafe.Add(ref cr, 2), s.S2, ref ar, ref br2, Unsafe.Add(ref bias, 2), dot);
    }

    private readonly record struct Row3<TV>(TV S0, TV S1, TV S2)
        where TV : struct, ISimd<TV>;

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

    // The shape of Transposed's dot products: their length, where the whole vectors end, and the tail's lanes.
    private readonly record struct Dot<TV>(int K, int VectorEnd, TV Tail)
        where TV : struct, ISimd<TV>;
}
