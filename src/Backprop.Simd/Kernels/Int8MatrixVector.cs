using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

/// <summary>Which instructions the int8 kernels use; every path gives the same integers.</summary>
internal enum Int8Path
{
    /// <summary>Plain integer loops: no SIMD at all.</summary>
    Scalar,

    /// <summary>Portable 128-bit vectors: bytes widened to int16, multiplied (exact), widened to int32 and added. ARM64 runs this.</summary>
    Widening128,

    /// <summary>SSSE3's <c>pmaddubsw</c> then SSE2's <c>pmaddwd</c>, 16 bytes (4 rows x 4 inputs) at a time.</summary>
    Ssse3,

    /// <summary>AVX2's <c>vpmaddubsw</c> then <c>vpmaddwd</c>, 32 bytes (8 rows x 4 inputs) at a time.</summary>
    Avx2,

    /// <summary>AVX-VNNI's <c>vpdpbusd</c> (<see cref="System.Runtime.Intrinsics.X86.AvxVnni"/>), 32 bytes at a time in one
    /// instruction; the quantization, the range and the quad list run AVX2's code.</summary>
    AvxVnni,
}

/// <summary>
/// The int8 matrix-vector product <c>y = W u</c> with int32 sums over the listed quads of inputs only: <c>u</c> is
/// unsigned bytes in [0, 127], read four at a time (a "quad", inputs <c>4q .. 4q + 3</c>), and a quad whose four codes are
/// all 0 adds nothing, so the caller lists only the others (<see cref="Int8Quantize.NonzeroQuads(ReadOnlySpan{byte}, int, Span{int})"/>): images, ReLU
/// and softmax outputs skip a large share of the work (<see cref="MultiplyBlock"/> runs every quad, for a block of inputs). <c>W</c> is int8 in [-127, 127] laid out quad-major,
/// <c>w[(q R + j) 4 + i] = W[j, 4q + i]</c> with <c>R</c> the rows rounded up to 8 (<see cref="PaddedRows"/>): the 32
/// bytes of 8 rows for one quad are one AVX2 vector, multiplied by the quad's 4 codes broadcast (the layout VNNI's
/// <c>vpdpbusd</c> reads). <c>pmaddubsw</c> adds adjacent unsigned-by-signed products into int16 WITH saturation, and
/// <c>2 x 127 x 127 = 32258</c> stays below 32767, so nothing saturates; <c>pmaddwd</c> by ones then adds the two pairs
/// of a row into its int32 lane. AVX-VNNI's <c>vpdpbusd</c> does both steps and the add in one instruction, without
/// saturation (<see cref="IQuadDot256"/>: the two are strategies of one kernel). The sums are exact while
/// <c>4 x quads x 127 x 127</c> fits an int (<see cref="MaxColumns"/>), so every path gives the same integers.
/// </summary>
internal static class Int8MatrixVector
{
    /// <summary>The largest row length whose sums cannot overflow an int32: <c>int.MaxValue / (127 x 127)</c>.</summary>
    public const int MaxColumns = int.MaxValue / (127 * 127);

    /// <summary>The path chosen here: AVX-VNNI, else AVX2, else SSSE3, else portable 128-bit vectors, else scalar, within <see cref="SimdWidth.Bits"/>.</summary>
    public static Int8Path DefaultPath { get; } = Choose(SimdWidth.Bits);

    internal static Int8Path Choose(int bits) =>
        bits >= 256 && VnniDot.IsSupported ? Int8Path.AvxVnni
        : bits >= 256 && MaddPairDot.IsSupported ? Int8Path.Avx2
        : bits >= 128 && Ssse3.IsSupported ? Int8Path.Ssse3
        : bits >= 128 && Vector128.IsHardwareAccelerated ? Int8Path.Widening128
        : Int8Path.Scalar;

    /// <summary>Whether this processor can run <paramref name="path"/>.</summary>
    public static bool IsSupported(Int8Path path) => path switch
    {
        Int8Path.AvxVnni => VnniDot.IsSupported,
        Int8Path.Avx2 => MaddPairDot.IsSupported,
        Int8Path.Ssse3 => Ssse3.IsSupported,
        Int8Path.Widening128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>Rows rounded up to a multiple of 8: the rows a quad's block of <c>W</c> holds (the extra ones zero).</summary>
    public static int PaddedRows(int rows) => (rows + 7) & ~7;

    /// <summary>Quads covering <paramref name="cols"/> inputs.</summary>
    public static int Quads(int cols) => (cols + 3) >> 2;

    /// <summary>
    /// <c>y[j] = sum over q in quads of sum_i w[(q R + j) 4 + i] u[4q + i]</c> for all <c>j &lt; R = PaddedRows(rows)</c>
    /// (the padding rows' sums are 0), on <see cref="DefaultPath"/>.
    /// </summary>
    public static void Multiply(ReadOnlySpan<sbyte> w, int rows, int quadCount, ReadOnlySpan<byte> u, ReadOnlySpan<int> quads, Span<int> y) =>
        Multiply(w, rows, quadCount, u, quads, y, DefaultPath);

    /// <summary>The product on <paramref name="path"/>. The lengths are checked once per call and each listed quad
    /// against <paramref name="quadCount"/> as it is read (a compare next to eight multiply-adds).</summary>
    public static void Multiply(ReadOnlySpan<sbyte> w, int rows, int quadCount, ReadOnlySpan<byte> u, ReadOnlySpan<int> quads, Span<int> y, Int8Path path)
    {
        int padded = Check(w, rows, quadCount, u, quads, y);
        Run<Listed>(ref MemoryMarshal.GetReference(w), padded, quadCount, ref MemoryMarshal.GetReference(u), ref MemoryMarshal.GetReference(quads), quads.Length, ref MemoryMarshal.GetReference(y), path);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run<TList>(ref sbyte w0, int padded, int quadCount, ref byte u0, ref int q0, int count, ref int y0, Int8Path path)
        where TList : struct, IQuadList
    {
        switch (path)
        {
            case Int8Path.AvxVnni when VnniDot.IsSupported:
                MultiplyQuads<VnniDot, TList>(ref w0, padded, quadCount, ref u0, ref q0, count, ref y0);
                break;
            case Int8Path.Avx2 when MaddPairDot.IsSupported:
                MultiplyQuads<MaddPairDot, TList>(ref w0, padded, quadCount, ref u0, ref q0, count, ref y0);
                break;
            case Int8Path.Ssse3 when Ssse3.IsSupported:
                MultiplySsse3<TList>(ref w0, padded, quadCount, ref u0, ref q0, count, ref y0);
                break;
            case Int8Path.Widening128 when Vector128.IsHardwareAccelerated:
                MultiplyWidening<TList>(ref w0, padded, quadCount, ref u0, ref q0, count, ref y0);
                break;
            default:
                MultiplyScalar<TList>(ref w0, padded, quadCount, ref u0, ref q0, count, ref y0);
                break;
        }
    }

    /// <summary>
    /// The product over every quad for a block of <paramref name="count"/> inputs: for each sample <c>s</c>,
    /// <c>y[s R + j] = sum over q &lt; quadCount of sum_i w[(q R + j) 4 + i] u[s stride + 4q + i]</c>, <c>j &lt; R =
    /// PaddedRows(rows)</c>, on <paramref name="path"/>: the integers <see cref="Multiply(ReadOnlySpan{sbyte}, int, int, ReadOnlySpan{byte}, ReadOnlySpan{int}, Span{int}, Int8Path)"/>
    /// gives each sample (a zero quad adds nothing), with no list to make or read. For small layers, where listing
    /// would cost more than the zero quads it skips (the later layers of a batch), and one call for the block.
    /// </summary>
    public static void MultiplyBlock(ReadOnlySpan<sbyte> w, int rows, int quadCount, ReadOnlySpan<byte> u, int stride, int count, Span<int> y, Int8Path path)
    {
        int padded = CheckBlock(w, rows, quadCount, u, stride, count, y);
        ref sbyte w0 = ref MemoryMarshal.GetReference(w);
        ref byte u0 = ref MemoryMarshal.GetReference(u);
        ref int y0 = ref MemoryMarshal.GetReference(y);
        int none = 0;
        for (int s = 0; s < count; s++)
        {
            Run<EveryQuad>(ref w0, padded, quadCount, ref Unsafe.Add(ref u0, (nint)s * stride), ref none, quadCount, ref Unsafe.Add(ref y0, (nint)s * padded), path);
        }
    }

    /// <summary>The 256-bit product with the dot-accumulate step <typeparamref name="TDot"/>, which the caller knows this
    /// processor runs (the tests' <c>vpdpbusd</c> emulated in software runs anywhere).</summary>
    internal static void Multiply<TDot>(ReadOnlySpan<sbyte> w, int rows, int quadCount, ReadOnlySpan<byte> u, ReadOnlySpan<int> quads, Span<int> y)
        where TDot : struct, IQuadDot256
    {
        int padded = Check(w, rows, quadCount, u, quads, y);
        MultiplyQuads<TDot, Listed>(ref MemoryMarshal.GetReference(w), padded, quadCount, ref MemoryMarshal.GetReference(u), ref MemoryMarshal.GetReference(quads), quads.Length, ref MemoryMarshal.GetReference(y));
    }

    /// <summary><see cref="MultiplyBlock"/>'s 256-bit product with <typeparamref name="TDot"/> (the tests' emulated
    /// <c>vpdpbusd</c> runs anywhere); the lengths as there.</summary>
    internal static void MultiplyBlock<TDot>(ReadOnlySpan<sbyte> w, int rows, int quadCount, ReadOnlySpan<byte> u, int stride, int count, Span<int> y)
        where TDot : struct, IQuadDot256
    {
        int padded = CheckBlock(w, rows, quadCount, u, stride, count, y);
        for (int s = 0; s < count; s++)
        {
            int zero = 0;
            MultiplyQuads<TDot, EveryQuad>(ref MemoryMarshal.GetReference(w), padded, quadCount, ref MemoryMarshal.GetReference(u.Slice(s * stride)), ref zero, quadCount, ref MemoryMarshal.GetReference(y.Slice(s * padded)));
        }
    }

    // A block's lengths, once per call; returns the padded row count.
    private static int CheckBlock(ReadOnlySpan<sbyte> w, int rows, int quadCount, ReadOnlySpan<byte> u, int stride, int count, Span<int> y)
    {
        int padded = PaddedRows(rows);
        if (rows < 0 || (uint)quadCount > MaxColumns / 4 || w.Length < (long)quadCount * padded * 4 || count < 0 || stride < (long)quadCount * 4
            || (count > 0 && u.Length < ((long)(count - 1) * stride) + ((long)quadCount * 4)) || y.Length < (long)count * padded)
        {
            throw new ArgumentException($"w ({w.Length}), u ({u.Length}, stride {stride}) or y ({y.Length}) does not fit {count} samples of {quadCount} quads and {rows} rows (padded to {padded}), or the quads exceed {MaxColumns / 4}.", nameof(u));
        }

        return padded;
    }

    // The lengths, once per call; returns the padded row count.
    private static int Check(ReadOnlySpan<sbyte> w, int rows, int quadCount, ReadOnlySpan<byte> u, ReadOnlySpan<int> quads, Span<int> y)
    {
        int padded = PaddedRows(rows);
        if (rows < 0 || (uint)quadCount > MaxColumns / 4 || w.Length < (long)quadCount * padded * 4 || u.Length < (long)quadCount * 4 || y.Length < padded || quads.Length > quadCount)
        {
            throw new ArgumentException($"w ({w.Length}), u ({u.Length}), quads ({quads.Length}) or y ({y.Length}) does not fit {rows} rows (padded to {padded}) x {quadCount} quads, or the quads exceed {MaxColumns / 4}.", nameof(w));
        }

        return padded;
    }

    // A listed quad's four codes, broadcast to every 4-byte lane; the index checked against the quads there are.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Codes(ref byte u0, int q, int quadCount)
    {
        if ((uint)q >= (uint)quadCount)
        {
            BeyondTheMatrix(q, quadCount);
        }

        return Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref u0, (nint)q * 4));
    }

    // A throw helper: the JIT keeps it out of line and out of the loops (no message-building code there, nor the stack it zeroes).
    [DoesNotReturn]
    private static void BeyondTheMatrix(int q, int quadCount) =>
        throw new ArgumentOutOfRangeException(nameof(q), q, $"a listed quad must be below {quadCount}.");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Broadcast(ref byte u0, int q, int quadCount) => Vector256.Create(Codes(ref u0, q, quadCount)).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Load(ref sbyte w, int offset) => Vector256.LoadUnsafe(ref Unsafe.Add(ref w, offset));

    /// <summary>
    /// The 256-bit product with <typeparamref name="TDot"/> as its one dot-accumulate step (a struct, so the JIT compiles
    /// a copy per strategy with the step inlined). Up to four 8-row groups share each broadcast of a quad's codes; each
    /// group has two accumulators, one for the even and one for the odd entries of the list, added at the end, so that a
    /// step whose result feeds the next one directly (<c>vpdpbusd</c>, 4 to 5 cycles) runs two chains per group. The
    /// order of the integer additions changes nothing: they are exact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyQuads<TDot, TList>(ref sbyte w0, int padded, int quadCount, ref byte u0, ref int q0, int count, ref int y0)
        where TDot : struct, IQuadDot256
        where TList : struct, IQuadList
    {
        int block = padded * 4, groups = padded / 8, g = 0; // bytes per quad; 8-row groups
        int pairs = count & ~1;
        for (; g + 4 <= groups; g += 4)
        {
            Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            int t = 0;
            for (; t < pairs; t += 2)
            {
                int p = TList.At(ref q0, t), q = TList.At(ref q0, t + 1);
                Vector256<byte> x = Broadcast(ref u0, p, quadCount), z = Broadcast(ref u0, q, quadCount);
                ref sbyte wp = ref Unsafe.Add(ref w0, ((nint)p * block) + (g * 32));
                ref sbyte wq = ref Unsafe.Add(ref w0, ((nint)q * block) + (g * 32));
                a0 = TDot.Accumulate(a0, x, Load(ref wp, 0));
                a1 = TDot.Accumulate(a1, x, Load(ref wp, 32));
                a2 = TDot.Accumulate(a2, x, Load(ref wp, 64));
                a3 = TDot.Accumulate(a3, x, Load(ref wp, 96));
                b0 = TDot.Accumulate(b0, z, Load(ref wq, 0));
                b1 = TDot.Accumulate(b1, z, Load(ref wq, 32));
                b2 = TDot.Accumulate(b2, z, Load(ref wq, 64));
                b3 = TDot.Accumulate(b3, z, Load(ref wq, 96));
            }

            if (t < count)
            {
                int p = TList.At(ref q0, t);
                Vector256<byte> x = Broadcast(ref u0, p, quadCount);
                ref sbyte wp = ref Unsafe.Add(ref w0, ((nint)p * block) + (g * 32));
                a0 = TDot.Accumulate(a0, x, Load(ref wp, 0));
                a1 = TDot.Accumulate(a1, x, Load(ref wp, 32));
                a2 = TDot.Accumulate(a2, x, Load(ref wp, 64));
                a3 = TDot.Accumulate(a3, x, Load(ref wp, 96));
            }

            ref int yg = ref Unsafe.Add(ref y0, g * 8);
            (a0 + b0).StoreUnsafe(ref yg);
            (a1 + b1).StoreUnsafe(ref yg, 8);
            (a2 + b2).StoreUnsafe(ref yg, 16);
            (a3 + b3).StoreUnsafe(ref yg, 24);
        }

        for (; g + 2 <= groups; g += 2)
        {
            Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, b0 = a0, b1 = a0;
            int t = 0;
            for (; t < pairs; t += 2)
            {
                int p = TList.At(ref q0, t), q = TList.At(ref q0, t + 1);
                Vector256<byte> x = Broadcast(ref u0, p, quadCount), z = Broadcast(ref u0, q, quadCount);
                ref sbyte wp = ref Unsafe.Add(ref w0, ((nint)p * block) + (g * 32));
                ref sbyte wq = ref Unsafe.Add(ref w0, ((nint)q * block) + (g * 32));
                a0 = TDot.Accumulate(a0, x, Load(ref wp, 0));
                a1 = TDot.Accumulate(a1, x, Load(ref wp, 32));
                b0 = TDot.Accumulate(b0, z, Load(ref wq, 0));
                b1 = TDot.Accumulate(b1, z, Load(ref wq, 32));
            }

            if (t < count)
            {
                int p = TList.At(ref q0, t);
                Vector256<byte> x = Broadcast(ref u0, p, quadCount);
                ref sbyte wp = ref Unsafe.Add(ref w0, ((nint)p * block) + (g * 32));
                a0 = TDot.Accumulate(a0, x, Load(ref wp, 0));
                a1 = TDot.Accumulate(a1, x, Load(ref wp, 32));
            }

            (a0 + b0).StoreUnsafe(ref Unsafe.Add(ref y0, g * 8));
            (a1 + b1).StoreUnsafe(ref Unsafe.Add(ref y0, g * 8), 8);
        }

        if (g < groups)
        {
            Vector256<int> a0 = Vector256<int>.Zero, b0 = a0;
            int t = 0;
            for (; t < pairs; t += 2)
            {
                int p = TList.At(ref q0, t), q = TList.At(ref q0, t + 1);
                a0 = TDot.Accumulate(a0, Broadcast(ref u0, p, quadCount), Load(ref Unsafe.Add(ref w0, ((nint)p * block) + (g * 32)), 0));
                b0 = TDot.Accumulate(b0, Broadcast(ref u0, q, quadCount), Load(ref Unsafe.Add(ref w0, ((nint)q * block) + (g * 32)), 0));
            }

            if (t < count)
            {
                int p = TList.At(ref q0, t);
                a0 = TDot.Accumulate(a0, Broadcast(ref u0, p, quadCount), Load(ref Unsafe.Add(ref w0, ((nint)p * block) + (g * 32)), 0));
            }

            (a0 + b0).StoreUnsafe(ref Unsafe.Add(ref y0, g * 8));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Step(Vector128<byte> x, ref sbyte w, Vector128<short> ones) =>
        Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(x, Vector128.LoadUnsafe(ref w)), ones);

    // The same on 16 bytes: four 4-row vectors (two 8-row groups) per pass, then the last group's two.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplySsse3<TList>(ref sbyte w0, int padded, int quadCount, ref byte u0, ref int q0, int count, ref int y0)
        where TList : struct, IQuadList
    {
        Vector128<short> ones = Vector128.Create((short)1);
        int block = padded * 4, vectors = padded / 4, v = 0;
        for (; v + 4 <= vectors; v += 4)
        {
            Vector128<int> a0 = Vector128<int>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0; t < count; t++)
            {
                int q = TList.At(ref q0, t);
                Vector128<byte> x = Vector128.Create(Codes(ref u0, q, quadCount)).AsByte();
                ref sbyte wq = ref Unsafe.Add(ref w0, ((nint)q * block) + (v * 16));
                a0 = Sse2.Add(a0, Step(x, ref wq, ones));
                a1 = Sse2.Add(a1, Step(x, ref Unsafe.Add(ref wq, 16), ones));
                a2 = Sse2.Add(a2, Step(x, ref Unsafe.Add(ref wq, 32), ones));
                a3 = Sse2.Add(a3, Step(x, ref Unsafe.Add(ref wq, 48), ones));
            }

            ref int yv = ref Unsafe.Add(ref y0, v * 4);
            a0.StoreUnsafe(ref yv);
            a1.StoreUnsafe(ref yv, 4);
            a2.StoreUnsafe(ref yv, 8);
            a3.StoreUnsafe(ref yv, 12);
        }

        if (v < vectors) // padded is a multiple of 8: two vectors remain
        {
            Vector128<int> a0 = Vector128<int>.Zero, a1 = a0;
            for (int t = 0; t < count; t++)
            {
                int q = TList.At(ref q0, t);
                Vector128<byte> x = Vector128.Create(Codes(ref u0, q, quadCount)).AsByte();
                ref sbyte wq = ref Unsafe.Add(ref w0, ((nint)q * block) + (v * 16));
                a0 = Sse2.Add(a0, Step(x, ref wq, ones));
                a1 = Sse2.Add(a1, Step(x, ref Unsafe.Add(ref wq, 16), ones));
            }

            a0.StoreUnsafe(ref Unsafe.Add(ref y0, v * 4));
            a1.StoreUnsafe(ref Unsafe.Add(ref y0, v * 4), 4);
        }
    }

    // Where no byte multiply-add exists (ARM64, or x64 without SSSE3): per 4 rows, the 16 weights widened to int16 and
    // multiplied by the codes (at most 127 x 127, exact), the products widened to int32 into one accumulator per row,
    // whose four lanes are added at the end.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyWidening<TList>(ref sbyte w0, int padded, int quadCount, ref byte u0, ref int q0, int count, ref int y0)
        where TList : struct, IQuadList
    {
        int block = padded * 4;
        for (int v = 0; v < padded / 4; v++)
        {
            Vector128<int> r0 = Vector128<int>.Zero, r1 = r0, r2 = r0, r3 = r0;
            for (int t = 0; t < count; t++)
            {
                int q = TList.At(ref q0, t);
                Vector128<short> x = Vector128.WidenLower(Vector128.Create(Codes(ref u0, q, quadCount)).AsByte()).AsInt16(); // the 4 codes twice
                (Vector128<short> lo, Vector128<short> hi) = Vector128.Widen(Vector128.LoadUnsafe(ref Unsafe.Add(ref w0, ((nint)q * block) + (v * 16))));
                (Vector128<int> p0, Vector128<int> p1) = Vector128.Widen(lo * x);
                (Vector128<int> p2, Vector128<int> p3) = Vector128.Widen(hi * x);
                r0 += p0;
                r1 += p1;
                r2 += p2;
                r3 += p3;
            }

            Vector128.Create(Vector128.Sum(r0), Vector128.Sum(r1), Vector128.Sum(r2), Vector128.Sum(r3)).StoreUnsafe(ref Unsafe.Add(ref y0, v * 4));
        }
    }

    private static void MultiplyScalar<TList>(ref sbyte w0, int padded, int quadCount, ref byte u0, ref int q0, int count, ref int y0)
        where TList : struct, IQuadList
    {
        int block = padded * 4;
        for (int j = 0; j < padded; j++)
        {
            Unsafe.Add(ref y0, j) = 0;
        }

        for (int t = 0; t < count; t++)
        {
            int q = TList.At(ref q0, t);
            int codes = Codes(ref u0, q, quadCount);
            ref byte u = ref Unsafe.As<int, byte>(ref codes);
            ref sbyte wq = ref Unsafe.Add(ref w0, (nint)q * block);
            for (int j = 0; j < padded; j++)
            {
                ref sbyte r = ref Unsafe.Add(ref wq, j * 4);
                Unsafe.Add(ref y0, j) += (r * u) + (Unsafe.Add(ref r, 1) * Unsafe.Add(ref u, 1)) + (Unsafe.Add(ref r, 2) * Unsafe.Add(ref u, 2)) + (Unsafe.Add(ref r, 3) * Unsafe.Add(ref u, 3));
            }
        }
    }
}

/// <summary>Which quads a product reads: entry <c>t</c> of a list, or simply <c>t</c> (every quad). Structs, so that each
/// kernel is compiled once per kind with the lookup inlined.</summary>
internal interface IQuadList
{
    /// <summary>The t-th quad to read.</summary>
    static abstract int At(ref int list, int t);
}

/// <summary>The quads of a list (of nonzero quads, say).</summary>
internal readonly struct Listed : IQuadList
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int At(ref int list, int t) => Unsafe.Add(ref list, t);
}

/// <summary>Every quad in order; no list is read.</summary>
internal readonly struct EveryQuad : IQuadList
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int At(ref int list, int t) => t;
}
