using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;

namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>
/// The jobs of a full run. Every benchmark runs in <see cref="Default"/>; classes marked
/// <see cref="VectorWidthJobsAttribute"/> (the kernels) also run under the vector-width settings, each job in its own
/// process so the environment variables reach the runtime before it starts.
/// </summary>
public static class Jobs
{
    /// <summary>
    /// A ShortRun-like job sized for a 2-core machine: one launch, 5 warm-up and 10 measured iterations of ~120 ms each.
    /// Runtime settings untouched: the vector widths are whatever this CPU and runtime pick by default.
    /// </summary>
    public static readonly Job Default = Job.Default
        .WithLaunchCount(1)
        .WithWarmupCount(5)
        .WithIterationCount(10)
        .WithIterationTime(TimeInterval.FromMilliseconds(120))
        .WithId("DefaultEnv"); // "Default" itself is reserved by BenchmarkDotNet

    /// <summary>
    /// <c>DOTNET_PreferredVectorBitWidth=256</c>: <see cref="System.Runtime.Intrinsics.Vector512"/> reports not accelerated,
    /// so TensorPrimitives stays on 256-bit vectors too. This is what .NET picks by itself on Intel CPUs that slow
    /// down under 512-bit code (Skylake-X, Cascade Lake).
    /// </summary>
    public static readonly Job Preferred256 = Default
        .WithEnvironmentVariables(new EnvironmentVariable("DOTNET_PreferredVectorBitWidth", "256"))
        .WithId("Pref256");

    /// <summary>
    /// <c>DOTNET_PreferredVectorBitWidth=512</c>: Vector512 reports accelerated (where the hardware has AVX-512), so
    /// TensorPrimitives takes its 512-bit paths. It does NOT widen <see cref="System.Numerics.Vector{T}"/>.
    /// </summary>
    public static readonly Job Preferred512 = Default
        .WithEnvironmentVariables(new EnvironmentVariable("DOTNET_PreferredVectorBitWidth", "512"))
        .WithId("Pref512");

    /// <summary>
    /// <c>DOTNET_PreferredVectorBitWidth=512</c> plus <c>DOTNET_MaxVectorTBitWidth=512</c>: also
    /// <see cref="System.Numerics.Vector{T}"/> becomes 512 bits (<c>Vector&lt;float&gt;.Count == 16</c>), which is what
    /// the hand-written kernels are built on.
    /// </summary>
    public static readonly Job VectorT512 = Default
        .WithEnvironmentVariables(
            new EnvironmentVariable("DOTNET_PreferredVectorBitWidth", "512"),
            new EnvironmentVariable("DOTNET_MaxVectorTBitWidth", "512"))
        .WithId("VecT512");

    /// <summary>The jobs that <see cref="VectorWidthJobsAttribute"/> classes run in, <see cref="Default"/> first.</summary>
    public static IReadOnlyList<Job> VectorWidths { get; } = [Default, Preferred256, Preferred512, VectorT512];

    /// <summary>
    /// The batched path's register width, fixed at process start by <c>BACKPROP_SIMD_BITS</c>
    /// (<see cref="Backprop.Simd.Kernels.SimdWidth"/>): one job per width, for methods marked
    /// <see cref="SimdBitsJobsAttribute"/> (32 is the scalar path). The runtime's own settings stay at their defaults, so the per-sample
    /// Vector&lt;T&gt; kernels are unaffected.
    /// </summary>
    public static IReadOnlyList<Job> SimdBits { get; } = [.. new[] { 32, 128, 256, 512 }.Select(bits => Default
        .WithEnvironmentVariables(new EnvironmentVariable(Backprop.Simd.Kernels.SimdWidth.OverrideVariable, bits.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        .WithId($"Bits{bits}"))];

    /// <summary>
    /// The instruction-set fallbacks a user's CPU (or a Native AOT target) may leave the library with, each switched
    /// off in the runtime before it starts, for methods marked <see cref="InstructionSetJobsAttribute"/>:
    /// <c>DOTNET_EnableAVX512=0</c> (AVX2 and FMA, 256 bits), <c>DOTNET_EnableAVX2=0</c> (also no FMA: 128-bit SSE/AVX,
    /// multiply then add) and <c>DOTNET_EnableHWIntrinsic=0</c> (no SIMD at all: the scalar paths).
    /// </summary>
    public static IReadOnlyList<Job> InstructionSets { get; } =
    [
        Default.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableAVX512", "0")).WithId("NoAvx512"),
        Default.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableAVX2", "0")).WithId("NoAvx2Fma"),
        Default.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableHWIntrinsic", "0")).WithId("NoSimd"),
    ];
}

/// <summary>
/// Marks a benchmark method that also runs under every job of <see cref="Jobs.InstructionSets"/>: what the library
/// costs on processors without AVX-512, without AVX2/FMA, or without SIMD.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class InstructionSetJobsAttribute : Attribute;

/// <summary>
/// Marks a benchmark method that runs on the batched path: besides <see cref="Jobs.Default"/> it runs under every job of
/// <see cref="Jobs.SimdBits"/> (scalar, 128-, 256- and 512-bit GEMM kernels).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SimdBitsJobsAttribute : Attribute;

/// <summary>Marks a benchmark class that runs under every job of <see cref="Jobs.VectorWidths"/>, not only the default one.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class VectorWidthJobsAttribute : Attribute;

/// <summary>Benchmark categories the program filters on.</summary>
public static class Categories
{
    /// <summary>The hand-written Vector&lt;T&gt; kernels: what <c>--disasm</c> disassembles.</summary>
    public const string Hand = "Hand";
}
