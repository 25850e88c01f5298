using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

/// <summary>
/// One step of the 256-bit int8 product (<see cref="Int8MatrixVector"/>): each int32 lane of <c>acc</c> plus the four
/// products of the lane's unsigned codes and signed weights, <c>acc[i] + sum_b u[4i + b] w[4i + b]</c>. Implemented by
/// structs, so that a kernel generic over them is compiled once per strategy with the step inlined.
/// </summary>
internal interface IQuadDot256
{
    /// <summary>Whether this processor runs the step.</summary>
    static abstract bool IsSupported { get; }

    /// <summary><c>acc[i] + sum_b u[4i + b] w[4i + b]</c> for the 8 int32 lanes; exact for codes in [0, 127].</summary>
    static abstract Vector256<int> Accumulate(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> w);
}

/// <summary>AVX2: <c>vpmaddubsw</c> (adjacent products into int16, saturating: exact only while a pair stays within
/// 32,767, so codes of at most 127), <c>vpmaddwd</c> by ones (the two pairs into int32), <c>vpaddd</c>.</summary>
internal readonly struct MaddPairDot : IQuadDot256
{
    public static bool IsSupported => Avx2.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Accumulate(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> w) =>
        Avx2.Add(acc, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, w), Vector256.Create((short)1)));
}

/// <summary>AVX-VNNI: <c>vpdpbusd</c>, the four products and the add in one instruction, in int32 without saturation.
/// .NET 10 reports it on processors with the AVX-VNNI (VEX) extension only, not on those with AVX-512 VNNI alone.</summary>
internal readonly struct VnniDot : IQuadDot256
{
    public static bool IsSupported => AvxVnni.IsSupported && Avx2.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Accumulate(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> w) =>
        AvxVnni.MultiplyWideningAndAdd(acc, u, w);
}
