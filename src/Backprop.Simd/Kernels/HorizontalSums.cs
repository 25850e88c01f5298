using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Twelve horizontal sums at once, each bit-identical to <c>Vector128/256/512.Sum</c> of its vector on x86: those sum
/// the lanes as a pairwise tree (lanes 0 + 1 and 2 + 3, then the two, then the 128-bit blocks in pairs, then the
/// 256-bit halves), and the same tree is built here across vectors with shuffles that gather the left and the right
/// operands of each level's additions, so every addition has the same two operands (IEEE addition commutes exactly).
/// </summary>
internal static class HorizontalSums
{
    /// <summary>Whether <see cref="Of12{TV}"/> handles <typeparamref name="TV"/> (a constant for the JIT).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Batched<TV>()
        where TV : struct, ISimd<TV> =>
        (typeof(TV) == typeof(SimdVector<Vector512<float>>) && Avx512F.IsSupported)
        || (typeof(TV) == typeof(SimdVector<Vector256<float>>) && Avx.IsSupported)
        || (typeof(TV) == typeof(SimdVector<Vector128<float>>) && Sse.IsSupported);

    /// <summary>The sums of the twelve vectors into <paramref name="sums"/>[0..12) (16 floats long), in argument order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Of12<TV>(TV a0, TV a1, TV a2, TV a3, TV a4, TV a5, TV a6, TV a7, TV a8, TV a9, TV a10, TV a11, Span<float> sums)
        where TV : struct, ISimd<TV>
    {
        ref float s = ref sums[15]; // bounds: the 512-bit store writes all 16
        s = ref Unsafe.Subtract(ref s, 15);
        if (typeof(TV) == typeof(SimdVector<Vector512<float>>))
        {
            Of12In512(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11).StoreUnsafe(ref s);
        }
        else if (typeof(TV) == typeof(SimdVector<Vector256<float>>))
        {
            Vector256<float> r0 = Blocks(V256(a0), V256(a1), V256(a2), V256(a3));
            Vector256<float> r1 = Blocks(V256(a4), V256(a5), V256(a6), V256(a7));
            Vector256<float> r2 = Blocks(V256(a8), V256(a9), V256(a10), V256(a11));
            Vector256<float> t01 = Avx.Permute2x128(r0, r1, 0x20) + Avx.Permute2x128(r0, r1, 0x31);
            t01.StoreUnsafe(ref s);
            (r2.GetLower() + r2.GetUpper()).StoreUnsafe(ref s, 8);
        }
        else
        {
            Blocks(V128(a0), V128(a1), V128(a2), V128(a3)).StoreUnsafe(ref s);
            Blocks(V128(a4), V128(a5), V128(a6), V128(a7)).StoreUnsafe(ref s, 4);
            Blocks(V128(a8), V128(a9), V128(a10), V128(a11)).StoreUnsafe(ref s, 8);
        }
    }

    /// <summary>The sums of twelve 512-bit vectors in lanes [0, 12) of the result (lanes 12 to 15 repeat 8 to 11), in
    /// argument order: <see cref="Of12{TV}(TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, Span{float})"/> kept in a register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of12In512<TV>(TV a0, TV a1, TV a2, TV a3, TV a4, TV a5, TV a6, TV a7, TV a8, TV a9, TV a10, TV a11)
        where TV : struct, ISimd<TV> =>
        Of12(V512(a0), V512(a1), V512(a2), V512(a3), V512(a4), V512(a5), V512(a6), V512(a7), V512(a8), V512(a9), V512(a10), V512(a11));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Of12(
        Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, Vector512<float> a4, Vector512<float> a5,
        Vector512<float> a6, Vector512<float> a7, Vector512<float> a8, Vector512<float> a9, Vector512<float> a10, Vector512<float> a11)
    {
        Vector512<float> r0 = Blocks(a0, a1, a2, a3);
        Vector512<float> r1 = Blocks(a4, a5, a6, a7);
        Vector512<float> r2 = Blocks(a8, a9, a10, a11);
        // Blocks 0..3 of r hold the four vectors' 128-bit sums of their blocks 0..3; pairs of blocks, then halves.
        Vector512<float> h01 = Avx512F.Shuffle4x128(r0, r1, 0x88) + Avx512F.Shuffle4x128(r0, r1, 0xDD);
        Vector512<float> h22 = Avx512F.Shuffle4x128(r2, r2, 0x88) + Avx512F.Shuffle4x128(r2, r2, 0xDD);
        return Avx512F.Shuffle4x128(h01, h22, 0x88) + Avx512F.Shuffle4x128(h01, h22, 0xDD);
    }

    // Per 128-bit block: [x0 + x1, x2 + x3, y0 + y1, y2 + y3], then [sum x, sum y, sum z, sum w] with each sum
    // (lanes 0 + 1) + (lanes 2 + 3) of that block.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Blocks(Vector512<float> x, Vector512<float> y, Vector512<float> z, Vector512<float> w)
    {
        Vector512<float> xy = Avx512F.Shuffle(x, y, 0x88) + Avx512F.Shuffle(x, y, 0xDD);
        Vector512<float> zw = Avx512F.Shuffle(z, w, 0x88) + Avx512F.Shuffle(z, w, 0xDD);
        return Avx512F.Shuffle(xy, zw, 0x88) + Avx512F.Shuffle(xy, zw, 0xDD);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Blocks(Vector256<float> x, Vector256<float> y, Vector256<float> z, Vector256<float> w)
    {
        Vector256<float> xy = Avx.Shuffle(x, y, 0x88) + Avx.Shuffle(x, y, 0xDD);
        Vector256<float> zw = Avx.Shuffle(z, w, 0x88) + Avx.Shuffle(z, w, 0xDD);
        return Avx.Shuffle(xy, zw, 0x88) + Avx.Shuffle(xy, zw, 0xDD);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Blocks(Vector128<float> x, Vector128<float> y, Vector128<float> z, Vector128<float> w)
    {
        Vector128<float> xy = Sse.Shuffle(x, y, 0x88) + Sse.Shuffle(x, y, 0xDD);
        Vector128<float> zw = Sse.Shuffle(z, w, 0x88) + Sse.Shuffle(z, w, 0xDD);
        return Sse.Shuffle(xy, zw, 0x88) + Sse.Shuffle(xy, zw, 0xDD);
    }

    private static Vector512<float> V512<TV>(TV v)
        where TV : struct => Unsafe.BitCast<TV, Vector512<float>>(v);

    private static Vector256<float> V256<TV>(TV v)
        where TV : struct => Unsafe.BitCast<TV, Vector256<float>>(v);

    private static Vector128<float> V128<TV>(TV v)
        where TV : struct => Unsafe.BitCast<TV, Vector128<float>>(v);
}
