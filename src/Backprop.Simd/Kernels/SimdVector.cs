using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

/// <summary>
/// The handful of vector operations the blocked kernels need, as static abstract members, so that one generic
/// kernel body compiles to scalar, 128-, 256- or 512-bit code: the JIT specializes a generic method for every struct type
/// argument and inlines these wrappers away. (.NET's own <c>ISimdVector</c> is not public; this is the same idea in
/// the small.)
/// </summary>
internal interface ISimd<TSelf>
    where TSelf : struct, ISimd<TSelf>
{
    static abstract int Count { get; }

    static abstract TSelf Zero { get; }

    static abstract TSelf Load(ref float source, nuint offset);

    static abstract void Store(TSelf value, ref float destination, nuint offset);

    static abstract TSelf Broadcast(float value);

    /// <summary><c>a * b + c</c>: one fused instruction where the processor has one, else a multiply and an add (see <see cref="MultiplyAdds"/>).</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    static abstract TSelf Add(TSelf a, TSelf b);

    static abstract TSelf Multiply(TSelf a, TSelf b);

    static abstract float Sum(TSelf value);

    /// <summary>All bits set in lanes <c>firstLane</c> and above, clear below: for the overlapping last vector of a row.</summary>
    static abstract TSelf LanesFrom(int firstLane);

    static abstract TSelf And(TSelf a, TSelf b);

    /// <summary>Lanes of <paramref name="yes"/> where <paramref name="mask"/> is set, of <paramref name="no"/> elsewhere.</summary>
    static abstract TSelf Select(TSelf mask, TSelf yes, TSelf no);

    static abstract TSelf Or(TSelf a, TSelf b);

    /// <summary>Bit i set when lane i is not +0 or -0 (NaN and infinity count as non-zero).</summary>
    static abstract ulong NonZeroLanes(TSelf value);
}

internal readonly struct Simd128(Vector128<float> value) : ISimd<Simd128>
{
    private readonly Vector128<float> _v = value;

    public static int Count => Vector128<float>.Count;

    public static Simd128 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 Load(ref float source, nuint offset) => new(Vector128.LoadUnsafe(ref source, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Simd128 value, ref float destination, nuint offset) => value._v.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 Broadcast(float value) => new(Vector128.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 MultiplyAdd(Simd128 a, Simd128 b, Simd128 c) =>
        new(MultiplyAdds.Of(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 Add(Simd128 a, Simd128 b) => new(a._v + b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 Multiply(Simd128 a, Simd128 b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Simd128 value) => Vector128.Sum(value._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 LanesFrom(int firstLane) => new(Vector128.GreaterThanOrEqual(Vector128<float>.Indices, Vector128.Create((float)firstLane)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 And(Simd128 a, Simd128 b) => new(a._v & b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 Select(Simd128 mask, Simd128 yes, Simd128 no) => new(Vector128.ConditionalSelect(mask._v, yes._v, no._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 Or(Simd128 a, Simd128 b) => new(a._v | b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong NonZeroLanes(Simd128 value) =>
        (ulong)~Vector128.Equals(value._v.AsUInt32() & Vector128.Create(0x7FFF_FFFFu), Vector128<uint>.Zero).ExtractMostSignificantBits() & ((1UL << Vector128<float>.Count) - 1);
}

internal readonly struct Simd256(Vector256<float> value) : ISimd<Simd256>
{
    private readonly Vector256<float> _v = value;

    public static int Count => Vector256<float>.Count;

    public static Simd256 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 Load(ref float source, nuint offset) => new(Vector256.LoadUnsafe(ref source, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Simd256 value, ref float destination, nuint offset) => value._v.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 Broadcast(float value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 MultiplyAdd(Simd256 a, Simd256 b, Simd256 c) =>
        new(MultiplyAdds.Of(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 Add(Simd256 a, Simd256 b) => new(a._v + b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 Multiply(Simd256 a, Simd256 b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Simd256 value) => Vector256.Sum(value._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 LanesFrom(int firstLane) => new(Vector256.GreaterThanOrEqual(Vector256<float>.Indices, Vector256.Create((float)firstLane)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 And(Simd256 a, Simd256 b) => new(a._v & b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 Select(Simd256 mask, Simd256 yes, Simd256 no) => new(Vector256.ConditionalSelect(mask._v, yes._v, no._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 Or(Simd256 a, Simd256 b) => new(a._v | b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong NonZeroLanes(Simd256 value) =>
        (ulong)~Vector256.Equals(value._v.AsUInt32() & Vector256.Create(0x7FFF_FFFFu), Vector256<uint>.Zero).ExtractMostSignificantBits() & ((1UL << Vector256<float>.Count) - 1);
}

internal readonly struct Simd512(Vector512<float> value) : ISimd<Simd512>
{
    private readonly Vector512<float> _v = value;

    public static int Count => Vector512<float>.Count;

    public static Simd512 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 Load(ref float source, nuint offset) => new(Vector512.LoadUnsafe(ref source, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Simd512 value, ref float destination, nuint offset) => value._v.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 Broadcast(float value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 MultiplyAdd(Simd512 a, Simd512 b, Simd512 c) =>
        new(MultiplyAdds.Of(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 Add(Simd512 a, Simd512 b) => new(a._v + b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 Multiply(Simd512 a, Simd512 b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Simd512 value) => Vector512.Sum(value._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 LanesFrom(int firstLane) => new(Vector512.GreaterThanOrEqual(Vector512<float>.Indices, Vector512.Create((float)firstLane)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 And(Simd512 a, Simd512 b) => new(a._v & b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 Select(Simd512 mask, Simd512 yes, Simd512 no) => new(Vector512.ConditionalSelect(mask._v, yes._v, no._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 Or(Simd512 a, Simd512 b) => new(a._v | b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong NonZeroLanes(Simd512 value) =>
        (ulong)~Vector512.Equals(value._v.AsUInt32() & Vector512.Create(0x7FFF_FFFFu), Vector512<uint>.Zero).ExtractMostSignificantBits() & ((1UL << Vector512<float>.Count) - 1);
}

/// <summary>
/// One float as a one-lane "vector": the blocked kernels' scalar path where <see cref="Vector128.IsHardwareAccelerated"/>
/// is false (no SIMD at all, <c>DOTNET_EnableHWIntrinsic=0</c>), where the Vector128 operations would be emulated in
/// software one lane at a time. The same tiles then keep their accumulators in scalar registers.
/// </summary>
internal readonly struct SimdScalar(float value) : ISimd<SimdScalar>
{
    private readonly float _v = value;

    public static int Count => 1;

    public static SimdScalar Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Load(ref float source, nuint offset) => new(Unsafe.Add(ref source, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(SimdScalar value, ref float destination, nuint offset) => Unsafe.Add(ref destination, offset) = value._v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Broadcast(float value) => new(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar MultiplyAdd(SimdScalar a, SimdScalar b, SimdScalar c) => new(MultiplyAdds.Scalar(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Add(SimdScalar a, SimdScalar b) => new(a._v + b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Multiply(SimdScalar a, SimdScalar b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(SimdScalar value) => value._v;

    // Masks are all-ones or all-zeros bit patterns, as a vector lane's are.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar LanesFrom(int firstLane) => new(BitConverter.Int32BitsToSingle(firstLane <= 0 ? -1 : 0));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar And(SimdScalar a, SimdScalar b) => FromBits(Bits(a) & Bits(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Select(SimdScalar mask, SimdScalar yes, SimdScalar no) => Bits(mask) != 0 ? yes : no;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Or(SimdScalar a, SimdScalar b) => FromBits(Bits(a) | Bits(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong NonZeroLanes(SimdScalar value) => (Bits(value) & 0x7FFF_FFFF) != 0 ? 1UL : 0UL;

    private static int Bits(SimdScalar value) => BitConverter.SingleToInt32Bits(value._v);

    private static SimdScalar FromBits(int bits) => new(BitConverter.Int32BitsToSingle(bits));
}

/// <summary>
/// The kernels' multiply-add, <c>a * b + c</c>: fused (one rounding) where the processor has a fused instruction
/// (x64 with FMA, every ARM64), a multiply then an add (two roundings) where it does not. .NET's
/// <c>FusedMultiplyAdd</c> APIs always fuse, in software lane by lane where the instruction is not known to exist
/// when the code is compiled, which costs 50-100x. Every vector multiply-add of the kernels goes through here, and
/// so do the blocked kernels' scalar columns, which must give a vector lane's bits (the per-sample kernels' scalar
/// remainder loops multiply, then add). The instructions are named explicitly (<c>Fma.MultiplyAdd</c>, not
/// <c>Vector128.FusedMultiplyAdd</c>) so that Native AOT, which can only check FMA at run time when it is not in the
/// target instruction set, still emits them.
/// </summary>
internal static class MultiplyAdds
{
    /// <summary>Whether multiply-adds are fused here; a constant for the JIT, so every branch below folds away.</summary>
    public static bool AreFused
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Fma.IsSupported || AdvSimd.IsSupported;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scalar(float a, float b, float c)
    {
        if (Fma.IsSupported)
        {
            return Fma.MultiplyAddScalar(Vector128.CreateScalarUnsafe(a), Vector128.CreateScalarUnsafe(b), Vector128.CreateScalarUnsafe(c)).ToScalar();
        }

        return AdvSimd.IsSupported ? MathF.FusedMultiplyAdd(a, b, c) : (a * b) + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Of(Vector128<float> a, Vector128<float> b, Vector128<float> c)
    {
        if (Fma.IsSupported)
        {
            return Fma.MultiplyAdd(a, b, c);
        }

        return AdvSimd.IsSupported ? AdvSimd.FusedMultiplyAdd(c, a, b) : (a * b) + c;
    }

    // The wider ones split into halves where fusing exists only at 128 bits (ARM64), so that they round alike too.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Of(Vector256<float> a, Vector256<float> b, Vector256<float> c)
    {
        if (Fma.IsSupported)
        {
            return Fma.MultiplyAdd(a, b, c);
        }

        return AdvSimd.IsSupported
            ? Vector256.Create(Of(a.GetLower(), b.GetLower(), c.GetLower()), Of(a.GetUpper(), b.GetUpper(), c.GetUpper()))
            : (a * b) + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of(Vector512<float> a, Vector512<float> b, Vector512<float> c)
    {
        if (Avx512F.IsSupported)
        {
            return Avx512F.FusedMultiplyAdd(a, b, c);
        }

        return AreFused
            ? Vector512.Create(Of(a.GetLower(), b.GetLower(), c.GetLower()), Of(a.GetUpper(), b.GetUpper(), c.GetUpper()))
            : (a * b) + c;
    }

    /// <summary>The same for <see cref="Vector{T}"/>, through the fixed-width vector of its size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Of(Vector<float> a, Vector<float> b, Vector<float> c)
    {
        if (Vector<float>.Count == Vector128<float>.Count)
        {
            return Of(a.AsVector128(), b.AsVector128(), c.AsVector128()).AsVector();
        }

        if (Vector<float>.Count == Vector256<float>.Count)
        {
            return Of(a.AsVector256(), b.AsVector256(), c.AsVector256()).AsVector();
        }

        if (Vector<float>.Count == Vector512<float>.Count)
        {
            return Of(a.AsVector512(), b.AsVector512(), c.AsVector512()).AsVector();
        }

        return (a * b) + c;
    }
}

/// <summary>How many vector registers the processor gives the JIT, for tiles that must keep every accumulator in one.</summary>
internal static class SimdRegisters
{
    /// <summary>32 (x64 with AVX-512, whose EVEX encoding reaches xmm16-31; every ARM64), not 16: a JIT constant.</summary>
    public static bool Many
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Avx512F.IsSupported || AdvSimd.Arm64.IsSupported;
    }
}

/// <summary>The loop bound of the per-sample kernels' <see cref="Vector{T}"/> loops.</summary>
internal static class VectorLoops
{
    /// <summary>
    /// Where the whole <see cref="Vector{T}"/> steps of a loop over <paramref name="n"/> floats end: 0 where
    /// <see cref="Vector{T}"/> is not hardware accelerated, so that the scalar remainder loop does all the work
    /// instead of software-emulated vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int VectorEnd(int n) => System.Numerics.Vector.IsHardwareAccelerated ? n - (n % Vector<float>.Count) : 0;
}

/// <summary>
/// Which vector width the blocked (batched) kernels use. Chosen once at startup: 512 bits when
/// <see cref="Vector512.IsHardwareAccelerated"/> and <see cref="Avx512F.IsSupported"/>, else 256 bits when
/// <see cref="Vector256.IsHardwareAccelerated"/>, else 128 when <see cref="Vector128.IsHardwareAccelerated"/>, else
/// 32: plain scalar code where there is no SIMD at all. The environment variable <c>BACKPROP_SIMD_BITS</c> (32, 128,
/// 256 or 512) overrides the choice, within what the instruction set supports; the per-sample kernels use
/// <see cref="System.Numerics.Vector{T}"/>, whose width the runtime decides (<c>DOTNET_PreferredVectorBitWidth</c>).
/// </summary>
public static class SimdWidth
{
    /// <summary>The environment variable that overrides the choice: 32 (scalar), 128, 256 or 512.</summary>
    public const string OverrideVariable = "BACKPROP_SIMD_BITS";

    /// <summary>The width the runtime itself considers fast here: 512 when <see cref="Vector512.IsHardwareAccelerated"/>, else 256, 128 or 32 (scalar).</summary>
    public static int DefaultBits { get; } =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 32;

    /// <summary>The widest width whose instructions this processor has (it may still prefer narrower ones); 32 where it has no SIMD.</summary>
    public static int MaximumSupportedBits { get; } =
        Avx512F.IsSupported ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 32;

    /// <summary>
    /// Whether the kernels' multiply-adds are fused (one rounding) on this machine: where the processor has FMA (x64)
    /// or is ARM64. Elsewhere they multiply, round, add and round again, so results differ in the last bits.
    /// </summary>
    public static bool FusedMultiplyAdd => MultiplyAdds.AreFused;

    /// <summary>The width in bits the blocked kernels run with: <see cref="DefaultBits"/> unless overridden.</summary>
    public static int Bits { get; } = Choose(Environment.GetEnvironmentVariable(OverrideVariable));

    // An explicit request is honoured whenever the instructions exist, even where the runtime prefers narrower
    // vectors (it may, on processors that lower their clock for 512-bit work).
    internal static int Choose(string? requested) => requested switch
    {
        "32" => 32,
        "128" when Vector128.IsHardwareAccelerated => 128,
        "256" when Vector256.IsHardwareAccelerated => 256,
        "512" when Avx512F.IsSupported => 512,
        _ => DefaultBits,
    };
}
