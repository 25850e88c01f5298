using System.Diagnostics;
using System.Globalization;
using Backprop.Simd.Benchmarks.Infrastructure;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>
/// Single-sample inference latency (issue 7), outside BenchmarkDotNet, which reports means and not tails:
/// <c>dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks -- --latency [--calls N]</c>.
/// Each of N calls to <see cref="Network.FeedForward"/> (cycling through 1,000 synthetic inputs) is timed on its own
/// with two <see cref="Stopwatch.GetTimestamp"/> reads, into an array allocated before the run; the array is sorted
/// afterwards for the percentiles. The GC collection counts and this thread's allocated bytes are read before and
/// after the timed loop. The cost of the two timestamp reads themselves is measured separately and printed (it is
/// included in the percentiles, not subtracted). A second, untimed-per-call loop gives the back-to-back mean.
/// </summary>
public static class LatencyHarness
{
    /// <summary>The command-line switch that selects this harness instead of BenchmarkDotNet.</summary>
    public const string Switch = "--latency";

    /// <summary>Default number of timed calls per network.</summary>
    public const int DefaultCalls = 1_000_000;

    private const int InputsCycled = 1000;

    /// <summary>Runs the harness; returns the process exit code (2 for a bad argument).</summary>
    public static int Run(string[] args)
    {
        if (!HarnessArguments.TryCount(args, "--calls", DefaultCalls, minimum: 100, out int calls))
        {
            return 2;
        }

        Console.WriteLine("VectorInfo: " + MachineInfo.Describe());
        Console.WriteLine($"Single-sample Network.FeedForward latency, {calls:N0} timed calls per network (Stopwatch, {Stopwatch.Frequency:N0} ticks/s):");
        Console.WriteLine();
        Console.WriteLine("| Network | p50 | p90 | p99 | p99.9 | max | back-to-back mean | timer pair | GCs gen0/1/2 | allocated |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Result seed = Measure([784, 30, 10], calls);
        Print("[784,30,10]", seed);
        Print("[784,100,10]", Measure([784, 100, 10], calls));
        Console.WriteLine();
        Console.WriteLine(
            $"Targets for [784,30,10]: p50 <= 1.5 us {Verdict(seed.P50 <= 1.5)}, p99 <= 3 us {Verdict(seed.P99 <= 3.0)}, " +
            $"0 GCs {Verdict(seed.Collections.Sum() == 0)}.");
        return 0;
    }

    private static string Verdict(bool met) => met ? "(met)" : "(missed)";

    private static void Print(string name, Result r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {r.P50:F3} us | {r.P90:F3} us | {r.P99:F3} us | {r.P999:F3} us | {r.Max:F1} us | {r.Mean:F3} us | {r.TimerPair:F3} us | " +
            $"{r.Collections[0]}/{r.Collections[1]}/{r.Collections[2]} | {r.AllocatedBytes} B |"));

    private static Result Measure(int[] sizes, int calls)
    {
        var network = new Network(sizes, seed: 20251127);
        var workspace = new Workspace(network);
        int n = sizes[0];
        float[] inputs = Synthetic.Uniform(InputsCycled * n, seed: 7, low: 0f, high: 1f);
        long[] ticks = new long[calls];
        float sink = 0;

        // Warm-up: every method on the path reaches its final tier before anything is timed.
        for (int i = 0; i < Math.Max(calls / 5, 50_000); i++)
        {
            sink += network.FeedForward(inputs.AsSpan((i % InputsCycled) * n, n), workspace)[0];
        }

        // The cost of the timestamp pair alone, measured the same way.
        for (int i = 0; i < calls; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            ticks[i] = Stopwatch.GetTimestamp() - t0;
        }

        Array.Sort(ticks);
        double timerPair = Microseconds(ticks[calls / 2]);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        int[] before = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            ReadOnlySpan<float> x = inputs.AsSpan((i % InputsCycled) * n, n);
            long t0 = Stopwatch.GetTimestamp();
            sink += network.FeedForward(x, workspace)[0];
            ticks[i] = Stopwatch.GetTimestamp() - t0;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        int[] collections = [GC.CollectionCount(0) - before[0], GC.CollectionCount(1) - before[1], GC.CollectionCount(2) - before[2]];

        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++)
        {
            sink += network.FeedForward(inputs.AsSpan((i % InputsCycled) * n, n), workspace)[0];
        }

        double mean = Microseconds(Stopwatch.GetTimestamp() - start) / calls;
        Array.Sort(ticks);
        GC.KeepAlive(sink);
        return new Result(
            Microseconds(HarnessArguments.Quantile(ticks, 0.50)), Microseconds(HarnessArguments.Quantile(ticks, 0.90)), Microseconds(HarnessArguments.Quantile(ticks, 0.99)),
            Microseconds(HarnessArguments.Quantile(ticks, 0.999)), Microseconds(ticks[^1]), mean, timerPair, collections, allocated);
    }

    private static double Microseconds(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    private sealed record Result(double P50, double P90, double P99, double P999, double Max, double Mean, double TimerPair, int[] Collections, long AllocatedBytes);
}
