using System.Diagnostics;

namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>
/// Runs a benchmark body for a while inside its GlobalSetup, before BenchmarkDotNet's own warm-up. The naive
/// reference is LINQ over jagged arrays: hundreds of small methods that the tiered JIT promotes one by one, and with
/// only a few invocations per iteration it was still speeding up during the measured iterations (seen as means
/// falling 4x across one run). A couple of seconds of calls up front lets every method reach its final tier.
/// </summary>
public static class WarmUp
{
    /// <summary>Set by <c>--smoke</c>, which runs every benchmark once in process: warming up would only slow it down.</summary>
    public static bool Disabled { get; set; }

    /// <summary>Calls <paramref name="body"/> until <paramref name="seconds"/> have passed and it ran at least <paramref name="minimumCalls"/> times.</summary>
    public static void Run(Action body, double seconds = 2.0, int minimumCalls = 3)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (Disabled)
        {
            return;
        }

        long start = Stopwatch.GetTimestamp();
        for (int calls = 0; calls < minimumCalls || Stopwatch.GetElapsedTime(start).TotalSeconds < seconds; calls++)
        {
            body();
        }
    }
}
