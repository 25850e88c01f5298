using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>Prints, once per process, which vector widths this runtime actually uses (the jobs set them through environment variables).</summary>
public static class MachineInfo
{
    private static bool s_printed;

    /// <summary>One line: Vector&lt;float&gt;.Count, which VectorNNN types are accelerated, AVX-512F, the two environment variables, and the int8 kernels' path.</summary>
    public static string Describe() =>
        $"Vector<float>.Count = {Vector<float>.Count}, Vector256.IsHardwareAccelerated = {Vector256.IsHardwareAccelerated}, " +
        $"Vector512.IsHardwareAccelerated = {Vector512.IsHardwareAccelerated}, Avx512F.IsSupported = {Avx512F.IsSupported}, " +
        $"DOTNET_PreferredVectorBitWidth = {Environment.GetEnvironmentVariable("DOTNET_PreferredVectorBitWidth") ?? "unset"}, " +
        $"DOTNET_MaxVectorTBitWidth = {Environment.GetEnvironmentVariable("DOTNET_MaxVectorTBitWidth") ?? "unset"}, " +
        $"int8 path = {Backprop.Simd.Kernels.Int8MatrixVector.DefaultPath} (AvxVnni.IsSupported = {AvxVnni.IsSupported}), " +
        $".NET {Environment.Version}, {Environment.ProcessorCount} logical cores";

    /// <summary>Writes <see cref="Describe"/> to the console the first time it is called in this process; call it from a GlobalSetup.</summary>
    public static void PrintOnce()
    {
        if (!s_printed)
        {
            s_printed = true;
            Console.WriteLine("VectorInfo: " + Describe());
        }
    }
}
