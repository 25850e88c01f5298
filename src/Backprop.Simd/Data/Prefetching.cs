namespace Backprop.Simd.Data;

/// <summary>
/// Whether training prefetches the next samples' inputs (into the second-level cache, while the current ones are
/// computed). On by default; the environment variable <c>BACKPROP_SIMD_PREFETCH=0</c> turns it off for the whole
/// process, read once at startup, so that the effect can be measured (run the ladder's benchmarks with it set, as
/// <c>docs/optimizing-backprop.md</c> does). It is only a hint to the processor: results are the same either way.
/// </summary>
public static class Prefetching
{
    /// <summary>The environment variable that turns prefetching off: <c>0</c>.</summary>
    public const string OverrideVariable = "BACKPROP_SIMD_PREFETCH";

    /// <summary>Whether training issues prefetches: true unless <see cref="OverrideVariable"/> is <c>0</c>.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable(OverrideVariable) != "0";
}
