using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

/// <summary>
/// The handful of vector operations the blocked kernels need, as static abstract members, so that one generic
/// kernel body compiles to 128-, 256- or 512-bit code: the JIT specializes a generic method for every struct type
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

    /// <summary><c>a * b + c</c>, fused.</summary>
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
    public static Simd128 MultiplyAdd(Simd128 a, Simd128 b, Simd128 c) => new(Vector128.FusedMultiplyAdd(a._v, b._v, c._v));

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
    public static Simd256 MultiplyAdd(Simd256 a, Simd256 b, Simd256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));

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
    public static Simd512 MultiplyAdd(Simd512 a, Simd512 b, Simd512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));

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
/// Which vector width the blocked (batched) kernels use. Chosen once at startup: 512 bits when
/// <see cref="Vector512.IsHardwareAccelerated"/> and <see cref="Avx512F.IsSupported"/>, else 256 bits when
/// <see cref="Vector256.IsHardwareAccelerated"/>, else 128. The environment variable <c>BACKPROP_SIMD_BITS</c>
/// (128, 256 or 512) overrides the choice, within what the instruction set supports; the per-sample kernels use
/// <see cref="System.Numerics.Vector{T}"/>, whose width the runtime decides (<c>DOTNET_PreferredVectorBitWidth</c>).
/// </summary>
public static class SimdWidth
{
    /// <summary>The environment variable that overrides the choice: 128, 256 or 512.</summary>
    public const string OverrideVariable = "BACKPROP_SIMD_BITS";

    /// <summary>The width the runtime itself considers fast here: 512 when <see cref="Vector512.IsHardwareAccelerated"/>, else 256 or 128.</summary>
    public static int DefaultBits { get; } =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    /// <summary>The widest width whose instructions this processor has (it may still prefer narrower ones).</summary>
    public static int MaximumSupportedBits { get; } =
        Avx512F.IsSupported ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    /// <summary>The width in bits the blocked kernels run with: <see cref="DefaultBits"/> unless overridden.</summary>
    public static int Bits { get; } = Choose(Environment.GetEnvironmentVariable(OverrideVariable));

    // An explicit request is honoured whenever the instructions exist, even where the runtime prefers narrower
    // vectors (it may, on processors that lower their clock for 512-bit work).
    internal static int Choose(string? requested) => requested switch
    {
        "128" when Vector128.IsHardwareAccelerated => 128,
        "256" when Vector256.IsHardwareAccelerated => 256,
        "512" when Avx512F.IsSupported => 512,
        _ => DefaultBits,
    };
}
