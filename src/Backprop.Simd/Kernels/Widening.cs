using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Bytes widened to floats and divided by a constant, <c>values[i] = bytes[i] / divisor</c>: how data sets held as
/// bytes become the float rows the products read. A division, not a multiplication by <c>1 / divisor</c>: for
/// 255 the two differ in the last bit for 126 of the 256 bytes, and the division gives exactly the floats the IDX
/// reader has always given. Every byte converts to float exactly and IEEE division is correctly rounded, so the vector
/// loop (<see cref="SimdWidth.Bits"/>) and the scalar tail give the same bits.
/// </summary>
internal static class Widening
{
    /// <summary><c>values[i] = bytes[i] / divisor</c> for every i; the lengths are the caller's to match.</summary>
    public static void Divide(ReadOnlySpan<byte> bytes, float divisor, Span<float> values) => Divide(bytes, divisor, values, SimdWidth.Bits);

    /// <summary><see cref="Divide(ReadOnlySpan{byte}, float, Span{float})"/> at a given width, for the tests of each width.</summary>
    internal static void Divide(ReadOnlySpan<byte> bytes, float divisor, Span<float> values, int bits)
    {
        Guard.Length(values.Length, bytes.Length, "bytes.Length");
        ref byte b = ref MemoryMarshal.GetReference(bytes);
        ref float v = ref MemoryMarshal.GetReference(values);
        int n = bytes.Length, i = bits switch
        {
            512 => Divide512(ref b, divisor, ref v, n),
            256 => Divide256(ref b, divisor, ref v, n),
            128 => Divide128(ref b, divisor, ref v, n),
            _ => 0,
        };
        for (; i < n; i++)
        {
            Unsafe.Add(ref v, i) = Unsafe.Add(ref b, i) / divisor;
        }
    }

    /// <summary>
    /// Rows <paramref name="rows"/> of <paramref name="matrix"/> (each <paramref name="width"/> bytes), widened and
    /// divided into consecutive rows of <paramref name="values"/>; the indices are the caller's to check.
    /// </summary>
    public static void GatherRows(ReadOnlySpan<byte> matrix, ReadOnlySpan<int> rows, int width, float divisor, Span<float> values)
    {
        for (int i = 0; i < rows.Length; i++)
        {
            Divide(matrix.Slice(rows[i] * width, width), divisor, values.Slice(i * width, width));
        }
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
                byte* start = first + ((nint)row * width);
                for (int p = 0; p < width; p += 64)
                {
                    Sse.Prefetch1(start + p);
                }
            }
        }
    }

    // Each width loads one vector of bytes, widens it to four vectors of int32 (exact: a byte is at most 255),
    // converts them to float and divides. Returns where the scalar tail starts.
    private static int Divide512(ref byte b, float divisor, ref float v, int n)
    {
        var d = Vector512.Create(divisor);
        int i = 0;
        for (; i + Vector512<byte>.Count <= n; i += Vector512<byte>.Count)
        {
            (Vector512<ushort> low, Vector512<ushort> high) = Vector512.Widen(Vector512.LoadUnsafe(ref b, (nuint)i));
            (Vector512<uint> q0, Vector512<uint> q1) = Vector512.Widen(low);
            (Vector512<uint> q2, Vector512<uint> q3) = Vector512.Widen(high);
            int w = Vector512<float>.Count;
            (Vector512.ConvertToSingle(q0.AsInt32()) / d).StoreUnsafe(ref v, (nuint)i);
            (Vector512.ConvertToSingle(q1.AsInt32()) / d).StoreUnsafe(ref v, (nuint)(i + w));
            (Vector512.ConvertToSingle(q2.AsInt32()) / d).StoreUnsafe(ref v, (nuint)(i + (2 * w)));
            (Vector512.ConvertToSingle(q3.AsInt32()) / d).StoreUnsafe(ref v, (nuint)(i + (3 * w)));
        }

        return i;
    }

    private static int Divide256(ref byte b, float divisor, ref float v, int n)
    {
        var d = Vector256.Create(divisor);
        int i = 0;
        for (; i + Vector256<byte>.Count <= n; i += Vector256<byte>.Count)
        {
            (Vector256<ushort> low, Vector256<ushort> high) = Vector256.Widen(Vector256.LoadUnsafe(ref b, (nuint)i));
            (Vector256<uint> q0, Vector256<uint> q1) = Vector256.Widen(low);
            (Vector256<uint> q2, Vector256<uint> q3) = Vector256.Widen(high);
            int w = Vector256<float>.Count;
            (Vector256.ConvertToSingle(q0.AsInt32()) / d).StoreUnsafe(ref v, (nuint)i);
            (Vector256.ConvertToSingle(q1.AsInt32()) / d).StoreUnsafe(ref v, (nuint)(i + w));
            (Vector256.ConvertToSingle(q2.AsInt32()) / d).StoreUnsafe(ref v, (nuint)(i + (2 * w)));
            (Vector256.ConvertToSingle(q3.AsInt32()) / d).StoreUnsafe(ref v, (nuint)(i + (3 * w)));
        }

        return i;
    }

    private static int Divide128(ref byte b, float divisor, ref float v, int n)
    {
        var d = Vector128.Create(divisor);
        int i = 0;
        for (; i + Vector128<byte>.Count <= n; i += Vector128<byte>.Count)
        {
            (Vector128<ushort> low, Vector128<ushort> high) = Vector128.Widen(Vector128.LoadUnsafe(ref b, (nuint)i));
            (Vector128<uint> q0, Vector128<uint> q1) = Vector128.Widen(low);
            (Vector128<uint> q2, Vector128<uint> q3) = Vector128.Widen(high);
            int w = Vector128<float>.Count;
            (Vector128.ConvertToSingle(q0.AsInt32()) / d).StoreUnsafe(ref v, (nuint)i);
            (Vector128.ConvertToSingle(q1.AsInt32()) / d).StoreUnsafe(ref v, (nuint)(i + w));
            (Vector128.ConvertToSingle(q2.AsInt32()) / d).StoreUnsafe(ref v, (nuint)(i + (2 * w)));
            (Vector128.ConvertToSingle(q3.AsInt32()) / d).StoreUnsafe(ref v, (nuint)(i + (3 * w)));
        }

        return i;
    }
}
