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

    /// <summary>SSSE3's <c>pmaddubsw</c> then SSE2's <c>pmaddwd</c>, 16 bytes at a time.</summary>
    Ssse3,

    /// <summary>AVX2's <c>vpmaddubsw</c> then <c>vpmaddwd</c>, 32 bytes at a time.</summary>
    Avx2,
}

/// <summary>
/// The int8 matrix-vector product <c>y = W u</c> with int32 sums: <c>W</c> row-major int8 in [-127, 127] with row
/// stride <c>stride</c>, <c>u</c> unsigned bytes in [0, 127]. The ranges make the classic pair exact: <c>pmaddubsw</c>
/// multiplies unsigned by signed bytes and adds adjacent pairs into int16 WITH saturation, and
/// <c>2 x 127 x 127 = 32258</c> stays below 32767, so nothing saturates; <c>pmaddwd</c> by ones then widens the pairs
/// to int32. The sums are exact while <c>cols x 127 x 127</c> fits an int (<see cref="MaxColumns"/>), so every path
/// gives the same integers. No VNNI path: this library's host has neither AVX-512 VNNI nor AVX-VNNI to test it on.
/// </summary>
internal static class Int8MatrixVector
{
    /// <summary>The largest row length whose sums cannot overflow an int32: <c>int.MaxValue / (127 x 127)</c>.</summary>
    public const int MaxColumns = int.MaxValue / (127 * 127);

    /// <summary>The path chosen here: AVX2, else SSSE3, else portable 128-bit vectors, else scalar, within <see cref="SimdWidth.Bits"/>.</summary>
    public static Int8Path DefaultPath { get; } = Choose(SimdWidth.Bits);

    internal static Int8Path Choose(int bits) =>
        bits >= 256 && Avx2.IsSupported ? Int8Path.Avx2
        : bits >= 128 && Ssse3.IsSupported ? Int8Path.Ssse3
        : bits >= 128 && Vector128.IsHardwareAccelerated ? Int8Path.Widening128
        : Int8Path.Scalar;

    /// <summary>Whether this processor can run <paramref name="path"/>.</summary>
    public static bool IsSupported(Int8Path path) => path switch
    {
        Int8Path.Avx2 => Avx2.IsSupported,
        Int8Path.Ssse3 => Ssse3.IsSupported,
        Int8Path.Widening128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary><c>y[j] = sum_k w[j stride + k] u[k]</c> for <c>j &lt; rows</c>, <c>k &lt; cols</c>, on <see cref="DefaultPath"/>.</summary>
    public static void Multiply(ReadOnlySpan<sbyte> w, int rows, int cols, int stride, ReadOnlySpan<byte> u, Span<int> y) =>
        Multiply(w, rows, cols, stride, u, y, DefaultPath);

    /// <summary>The product on <paramref name="path"/>; the lengths are checked here (once per call, cheap next to the product).</summary>
    public static void Multiply(ReadOnlySpan<sbyte> w, int rows, int cols, int stride, ReadOnlySpan<byte> u, Span<int> y, Int8Path path)
    {
        if ((uint)cols > MaxColumns || stride < cols || rows < 0 || u.Length < cols || y.Length < rows || (rows > 0 && w.Length < ((long)(rows - 1) * stride) + cols))
        {
            throw new ArgumentException($"w ({w.Length}), u ({u.Length}) or y ({y.Length}) is too short for {rows} x {cols} with stride {stride}, or cols exceeds {MaxColumns}.", nameof(w));
        }

        ref sbyte w0 = ref MemoryMarshal.GetReference(w);
        ref byte u0 = ref MemoryMarshal.GetReference(u);
        ref int y0 = ref MemoryMarshal.GetReference(y);
        switch (path)
        {
            case Int8Path.Avx2 when Avx2.IsSupported:
                MultiplyAvx2(ref w0, rows, cols, stride, ref u0, ref y0);
                break;
            case Int8Path.Ssse3 when Ssse3.IsSupported:
                MultiplySsse3(ref w0, rows, cols, stride, ref u0, ref y0);
                break;
            case Int8Path.Widening128 when Vector128.IsHardwareAccelerated:
                MultiplyWidening(ref w0, rows, cols, stride, ref u0, ref y0);
                break;
            default:
                MultiplyScalar(ref w0, rows, 0, cols, stride, ref u0, ref y0, accumulate: false);
                break;
        }
    }

    // Four rows share each load of u, each with its own accumulator; a 16-byte step and a scalar tail finish a row.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyAvx2(ref sbyte w0, int rows, int cols, int stride, ref byte u0, ref int y0)
    {
        Vector256<short> ones = Vector256.Create((short)1);
        int end32 = cols & ~31, end16 = cols & ~15;
        int j = 0;
        for (; j + 4 <= rows; j += 4)
        {
            ref sbyte r0 = ref Unsafe.Add(ref w0, (nint)j * stride);
            ref sbyte r1 = ref Unsafe.Add(ref r0, stride);
            ref sbyte r2 = ref Unsafe.Add(ref r1, stride);
            ref sbyte r3 = ref Unsafe.Add(ref r2, stride);
            Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (int k = 0; k < end32; k += 32)
            {
                Vector256<byte> x = Vector256.LoadUnsafe(ref u0, (nuint)k);
                a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, Vector256.LoadUnsafe(ref r0, (nuint)k)), ones));
                a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, Vector256.LoadUnsafe(ref r1, (nuint)k)), ones));
                a2 = Avx2.Add(a2, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, Vector256.LoadUnsafe(ref r2, (nuint)k)), ones));
                a3 = Avx2.Add(a3, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, Vector256.LoadUnsafe(ref r3, (nuint)k)), ones));
            }

            Vector128<int> s0 = Sse2.Add(a0.GetLower(), a0.GetUpper()), s1 = Sse2.Add(a1.GetLower(), a1.GetUpper());
            Vector128<int> s2 = Sse2.Add(a2.GetLower(), a2.GetUpper()), s3 = Sse2.Add(a3.GetLower(), a3.GetUpper());
            if (end32 < end16)
            {
                Vector128<byte> x = Vector128.LoadUnsafe(ref u0, (nuint)end32);
                s0 = Sse2.Add(s0, Step128(x, ref r0, end32));
                s1 = Sse2.Add(s1, Step128(x, ref r1, end32));
                s2 = Sse2.Add(s2, Step128(x, ref r2, end32));
                s3 = Sse2.Add(s3, Step128(x, ref r3, end32));
            }

            Ssse3.HorizontalAdd(Ssse3.HorizontalAdd(s0, s1), Ssse3.HorizontalAdd(s2, s3)).StoreUnsafe(ref Unsafe.Add(ref y0, j));
            MultiplyScalar(ref r0, 4, end16, cols, stride, ref u0, ref Unsafe.Add(ref y0, j), accumulate: true);
        }

        for (; j < rows; j++)
        {
            ref sbyte r = ref Unsafe.Add(ref w0, (nint)j * stride);
            Vector256<int> a = Vector256<int>.Zero;
            for (int k = 0; k < end32; k += 32)
            {
                a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref u0, (nuint)k), Vector256.LoadUnsafe(ref r, (nuint)k)), ones));
            }

            Vector128<int> s = Sse2.Add(a.GetLower(), a.GetUpper());
            if (end32 < end16)
            {
                s = Sse2.Add(s, Step128(Vector128.LoadUnsafe(ref u0, (nuint)end32), ref r, end32));
            }

            Unsafe.Add(ref y0, j) = Vector128.Sum(s);
            MultiplyScalar(ref r, 1, end16, cols, stride, ref u0, ref Unsafe.Add(ref y0, j), accumulate: true);
        }
    }

    // The SSSE3 pair on 16 bytes of one row: four int32 sums of four products each.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Step128(Vector128<byte> x, ref sbyte row, int k) =>
        Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(x, Vector128.LoadUnsafe(ref row, (nuint)k)), Vector128.Create((short)1));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplySsse3(ref sbyte w0, int rows, int cols, int stride, ref byte u0, ref int y0)
    {
        int end16 = cols & ~15;
        int j = 0;
        for (; j + 4 <= rows; j += 4)
        {
            ref sbyte r0 = ref Unsafe.Add(ref w0, (nint)j * stride);
            ref sbyte r1 = ref Unsafe.Add(ref r0, stride);
            ref sbyte r2 = ref Unsafe.Add(ref r1, stride);
            ref sbyte r3 = ref Unsafe.Add(ref r2, stride);
            Vector128<int> s0 = Vector128<int>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (int k = 0; k < end16; k += 16)
            {
                Vector128<byte> x = Vector128.LoadUnsafe(ref u0, (nuint)k);
                s0 = Sse2.Add(s0, Step128(x, ref r0, k));
                s1 = Sse2.Add(s1, Step128(x, ref r1, k));
                s2 = Sse2.Add(s2, Step128(x, ref r2, k));
                s3 = Sse2.Add(s3, Step128(x, ref r3, k));
            }

            Ssse3.HorizontalAdd(Ssse3.HorizontalAdd(s0, s1), Ssse3.HorizontalAdd(s2, s3)).StoreUnsafe(ref Unsafe.Add(ref y0, j));
            MultiplyScalar(ref r0, 4, end16, cols, stride, ref u0, ref Unsafe.Add(ref y0, j), accumulate: true);
        }

        for (; j < rows; j++)
        {
            ref sbyte r = ref Unsafe.Add(ref w0, (nint)j * stride);
            Vector128<int> s = Vector128<int>.Zero;
            for (int k = 0; k < end16; k += 16)
            {
                s = Sse2.Add(s, Step128(Vector128.LoadUnsafe(ref u0, (nuint)k), ref r, k));
            }

            Unsafe.Add(ref y0, j) = Vector128.Sum(s);
            MultiplyScalar(ref r, 1, end16, cols, stride, ref u0, ref Unsafe.Add(ref y0, j), accumulate: true);
        }
    }

    // Where no byte multiply-add exists (ARM64, or x64 without SSSE3): widen both to int16, multiply (at most
    // 127 x 127, exact), widen the products to int32 and add.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyWidening(ref sbyte w0, int rows, int cols, int stride, ref byte u0, ref int y0)
    {
        int end16 = cols & ~15;
        for (int j = 0; j < rows; j++)
        {
            ref sbyte r = ref Unsafe.Add(ref w0, (nint)j * stride);
            Vector128<int> s = Vector128<int>.Zero;
            for (int k = 0; k < end16; k += 16)
            {
                (Vector128<ushort> xl, Vector128<ushort> xh) = Vector128.Widen(Vector128.LoadUnsafe(ref u0, (nuint)k));
                (Vector128<short> wl, Vector128<short> wh) = Vector128.Widen(Vector128.LoadUnsafe(ref r, (nuint)k));
                (Vector128<int> p0, Vector128<int> p1) = Vector128.Widen(xl.AsInt16() * wl);
                (Vector128<int> p2, Vector128<int> p3) = Vector128.Widen(xh.AsInt16() * wh);
                s += (p0 + p1) + (p2 + p3);
            }

            Unsafe.Add(ref y0, j) = Vector128.Sum(s);
            MultiplyScalar(ref r, 1, end16, cols, stride, ref u0, ref Unsafe.Add(ref y0, j), accumulate: true);
        }
    }

    // Columns [from, cols) of `rows` rows, stored into y or added to it (the vector paths' tails).
    private static void MultiplyScalar(ref sbyte w0, int rows, int from, int cols, int stride, ref byte u0, ref int y0, bool accumulate)
    {
        for (int j = 0; j < rows; j++)
        {
            ref sbyte r = ref Unsafe.Add(ref w0, (nint)j * stride);
            int s = accumulate ? Unsafe.Add(ref y0, j) : 0;
            for (int k = from; k < cols; k++)
            {
                s += Unsafe.Add(ref r, k) * Unsafe.Add(ref u0, k);
            }

            Unsafe.Add(ref y0, j) = s;
        }
    }
}
