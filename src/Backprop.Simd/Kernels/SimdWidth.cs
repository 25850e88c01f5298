global using Simd128 = Backprop.Simd.Kernels.SimdVector<System.Runtime.Intrinsics.Vector128<float>>;
global using Simd256 = Backprop.Simd.Kernels.SimdVector<System.Runtime.Intrinsics.Vector256<float>>;
global using Simd512 = Backprop.Simd.Kernels.SimdVector<System.Runtime.Intrinsics.Vector512<float>>;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Which vector width the kernels use. Chosen once at startup: 512 bits when
/// <see cref="Vector512.IsHardwareAccelerated"/> and <see cref="Avx512F.IsSupported"/>, else 256 bits when
/// <see cref="Vector256.IsHardwareAccelerated"/>, else 128 when <see cref="Vector128.IsHardwareAccelerated"/>, else
/// 32: plain scalar code where there is no SIMD at all. The environment variable <c>BACKPROP_SIMD_BITS</c> (32, 128,
/// 256 or 512) overrides the choice, within what the instruction set supports.
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

    /// <summary>The width in bits the kernels run with: <see cref="DefaultBits"/> unless overridden.</summary>
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

/// <summary>
/// The kernels' multiply-add, <c>a * b + c</c>: fused (one rounding) where the processor has a fused instruction
/// (x64 with FMA, every ARM64), a multiply then an add (two roundings) where it does not. .NET's
/// <c>FusedMultiplyAdd</c> APIs always fuse, in software lane by lane where the instruction is not known to exist
/// when the code is compiled, which is far slower. Every vector multiply-add of the kernels goes through here, and
/// so do the blocked kernels' scalar columns, which must give a vector lane's bits. The instructions are named explicitly (<c>Fma.MultiplyAdd</c>, not
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

/// <summary>A kernel whose body runs at any width: <see cref="SimdDispatch"/> calls <see cref="Run{TV}"/> with the vector type of the width it picks.</summary>
internal interface ISimdKernel
{
    void Run<TV>()
        where TV : struct, ISimd<TV>;
}

/// <summary>The one width dispatch of every kernel.</summary>
internal static class SimdDispatch
{
    /// <summary>
    /// Runs <paramref name="kernel"/> at <paramref name="bits"/> (32: scalar; 128, 256 or 512), or at the widest of
    /// 256 and 128 whose vector fits in <paramref name="length"/> floats when the wider one does not, so that a row's
    /// tail always has a whole vector (128 stays 128: its short rows go through scalars).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TKernel>(ref TKernel kernel, int bits, int length = int.MaxValue)
        where TKernel : struct, ISimdKernel, allows ref struct
    {
        if (bits == 512 && length < 16)
        {
            bits = 256;
        }

        if (bits == 256 && length < 8)
        {
            bits = 128;
        }

        switch (bits)
        {
            case 512:
                kernel.Run<Simd512>();
                break;
            case 32:
                kernel.Run<SimdScalar>();
                break;
            case 256:
                kernel.Run<Simd256>();
                break;
            default:
                kernel.Run<Simd128>();
                break;
        }
    }
}
