using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Floats to the unsigned 7-bit codes <see cref="Int8MatrixVector"/> reads:
/// <c>u[k] = clamp(round(a[k] x inverse) + zeroPoint, 0, 127)</c>, the product rounded once in float and then to the
/// nearest integer, ties to even (what <c>cvtps2dq</c> does under the default rounding mode and what
/// <see cref="MathF.Round(float)"/> does), so every path gives the same bytes. For <see cref="Quantize(ReadOnlySpan{float}, float, int, Span{byte})"/> the
/// caller keeps <c>|a x inverse| + zeroPoint</c> within a few hundred, far from int32's limits (a dynamic scale covers
/// the input); <see cref="QuantizeSaturating(ReadOnlySpan{float}, float, int, Span{byte})"/> takes any float.
/// </summary>
internal static class Int8Quantize
{
    /// <summary>Quantizes <paramref name="a"/> into the first <c>a.Length</c> bytes of <paramref name="u"/> on <see cref="Int8MatrixVector.DefaultPath"/>.</summary>
    public static void Quantize(ReadOnlySpan<float> a, float inverse, int zeroPoint, Span<byte> u) =>
        Quantize(a, inverse, zeroPoint, u, Int8MatrixVector.DefaultPath);

    /// <summary>The quantization on <paramref name="path"/> (SSSE3 runs the SSE2 instructions).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(ReadOnlySpan<float> a, float inverse, int zeroPoint, Span<byte> u, Int8Path path)
    {
        if (u.Length < a.Length)
        {
            throw new ArgumentException($"u has length {u.Length}, expected at least {a.Length} (a.Length).", nameof(u));
        }

        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref byte u0 = ref MemoryMarshal.GetReference(u);
        int n = a.Length, k = path switch
        {
            Int8Path.Avx2 or Int8Path.AvxVnni when Avx2.IsSupported => QuantizeAvx2(ref a0, inverse, zeroPoint, ref u0, n), // below 32 floats, SSE2 steps
            Int8Path.Ssse3 when Sse2.IsSupported => QuantizeSse2(ref a0, inverse, zeroPoint, ref u0, n, 0),
            Int8Path.Widening128 when Vector128.IsHardwareAccelerated => QuantizePortable(ref a0, inverse, zeroPoint, ref u0, n),
            _ => 0,
        };
        for (; k < n; k++)
        {
            int q = (int)MathF.Round(Unsafe.Add(ref a0, k) * inverse) + zeroPoint;
            Unsafe.Add(ref u0, k) = (byte)Math.Clamp(q, 0, 127);
        }
    }


    /// <summary>
    /// The quantization for a scale fixed in advance (calibrated), where a value may lie far outside the codes' range:
    /// the product is clamped in float to <c>[-zeroPoint, 127 - zeroPoint]</c> before it is rounded, so any finite value
    /// beyond the range saturates to code 0 or 127 (never wraps, however large), and a value within it gets the bytes
    /// <see cref="Quantize(ReadOnlySpan{float}, float, int, Span{byte})"/> gives. Returns false when a value is NaN or
    /// infinite (the codes then mean nothing): the check the range pass makes for dynamic scales, folded into this one.
    /// </summary>
    public static bool QuantizeSaturating(ReadOnlySpan<float> a, float inverse, int zeroPoint, Span<byte> u) =>
        QuantizeSaturating(a, inverse, zeroPoint, u, Int8MatrixVector.DefaultPath);

    /// <summary><see cref="QuantizeSaturating(ReadOnlySpan{float}, float, int, Span{byte})"/> on <paramref name="path"/>.</summary>
    public static bool QuantizeSaturating(ReadOnlySpan<float> a, float inverse, int zeroPoint, Span<byte> u, Int8Path path) =>
        RunSaturating(a, inverse, zeroPoint, u, path);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool RunSaturating(ReadOnlySpan<float> a, float inverse, int zeroPoint, Span<byte> u, Int8Path path)
    {
        if (u.Length < a.Length)
        {
            throw new ArgumentException($"u has length {u.Length}, expected at least {a.Length} (a.Length).", nameof(u));
        }

        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref byte u0 = ref MemoryMarshal.GetReference(u);
        bool finite = true;
        int n = a.Length, k = path switch
        {
            Int8Path.Avx2 or Int8Path.AvxVnni when Avx2.IsSupported => QuantizeAvx2Saturating(ref a0, inverse, zeroPoint, ref u0, n, ref finite), // below 32 floats, SSE2 steps
            Int8Path.Ssse3 when Sse2.IsSupported => QuantizeSse2Saturating(ref a0, inverse, zeroPoint, ref u0, n, 0, ref finite),
            Int8Path.Widening128 when Vector128.IsHardwareAccelerated => QuantizePortableSaturating(ref a0, inverse, zeroPoint, ref u0, n, ref finite),
            _ => 0,
        };
        float low = -zeroPoint, high = 127 - zeroPoint;
        for (; k < n; k++)
        {
            float x = Unsafe.Add(ref a0, k), product = x * inverse;
            finite &= float.IsFinite(x);
            product = Math.Clamp(product, low, high); // a NaN stays NaN: its code means nothing
            int q = (int)MathF.Round(product) + zeroPoint;
            Unsafe.Add(ref u0, k) = (byte)Math.Clamp(q, 0, 127);
        }

        return finite;
    }

    /// <summary>
    /// Writes the indices of the quads <c>q &lt; quadCount</c> whose four codes <c>u[4q .. 4q + 3]</c> are not all 0, in
    /// increasing order, to the start of <paramref name="list"/>, and returns how many there are: the quads
    /// <see cref="Int8MatrixVector.Multiply(ReadOnlySpan{sbyte}, int, int, ReadOnlySpan{byte}, ReadOnlySpan{int}, Span{int})"/>
    /// must read. <paramref name="list"/> needs <c>quadCount</c> rounded up to 8 entries (the AVX2 path stores 8 at a time).
    /// </summary>
    public static int NonzeroQuads(ReadOnlySpan<byte> u, int quadCount, Span<int> list) => NonzeroQuads(u, quadCount, list, Int8MatrixVector.DefaultPath);

    /// <summary><see cref="NonzeroQuads(ReadOnlySpan{byte}, int, Span{int})"/> on <paramref name="path"/> (only AVX2 has a vector form).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int NonzeroQuads(ReadOnlySpan<byte> u, int quadCount, Span<int> list, Int8Path path)
    {
        if (quadCount < 0 || u.Length < (long)quadCount * 4 || list.Length < (((long)quadCount + 7) & ~7L))
        {
            throw new ArgumentException($"u ({u.Length}) or list ({list.Length}) is too short for {quadCount} quads (list rounded up to 8).", nameof(u));
        }

        ref byte u0 = ref MemoryMarshal.GetReference(u);
        ref int l0 = ref MemoryMarshal.GetReference(list);
        int n = 0, q = 0;
        if (path is Int8Path.Avx2 or Int8Path.AvxVnni && Avx2.IsSupported)
        {
            // 8 quads per step: a bit per nonzero quad, then the table's positions of its set bits, widened and offset.
            ref byte table = ref MemoryMarshal.GetArrayDataReference(SetBitPositions);
            for (; q + 8 <= quadCount; q += 8)
            {
                Vector256<int> codes = Vector256.LoadUnsafe(ref Unsafe.Add(ref u0, (nint)q * 4)).AsInt32();
                int mask = ~Avx.MoveMask(Avx2.CompareEqual(codes, Vector256<int>.Zero).AsSingle()) & 0xFF;
                Vector256<int> positions = Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref table, mask * 8))).AsByte());
                Avx2.Add(positions, Vector256.Create(q)).StoreUnsafe(ref Unsafe.Add(ref l0, n));
                n += BitOperations.PopCount((uint)mask);
            }
        }

        for (; q < quadCount; q++)
        {
            Unsafe.Add(ref l0, n) = q; // written always, kept only when the quad is nonzero: no branch to mispredict
            n += Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref u0, (nint)q * 4)) != 0 ? 1 : 0;
        }

        return n;
    }

    // For each byte m, the positions of its set bits in increasing order, then zeros: 8 bytes per m.
    private static readonly byte[] SetBitPositions = CreateSetBitPositions();

    private static byte[] CreateSetBitPositions()
    {
        var table = new byte[256 * 8];
        for (int m = 0; m < 256; m++)
        {
            int n = 0;
            for (int bit = 0; bit < 8; bit++)
            {
                if ((m & (1 << bit)) != 0)
                {
                    table[(m * 8) + n++] = (byte)bit;
                }
            }
        }

        return table;
    }

    /// <summary>
    /// The smallest and largest value of <paramref name="a"/> in one pass; false when a value is NaN or infinite (then
    /// the bounds mean nothing). Infinities reach the bounds; a NaN, which the unordered compares of min and max can
    /// drop, is caught by a compare of each value with itself.
    /// </summary>
    public static bool Range(ReadOnlySpan<float> a, out float min, out float max) => Range(a, out min, out max, Int8MatrixVector.DefaultPath);

    /// <summary><see cref="Range(ReadOnlySpan{float}, out float, out float)"/> on <paramref name="path"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // fully optimized from the first call, like the other kernels
    public static bool Range(ReadOnlySpan<float> a, out float min, out float max, Int8Path path)
    {
        ref float a0 = ref MemoryMarshal.GetReference(a);
        int n = a.Length, k = 0;
        float low = float.PositiveInfinity, high = float.NegativeInfinity;
        bool nan = false;
        if (path is Int8Path.Avx2 or Int8Path.AvxVnni && Avx2.IsSupported && n >= 16)
        {
            k = RangeAvx(ref a0, n, ref low, ref high, ref nan);
        }

        if (path != Int8Path.Scalar && Vector128.IsHardwareAccelerated && k + 4 <= n)
        {
            Vector128<float> lo = Vector128.Create(low), hi = Vector128.Create(high), unordered = Vector128<float>.Zero;
            for (; k + 4 <= n; k += 4)
            {
                Vector128<float> x = Vector128.LoadUnsafe(ref a0, (nuint)k);
                lo = Vector128.Min(lo, x);
                hi = Vector128.Max(hi, x);
                unordered |= ~Vector128.Equals(x, x);
            }

            (low, high) = (lo.ToScalarMin(), hi.ToScalarMax());
            nan |= unordered != Vector128<float>.Zero;
        }

        for (; k < n; k++)
        {
            float x = Unsafe.Add(ref a0, k);
            low = x < low ? x : low;
            high = x > high ? x : high;
            nan |= float.IsNaN(x);
        }

        (min, max) = (low, high);
        return !nan && float.IsFinite(low) && float.IsFinite(high);
    }

    // Two accumulators of each kind, 16 floats per step: every dependency chain is one cycle long.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RangeAvx(ref float a0, int n, ref float low, ref float high, ref bool nan)
    {
        Vector256<float> lo = Vector256.Create(low), hi = Vector256.Create(high), lo2 = lo, hi2 = hi, unordered = Vector256<float>.Zero;
        int k = 0;
        for (; k + 16 <= n; k += 16)
        {
            Vector256<float> x = Vector256.LoadUnsafe(ref a0, (nuint)k), y = Vector256.LoadUnsafe(ref a0, (nuint)(k + 8));
            lo = Avx.Min(lo, x);
            hi = Avx.Max(hi, x);
            lo2 = Avx.Min(lo2, y);
            hi2 = Avx.Max(hi2, y);
            unordered = Avx.Or(unordered, Avx.Or(Avx.Compare(x, x, FloatComparisonMode.UnorderedNonSignaling), Avx.Compare(y, y, FloatComparisonMode.UnorderedNonSignaling)));
        }

        low = Avx.Min(lo, lo2).ToScalarMin();
        high = Avx.Max(hi, hi2).ToScalarMax();
        nan |= !Avx.TestZ(unordered.AsInt32(), unordered.AsInt32());
        return k;
    }

    // 32 floats per step: converted with rounding, packed to bytes with saturation (negatives become 0), then capped
    // at 127. The packs interleave the 128-bit halves; one dword permutation puts the bytes back in order. A row of
    // 32 or more that does not end on a step ends with one overlapping step over its last 32 floats (the same codes
    // written again), so no SSE2 or scalar tail runs; shorter rows go to SSE2.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int QuantizeAvx2(ref float a0, float inverse, int zeroPoint, ref byte u0, int n)
    {
        Vector256<float> scale = Vector256.Create(inverse);
        Vector256<int> zero = Vector256.Create(zeroPoint);
        int k = 0;
        for (; k + 32 <= n; k += 32)
        {
            StepAvx2(ref a0, scale, zero, ref u0, k);
        }

        if (k < n && n >= 32)
        {
            StepAvx2(ref a0, scale, zero, ref u0, n - 32);
            return n;
        }

        return QuantizeSse2(ref a0, inverse, zeroPoint, ref u0, n, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepAvx2(ref float a0, Vector256<float> scale, Vector256<int> zero, ref byte u0, int k)
    {
        Vector256<int> i0 = Avx2.Add(Avx.ConvertToVector256Int32(Avx.Multiply(Vector256.LoadUnsafe(ref a0, (nuint)k), scale)), zero);
        Vector256<int> i1 = Avx2.Add(Avx.ConvertToVector256Int32(Avx.Multiply(Vector256.LoadUnsafe(ref a0, (nuint)(k + 8)), scale)), zero);
        Vector256<int> i2 = Avx2.Add(Avx.ConvertToVector256Int32(Avx.Multiply(Vector256.LoadUnsafe(ref a0, (nuint)(k + 16)), scale)), zero);
        Vector256<int> i3 = Avx2.Add(Avx.ConvertToVector256Int32(Avx.Multiply(Vector256.LoadUnsafe(ref a0, (nuint)(k + 24)), scale)), zero);
        StoreCodes(i0, i1, i2, i3, ref u0, k);
    }

    // Packs 32 int32 lanes to bytes with saturation (negatives become 0), puts the interleaved halves back in order, caps at 127.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreCodes(Vector256<int> i0, Vector256<int> i1, Vector256<int> i2, Vector256<int> i3, ref byte u0, int k)
    {
        Vector256<byte> bytes = Avx2.PackUnsignedSaturate(Avx2.PackSignedSaturate(i0, i1), Avx2.PackSignedSaturate(i2, i3));
        Avx2.Min(Avx2.PermuteVar8x32(bytes.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsByte(), Vector256.Create((byte)127)).StoreUnsafe(ref u0, (nuint)k);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int QuantizeSse2(ref float a0, float inverse, int zeroPoint, ref byte u0, int n, int k)
    {
        Vector128<float> scale = Vector128.Create(inverse);
        Vector128<int> zero = Vector128.Create(zeroPoint);
        Vector128<byte> cap = Vector128.Create((byte)127);
        for (; k + 16 <= n; k += 16)
        {
            Vector128<int> i0 = Sse2.Add(Sse2.ConvertToVector128Int32(Sse.Multiply(Vector128.LoadUnsafe(ref a0, (nuint)k), scale)), zero);
            Vector128<int> i1 = Sse2.Add(Sse2.ConvertToVector128Int32(Sse.Multiply(Vector128.LoadUnsafe(ref a0, (nuint)(k + 4)), scale)), zero);
            Vector128<int> i2 = Sse2.Add(Sse2.ConvertToVector128Int32(Sse.Multiply(Vector128.LoadUnsafe(ref a0, (nuint)(k + 8)), scale)), zero);
            Vector128<int> i3 = Sse2.Add(Sse2.ConvertToVector128Int32(Sse.Multiply(Vector128.LoadUnsafe(ref a0, (nuint)(k + 12)), scale)), zero);
            Vector128<byte> bytes = Sse2.PackUnsignedSaturate(Sse2.PackSignedSaturate(i0, i1), Sse2.PackSignedSaturate(i2, i3));
            Sse2.Min(bytes, cap).StoreUnsafe(ref u0, (nuint)k);
        }

        return k;
    }

    // Portable: round to even, convert (exact on an integral value), clamp, then narrow twice (no saturation needed).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int QuantizePortable(ref float a0, float inverse, int zeroPoint, ref byte u0, int n)
    {
        Vector128<float> scale = Vector128.Create(inverse);
        Vector128<int> zero = Vector128.Create(zeroPoint), low = Vector128<int>.Zero, high = Vector128.Create(127);
        int k = 0;
        for (; k + 16 <= n; k += 16)
        {
            Vector128<int> i0 = Vector128.Clamp(Vector128.ConvertToInt32(Vector128.Round(Vector128.LoadUnsafe(ref a0, (nuint)k) * scale)) + zero, low, high);
            Vector128<int> i1 = Vector128.Clamp(Vector128.ConvertToInt32(Vector128.Round(Vector128.LoadUnsafe(ref a0, (nuint)(k + 4)) * scale)) + zero, low, high);
            Vector128<int> i2 = Vector128.Clamp(Vector128.ConvertToInt32(Vector128.Round(Vector128.LoadUnsafe(ref a0, (nuint)(k + 8)) * scale)) + zero, low, high);
            Vector128<int> i3 = Vector128.Clamp(Vector128.ConvertToInt32(Vector128.Round(Vector128.LoadUnsafe(ref a0, (nuint)(k + 12)) * scale)) + zero, low, high);
            Vector128.Narrow(Vector128.Narrow(i0, i1), Vector128.Narrow(i2, i3)).AsByte().StoreUnsafe(ref u0, (nuint)k);
        }

        return k;
    }

    // As QuantizeAvx2 (the overlapping last step included), but each product first clamped to [-zeroPoint, 127 - zeroPoint]
    // (cvtps2dq never sees a value beyond int32), and x - x, NaN exactly when x is NaN or infinite, collected by an unordered compare.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int QuantizeAvx2Saturating(ref float a0, float inverse, int zeroPoint, ref byte u0, int n, ref bool finite)
    {
        Vector256<float> scale = Vector256.Create(inverse), low = Vector256.Create((float)-zeroPoint), high = Vector256.Create((float)(127 - zeroPoint));
        Vector256<float> unordered = Vector256<float>.Zero;
        Vector256<int> zero = Vector256.Create(zeroPoint);
        int k = 0;
        for (; k + 32 <= n; k += 32)
        {
            unordered = StepAvx2Saturating(ref a0, scale, low, high, zero, ref u0, k, unordered);
        }

        if (k < n && n >= 32)
        {
            unordered = StepAvx2Saturating(ref a0, scale, low, high, zero, ref u0, n - 32, unordered);
            k = n;
        }

        finite &= Avx.TestZ(unordered.AsInt32(), unordered.AsInt32());
        return k < n ? QuantizeSse2Saturating(ref a0, inverse, zeroPoint, ref u0, n, k, ref finite) : k;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> StepAvx2Saturating(ref float a0, Vector256<float> scale, Vector256<float> low, Vector256<float> high, Vector256<int> zero, ref byte u0, int k, Vector256<float> unordered)
    {
        Vector256<float> x0 = Vector256.LoadUnsafe(ref a0, (nuint)k), x1 = Vector256.LoadUnsafe(ref a0, (nuint)(k + 8));
        Vector256<float> x2 = Vector256.LoadUnsafe(ref a0, (nuint)(k + 16)), x3 = Vector256.LoadUnsafe(ref a0, (nuint)(k + 24));
        Vector256<float> p0 = Avx.Multiply(x0, scale), p1 = Avx.Multiply(x1, scale), p2 = Avx.Multiply(x2, scale), p3 = Avx.Multiply(x3, scale);
        Vector256<float> d = Avx.Or(Avx.Or(Avx.Subtract(x0, x0), Avx.Subtract(x1, x1)), Avx.Or(Avx.Subtract(x2, x2), Avx.Subtract(x3, x3)));
        p0 = Avx.Min(Avx.Max(p0, low), high);
        p1 = Avx.Min(Avx.Max(p1, low), high);
        p2 = Avx.Min(Avx.Max(p2, low), high);
        p3 = Avx.Min(Avx.Max(p3, low), high);
        StoreCodes(
            Avx2.Add(Avx.ConvertToVector256Int32(p0), zero),
            Avx2.Add(Avx.ConvertToVector256Int32(p1), zero),
            Avx2.Add(Avx.ConvertToVector256Int32(p2), zero),
            Avx2.Add(Avx.ConvertToVector256Int32(p3), zero),
            ref u0,
            k);
        return Avx.Or(unordered, Avx.Compare(d, d, FloatComparisonMode.UnorderedNonSignaling));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int QuantizeSse2Saturating(ref float a0, float inverse, int zeroPoint, ref byte u0, int n, int k, ref bool finite)
    {
        Vector128<float> scale = Vector128.Create(inverse), low = Vector128.Create((float)-zeroPoint), high = Vector128.Create((float)(127 - zeroPoint));
        Vector128<float> unordered = Vector128<float>.Zero;
        Vector128<int> zero = Vector128.Create(zeroPoint);
        Vector128<byte> cap = Vector128.Create((byte)127);
        for (; k + 16 <= n; k += 16)
        {
            Vector128<float> x0 = Vector128.LoadUnsafe(ref a0, (nuint)k), x1 = Vector128.LoadUnsafe(ref a0, (nuint)(k + 4));
            Vector128<float> x2 = Vector128.LoadUnsafe(ref a0, (nuint)(k + 8)), x3 = Vector128.LoadUnsafe(ref a0, (nuint)(k + 12));
            Vector128<float> p0 = Sse.Multiply(x0, scale), p1 = Sse.Multiply(x1, scale), p2 = Sse.Multiply(x2, scale), p3 = Sse.Multiply(x3, scale);
            Vector128<float> d = Sse.Or(Sse.Or(Sse.Subtract(x0, x0), Sse.Subtract(x1, x1)), Sse.Or(Sse.Subtract(x2, x2), Sse.Subtract(x3, x3)));
            unordered = Sse.Or(unordered, Sse.CompareUnordered(d, d));
            p0 = Sse.Min(Sse.Max(p0, low), high);
            p1 = Sse.Min(Sse.Max(p1, low), high);
            p2 = Sse.Min(Sse.Max(p2, low), high);
            p3 = Sse.Min(Sse.Max(p3, low), high);

            Vector128<int> i0 = Sse2.Add(Sse2.ConvertToVector128Int32(p0), zero);
            Vector128<int> i1 = Sse2.Add(Sse2.ConvertToVector128Int32(p1), zero);
            Vector128<int> i2 = Sse2.Add(Sse2.ConvertToVector128Int32(p2), zero);
            Vector128<int> i3 = Sse2.Add(Sse2.ConvertToVector128Int32(p3), zero);
            Vector128<byte> bytes = Sse2.PackUnsignedSaturate(Sse2.PackSignedSaturate(i0, i1), Sse2.PackSignedSaturate(i2, i3));
            Sse2.Min(bytes, cap).StoreUnsafe(ref u0, (nuint)k);
        }

        finite &= unordered == Vector128<float>.Zero;

        return k;
    }

    // Portable: round to even, convert (exact on an integral value), clamp, then narrow twice (no saturation needed).
    // Saturating: the product clamped first, as on AVX2 (a NaN's code means nothing; the check reports it).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int QuantizePortableSaturating(ref float a0, float inverse, int zeroPoint, ref byte u0, int n, ref bool finite)
    {
        Vector128<float> scale = Vector128.Create(inverse), lowF = Vector128.Create((float)-zeroPoint), highF = Vector128.Create((float)(127 - zeroPoint));
        Vector128<float> unordered = Vector128<float>.Zero;
        Vector128<int> zero = Vector128.Create(zeroPoint), low = Vector128<int>.Zero, high = Vector128.Create(127);
        int k = 0;
        for (; k + 16 <= n; k += 16)
        {
            Vector128<int> i0 = Step(Vector128.LoadUnsafe(ref a0, (nuint)k));
            Vector128<int> i1 = Step(Vector128.LoadUnsafe(ref a0, (nuint)(k + 4)));
            Vector128<int> i2 = Step(Vector128.LoadUnsafe(ref a0, (nuint)(k + 8)));
            Vector128<int> i3 = Step(Vector128.LoadUnsafe(ref a0, (nuint)(k + 12)));
            Vector128.Narrow(Vector128.Narrow(i0, i1), Vector128.Narrow(i2, i3)).AsByte().StoreUnsafe(ref u0, (nuint)k);
        }

        finite &= unordered == Vector128<float>.Zero;

        return k;

        Vector128<int> Step(Vector128<float> x)
        {
            Vector128<float> product = x * scale;
            Vector128<float> d = x - x;
            unordered |= ~Vector128.Equals(d, d);
            product = Vector128.Min(Vector128.Max(product, lowF), highF);

            return Vector128.Clamp(Vector128.ConvertToInt32(Vector128.Round(product)) + zero, low, high);
        }
    }
}

/// <summary>Horizontal minimum and maximum of a vector's lanes (all finite here: a NaN is caught separately).</summary>
internal static class LaneExtremes
{
    public static float ToScalarMin(this Vector256<float> v) => Vector128.Min(v.GetLower(), v.GetUpper()).ToScalarMin();

    public static float ToScalarMax(this Vector256<float> v) => Vector128.Max(v.GetLower(), v.GetUpper()).ToScalarMax();

    public static float ToScalarMin(this Vector128<float> v) => Math.Min(Math.Min(v[0], v[1]), Math.Min(v[2], v[3]));

    public static float ToScalarMax(this Vector128<float> v) => Math.Max(Math.Max(v[0], v[1]), Math.Max(v[2], v[3]));
}
