using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Bytes widened to floats and divided by a constant, <c>values[i] = bytes[i] / divisor</c>: how data sets held as
/// bytes become the float rows the products read. The quotient must be the division's, not a multiplication by
/// <c>1 / divisor</c>: for 255 the two differ in the last bit for 126 of the 256 bytes, and the division gives exactly
/// the floats the IDX reader has always given. Every byte converts to float exactly and IEEE division is correctly
/// rounded, so the vector loop (<see cref="SimdWidth.Bits"/>) and the scalar tail give the same bits. Where
/// multiply-adds are fused, the reciprocal split in two floats, <c>hi = 1 / divisor</c> and <c>lo = 1 / divisor - hi</c>
/// (rounded), gives <c>b hi + b lo</c> in a multiplication and one multiply-add at a fraction of a division's cost; it
/// is used only for a divisor for which it has been checked to give the division's bits for all 256 bytes (255 and
/// every other divisor tried so far pass).
/// </summary>
internal static class Widening
{
    /// <summary><c>values[i] = bytes[i] / divisor</c> for every i; the lengths are the caller's to match.</summary>
    public static void Divide(ReadOnlySpan<byte> bytes, float divisor, Span<float> values) => Divide(bytes, divisor, values, SimdWidth.Bits);

    /// <summary><see cref="Divide(ReadOnlySpan{byte}, float, Span{float})"/> at a given width, for the tests of each width.</summary>
    internal static void Divide(ReadOnlySpan<byte> bytes, float divisor, Span<float> values, int bits)
    {
        Guard.Length(values.Length, bytes.Length, "bytes.Length");
        Row(bytes, new Divisor(divisor, bits), values, bits);
    }

    /// <summary>
    /// Rows <paramref name="rows"/> of <paramref name="matrix"/> (each <paramref name="width"/> bytes), widened and
    /// divided into consecutive rows of <paramref name="values"/>; the indices are the caller's to check.
    /// </summary>
    public static void GatherRows(ReadOnlySpan<byte> matrix, ReadOnlySpan<int> rows, int width, float divisor, Span<float> values)
    {
        int bits = SimdWidth.Bits;
        var d = new Divisor(divisor, bits); // once for all the rows: the reciprocal's split and its check
        for (int i = 0; i < rows.Length; i++)
        {
            Row(matrix.Slice(rows[i] * width, width), d, values.Slice(i * width, width), bits);
        }
    }

    // One row at one width; the lengths are equal.
    private static void Row(ReadOnlySpan<byte> bytes, in Divisor d, Span<float> values, int bits)
    {
        ref byte b = ref MemoryMarshal.GetReference(bytes);
        ref float v = ref MemoryMarshal.GetReference(values);
        int n = bytes.Length, i = bits switch
        {
            512 => Divide512(ref b, d, ref v, n),
            256 => Divide256(ref b, d, ref v, n),
            128 => Divide128(ref b, d, ref v, n),
            _ => 0,
        };
        for (; i < n; i++)
        {
            Unsafe.Add(ref v, i) = Unsafe.Add(ref b, i) / d.Value;
        }
    }

    // A divisor with its reciprocal split in two floats, and whether the vector loops may use the split (see the class summary).
    private readonly struct Divisor
    {
        public Divisor(float value, int bits)
        {
            Value = value;
            (Hi, Lo) = Reciprocal(value);
            Split = bits > 32 && SplitIsExact(value);
        }

        public float Value { get; }

        public float Hi { get; }

        public float Lo { get; }

        public bool Split { get; }
    }

    /// <summary>Starts fetching rows <paramref name="rows"/> (each <paramref name="width"/> bytes) of <paramref name="matrix"/> into
    /// the second-level cache, as <see cref="Prefetch.Rows"/> does for floats; the indices are the caller's to check.</summary>
    public static unsafe void PrefetchRows(ReadOnlySpan<byte> matrix, ReadOnlySpan<int> rows, int width)
    {
        if (!Prefetch.Enabled)
        {
            return;
        }

        fixed (byte* first = &MemoryMarshal.GetReference(matrix))
        {
            foreach (int row in rows)
            {
                // Every line the row touches: a row rarely starts on a line's boundary, so its last bytes may need one more.
                byte* start = first + ((nint)row * width), last = start + width - 1;
                for (byte* p = start; p < last; p += 64)
                {
                    Sse.Prefetch1(p);
                }

                Sse.Prefetch1(last);
            }
        }
    }

    // The last divisor checked: (its bits << 2) | 2 | (1 when the split product is exact); one long, so that
    // threads read and write it whole.
    private static long s_checked;

    /// <summary>Whether <see cref="Split(float, float, float)"/> gives <c>b / divisor</c> to the bit for every byte
    /// b, with fused multiply-adds; checked once per divisor (256 quotients, about a microsecond) and remembered.</summary>
    internal static bool SplitIsExact(float divisor)
    {
        if (!MultiplyAdds.AreFused)
        {
            return false;
        }

        long key = ((long)(uint)BitConverter.SingleToInt32Bits(divisor) << 2) | 2;
        long entry = Volatile.Read(ref s_checked);
        if ((entry & ~1L) == key)
        {
            return (entry & 1) != 0;
        }

        (float hi, float lo) = Reciprocal(divisor);
        bool exact = true;
        for (int b = 0; b < 256 && exact; b++)
        {
            exact = BitConverter.SingleToInt32Bits(Split(b, hi, lo)) == BitConverter.SingleToInt32Bits(b / divisor);
        }

        Volatile.Write(ref s_checked, exact ? key | 1L : key);
        return exact;
    }

    // 1 / divisor as the sum of two floats: the rounded reciprocal and what its rounding left out.
    private static (float Hi, float Lo) Reciprocal(float divisor)
    {
        float hi = 1f / divisor;
        return (hi, (float)((1.0 / divisor) - hi));
    }

    // One lane of the vector loops' split product: the same two roundings.
    private static float Split(float b, float hi, float lo) => MultiplyAdds.Scalar(b, hi, b * lo);

    // Each width widens bytes to int32 (exact: a byte is at most 255), converts them to float and divides: from a
    // quarter vector of bytes straight to int32 where x86 has the instruction for it (vpmovzxbd), else from a whole
    // vector in two widening steps. Returns where the scalar tail starts.
    private static int Divide512(ref byte b, in Divisor divisor, ref float v, int n)
    {
        var d = Vector512.Create(divisor.Value);
        var r = Vector512.Create(divisor.Hi);
        var rl = Vector512.Create(divisor.Lo);
        bool split = divisor.Split;
        int i = 0, w = Vector512<float>.Count;
        if (Avx512F.IsSupported)
        {
            // Sixteen bytes a step: a row of 784 bytes in 49 steps and no scalar tail, where steps of 64 bytes left its
            // last 16 to be divided one by one.
            for (; i + w <= n; i += w)
            {
                Vector512<int> q = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref b, (nuint)i));
                Quotient(Avx512F.ConvertToVector512Single(q), d, r, rl, split).StoreUnsafe(ref v, (nuint)i);
            }

            return i;
        }

        for (; i + Vector512<byte>.Count <= n; i += Vector512<byte>.Count)
        {
            (Vector512<ushort> low, Vector512<ushort> high) = Vector512.Widen(Vector512.LoadUnsafe(ref b, (nuint)i));
            (Vector512<uint> q0, Vector512<uint> q1) = Vector512.Widen(low);
            (Vector512<uint> q2, Vector512<uint> q3) = Vector512.Widen(high);
            Quotient(Vector512.ConvertToSingle(q0.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)i);
            Quotient(Vector512.ConvertToSingle(q1.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)(i + w));
            Quotient(Vector512.ConvertToSingle(q2.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)(i + (2 * w)));
            Quotient(Vector512.ConvertToSingle(q3.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)(i + (3 * w)));
        }

        return i;
    }

    private static int Divide256(ref byte b, in Divisor divisor, ref float v, int n)
    {
        var d = Vector256.Create(divisor.Value);
        var r = Vector256.Create(divisor.Hi);
        var rl = Vector256.Create(divisor.Lo);
        bool split = divisor.Split;
        int i = 0, w = Vector256<float>.Count;
        if (Avx2.IsSupported)
        {
            // Eight bytes straight to eight int32 (vpmovzxbd): no shuffles across the vector's halves, and a tail of at most 7.
            for (; i + w <= n; i += w)
            {
                Vector128<byte> eight = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, i))).AsByte();
                Quotient(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(eight)), d, r, rl, split).StoreUnsafe(ref v, (nuint)i);
            }

            return i;
        }

        for (; i + Vector256<byte>.Count <= n; i += Vector256<byte>.Count)
        {
            (Vector256<ushort> low, Vector256<ushort> high) = Vector256.Widen(Vector256.LoadUnsafe(ref b, (nuint)i));
            (Vector256<uint> q0, Vector256<uint> q1) = Vector256.Widen(low);
            (Vector256<uint> q2, Vector256<uint> q3) = Vector256.Widen(high);
            Quotient(Vector256.ConvertToSingle(q0.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)i);
            Quotient(Vector256.ConvertToSingle(q1.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)(i + w));
            Quotient(Vector256.ConvertToSingle(q2.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)(i + (2 * w)));
            Quotient(Vector256.ConvertToSingle(q3.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)(i + (3 * w)));
        }

        return i;
    }

    private static int Divide128(ref byte b, in Divisor divisor, ref float v, int n)
    {
        var d = Vector128.Create(divisor.Value);
        var r = Vector128.Create(divisor.Hi);
        var rl = Vector128.Create(divisor.Lo);
        bool split = divisor.Split;
        int i = 0, w = Vector128<float>.Count;
        for (; i + Vector128<byte>.Count <= n; i += Vector128<byte>.Count)
        {
            (Vector128<ushort> low, Vector128<ushort> high) = Vector128.Widen(Vector128.LoadUnsafe(ref b, (nuint)i));
            (Vector128<uint> q0, Vector128<uint> q1) = Vector128.Widen(low);
            (Vector128<uint> q2, Vector128<uint> q3) = Vector128.Widen(high);
            Quotient(Vector128.ConvertToSingle(q0.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)i);
            Quotient(Vector128.ConvertToSingle(q1.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)(i + w));
            Quotient(Vector128.ConvertToSingle(q2.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)(i + (2 * w)));
            Quotient(Vector128.ConvertToSingle(q3.AsInt32()), d, r, rl, split).StoreUnsafe(ref v, (nuint)(i + (3 * w)));
        }

        return i;
    }

    // x / d: divided, or the split product x hi + x lo (see the class summary).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quotient(Vector512<float> x, Vector512<float> d, Vector512<float> hi, Vector512<float> lo, bool split) =>
        split ? MultiplyAdds.Of(x, hi, x * lo) : x / d;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Quotient(Vector256<float> x, Vector256<float> d, Vector256<float> hi, Vector256<float> lo, bool split) =>
        split ? MultiplyAdds.Of(x, hi, x * lo) : x / d;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Quotient(Vector128<float> x, Vector128<float> d, Vector128<float> hi, Vector128<float> lo, bool split) =>
        split ? MultiplyAdds.Of(x, hi, x * lo) : x / d;
}
