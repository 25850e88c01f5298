using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Simd.Kernels;

/// <summary>
/// The vector operations the kernels need, as static abstract members, so that one generic kernel body compiles to
/// scalar, 128-, 256- or 512-bit code: the JIT specializes a generic method for every struct type argument and
/// inlines these wrappers away. (.NET's own <c>ISimdVector</c> cannot be used as a constraint for the fixed-width vectors.)
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

    /// <summary>
    /// <see cref="MultiplyAdd"/> with <c>a</c> loaded from <paramref name="source"/>: the same arithmetic, in a form
    /// the JIT compiles to one multiply-add with a memory operand into the accumulator's own register (through
    /// <see cref="Load"/> and then <see cref="MultiplyAdd"/>, a struct wrapper makes it add a register copy per step).
    /// </summary>
    static abstract TSelf MultiplyAddLoad(ref float source, nuint offset, TSelf b, TSelf c);

    /// <summary>
    /// <see cref="MultiplyAdd"/> with <c>a</c> the broadcast of the float at <paramref name="a"/>: the same arithmetic, in a form the
    /// JIT compiles to a broadcast and one multiply-add into the accumulator's own register (through
    /// <see cref="Broadcast"/> and then <see cref="MultiplyAdd"/>, it adds a register copy per multiply-add).
    /// </summary>
    static abstract TSelf MultiplyAddBroadcast(ref float a, TSelf b, TSelf c);

    static abstract TSelf Add(TSelf a, TSelf b);

    static abstract TSelf Subtract(TSelf a, TSelf b);

    static abstract TSelf Multiply(TSelf a, TSelf b);

    static abstract TSelf Divide(TSelf a, TSelf b);

    static abstract TSelf SquareRoot(TSelf value);

    static abstract float Sum(TSelf value);

    /// <summary>All bits set in the lanes where <c>a &gt; b</c>, clear elsewhere.</summary>
    static abstract TSelf GreaterThan(TSelf a, TSelf b);

    /// <summary>All bits set in the lanes where <c>a &lt; b</c>, clear elsewhere.</summary>
    static abstract TSelf LessThan(TSelf a, TSelf b);

    /// <summary>All bits set in lanes <c>firstLane</c> and above, clear below: for the overlapping last vector of a row.</summary>
    static abstract TSelf LanesFrom(int firstLane);

    static abstract TSelf And(TSelf a, TSelf b);

    static abstract TSelf Or(TSelf a, TSelf b);

    /// <summary>Lanes of <paramref name="yes"/> where <paramref name="mask"/> is set, of <paramref name="no"/> elsewhere.</summary>
    static abstract TSelf Select(TSelf mask, TSelf yes, TSelf no);

    /// <summary>Bit i set when lane i is not +0 or -0 (NaN and infinity count as non-zero).</summary>
    static abstract ulong NonZeroLanes(TSelf value);
}

/// <summary>
/// <see cref="ISimd{TSelf}"/> for <see cref="Vector128{T}"/>, <see cref="Vector256{T}"/> and <see cref="Vector512{T}"/>
/// of float, written once: <typeparamref name="T"/> is the vector type, and every <c>typeof(T)</c> test below is a
/// constant for the JIT, which keeps only the branch of that width (the code is what a struct per width would give).
/// </summary>
internal readonly struct SimdVector<T> : ISimd<SimdVector<T>>
    where T : struct
{
    private readonly T _v;

    private SimdVector(T value) => _v = value;

    public static int Count
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Unsafe.SizeOf<T>() / sizeof(float);
    }

    public static SimdVector<T> Zero => default;

    private Vector128<float> V128
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Unsafe.BitCast<T, Vector128<float>>(_v);
    }

    private Vector256<float> V256
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Unsafe.BitCast<T, Vector256<float>>(_v);
    }

    private Vector512<float> V512
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Unsafe.BitCast<T, Vector512<float>>(_v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> Load(ref float source, nuint offset) =>
        typeof(T) == typeof(Vector128<float>) ? Of(Vector128.LoadUnsafe(ref source, offset)) : typeof(T) == typeof(Vector256<float>) ? Of(Vector256.LoadUnsafe(ref source, offset)) : Of(Vector512.LoadUnsafe(ref source, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(SimdVector<T> value, ref float destination, nuint offset)
    {
        if (typeof(T) == typeof(Vector128<float>))
        {
            value.V128.StoreUnsafe(ref destination, offset);
        }
        else if (typeof(T) == typeof(Vector256<float>))
        {
            value.V256.StoreUnsafe(ref destination, offset);
        }
        else
        {
            value.V512.StoreUnsafe(ref destination, offset);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> Broadcast(float value) =>
        typeof(T) == typeof(Vector128<float>) ? Of(Vector128.Create(value)) : typeof(T) == typeof(Vector256<float>) ? Of(Vector256.Create(value)) : Of(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> MultiplyAdd(SimdVector<T> a, SimdVector<T> b, SimdVector<T> c) =>
        typeof(T) == typeof(Vector128<float>) ? Of(MultiplyAdds.Of(a.V128, b.V128, c.V128)) : typeof(T) == typeof(Vector256<float>) ? Of(MultiplyAdds.Of(a.V256, b.V256, c.V256)) : Of(MultiplyAdds.Of(a.V512, b.V512, c.V512));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> MultiplyAddLoad(ref float source, nuint offset, SimdVector<T> b, SimdVector<T> c) =>
        typeof(T) == typeof(Vector128<float>) ? Of(MultiplyAdds.Of(Vector128.LoadUnsafe(ref source, offset), b.V128, c.V128))
        : typeof(T) == typeof(Vector256<float>) ? Of(MultiplyAdds.Of(Vector256.LoadUnsafe(ref source, offset), b.V256, c.V256))
        : Of(MultiplyAdds.Of(Vector512.LoadUnsafe(ref source, offset), b.V512, c.V512));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> MultiplyAddBroadcast(ref float a, SimdVector<T> b, SimdVector<T> c) =>
        typeof(T) == typeof(Vector128<float>) ? Of(MultiplyAdds.Of(Vector128.Create(a), b.V128, c.V128))
        : typeof(T) == typeof(Vector256<float>) ? Of(MultiplyAdds.Of(Vector256.Create(a), b.V256, c.V256))
        : Of(MultiplyAdds.Of(Vector512.Create(a), b.V512, c.V512));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> Add(SimdVector<T> a, SimdVector<T> b) =>
        typeof(T) == typeof(Vector128<float>) ? Of(a.V128 + b.V128) : typeof(T) == typeof(Vector256<float>) ? Of(a.V256 + b.V256) : Of(a.V512 + b.V512);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> Subtract(SimdVector<T> a, SimdVector<T> b) =>
        typeof(T) == typeof(Vector128<float>) ? Of(a.V128 - b.V128) : typeof(T) == typeof(Vector256<float>) ? Of(a.V256 - b.V256) : Of(a.V512 - b.V512);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> Multiply(SimdVector<T> a, SimdVector<T> b) =>
        typeof(T) == typeof(Vector128<float>) ? Of(a.V128 * b.V128) : typeof(T) == typeof(Vector256<float>) ? Of(a.V256 * b.V256) : Of(a.V512 * b.V512);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> Divide(SimdVector<T> a, SimdVector<T> b) =>
        typeof(T) == typeof(Vector128<float>) ? Of(a.V128 / b.V128) : typeof(T) == typeof(Vector256<float>) ? Of(a.V256 / b.V256) : Of(a.V512 / b.V512);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> SquareRoot(SimdVector<T> value) =>
        typeof(T) == typeof(Vector128<float>) ? Of(Vector128.Sqrt(value.V128)) : typeof(T) == typeof(Vector256<float>) ? Of(Vector256.Sqrt(value.V256)) : Of(Vector512.Sqrt(value.V512));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(SimdVector<T> value) =>
        typeof(T) == typeof(Vector128<float>) ? Vector128.Sum(value.V128) : typeof(T) == typeof(Vector256<float>) ? Vector256.Sum(value.V256) : Vector512.Sum(value.V512);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> GreaterThan(SimdVector<T> a, SimdVector<T> b) =>
        typeof(T) == typeof(Vector128<float>) ? Of(Vector128.GreaterThan(a.V128, b.V128)) : typeof(T) == typeof(Vector256<float>) ? Of(Vector256.GreaterThan(a.V256, b.V256)) : Of(Vector512.GreaterThan(a.V512, b.V512));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> LessThan(SimdVector<T> a, SimdVector<T> b) =>
        typeof(T) == typeof(Vector128<float>) ? Of(Vector128.LessThan(a.V128, b.V128)) : typeof(T) == typeof(Vector256<float>) ? Of(Vector256.LessThan(a.V256, b.V256)) : Of(Vector512.LessThan(a.V512, b.V512));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> LanesFrom(int firstLane) =>
        typeof(T) == typeof(Vector128<float>) ? Of(Vector128.GreaterThanOrEqual(Vector128<float>.Indices, Vector128.Create((float)firstLane)))
        : typeof(T) == typeof(Vector256<float>) ? Of(Vector256.GreaterThanOrEqual(Vector256<float>.Indices, Vector256.Create((float)firstLane)))
        : Of(Vector512.GreaterThanOrEqual(Vector512<float>.Indices, Vector512.Create((float)firstLane)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> And(SimdVector<T> a, SimdVector<T> b) =>
        typeof(T) == typeof(Vector128<float>) ? Of(a.V128 & b.V128) : typeof(T) == typeof(Vector256<float>) ? Of(a.V256 & b.V256) : Of(a.V512 & b.V512);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> Or(SimdVector<T> a, SimdVector<T> b) =>
        typeof(T) == typeof(Vector128<float>) ? Of(a.V128 | b.V128) : typeof(T) == typeof(Vector256<float>) ? Of(a.V256 | b.V256) : Of(a.V512 | b.V512);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdVector<T> Select(SimdVector<T> mask, SimdVector<T> yes, SimdVector<T> no) =>
        typeof(T) == typeof(Vector128<float>) ? Of(Vector128.ConditionalSelect(mask.V128, yes.V128, no.V128))
        : typeof(T) == typeof(Vector256<float>) ? Of(Vector256.ConditionalSelect(mask.V256, yes.V256, no.V256))
        : Of(Vector512.ConditionalSelect(mask.V512, yes.V512, no.V512));

    // The magnitude bits of each lane compared with zero; one bit per lane, Count <= 16 of them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong NonZeroLanes(SimdVector<T> value) =>
        ~(typeof(T) == typeof(Vector128<float>) ? Vector128.Equals(value.V128.AsUInt32() & Vector128.Create(0x7FFF_FFFFu), Vector128<uint>.Zero).ExtractMostSignificantBits()
        : typeof(T) == typeof(Vector256<float>) ? Vector256.Equals(value.V256.AsUInt32() & Vector256.Create(0x7FFF_FFFFu), Vector256<uint>.Zero).ExtractMostSignificantBits()
        : (ulong)Vector512.Equals(value.V512.AsUInt32() & Vector512.Create(0x7FFF_FFFFu), Vector512<uint>.Zero).ExtractMostSignificantBits())
        & ((1UL << Count) - 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static SimdVector<T> Of<TVector>(TVector value)
        where TVector : struct => new(Unsafe.BitCast<TVector, T>(value));
}

/// <summary>
/// One float as a one-lane "vector": the kernels' scalar path where <see cref="Vector128.IsHardwareAccelerated"/>
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
    public static SimdScalar MultiplyAddLoad(ref float source, nuint offset, SimdScalar b, SimdScalar c) => new(MultiplyAdds.Scalar(Unsafe.Add(ref source, offset), b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar MultiplyAddBroadcast(ref float a, SimdScalar b, SimdScalar c) => new(MultiplyAdds.Scalar(a, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Add(SimdScalar a, SimdScalar b) => new(a._v + b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Subtract(SimdScalar a, SimdScalar b) => new(a._v - b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Multiply(SimdScalar a, SimdScalar b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Divide(SimdScalar a, SimdScalar b) => new(a._v / b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar SquareRoot(SimdScalar value) => new(MathF.Sqrt(value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(SimdScalar value) => value._v;

    // Masks are all-ones or all-zeros bit patterns, as a vector lane's are.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar GreaterThan(SimdScalar a, SimdScalar b) => Mask(a._v > b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar LessThan(SimdScalar a, SimdScalar b) => Mask(a._v < b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar LanesFrom(int firstLane) => Mask(firstLane <= 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar And(SimdScalar a, SimdScalar b) => FromBits(Bits(a) & Bits(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Or(SimdScalar a, SimdScalar b) => FromBits(Bits(a) | Bits(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Select(SimdScalar mask, SimdScalar yes, SimdScalar no) => Bits(mask) != 0 ? yes : no;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong NonZeroLanes(SimdScalar value) => (Bits(value) & 0x7FFF_FFFF) != 0 ? 1UL : 0UL;

    private static SimdScalar Mask(bool set) => FromBits(set ? -1 : 0);

    private static int Bits(SimdScalar value) => BitConverter.SingleToInt32Bits(value._v);

    private static SimdScalar FromBits(int bits) => new(BitConverter.Int32BitsToSingle(bits));
}
