using Backprop.Simd.Benchmarks.Infrastructure;
using System.Diagnostics;

namespace Backprop.Simd.Benchmarks.Onnx;

/// <summary>
/// Per-call latency, which BenchmarkDotNet does not give (its percentiles are of iteration means): each call is timed
/// on its own with <see cref="Stopwatch.GetTimestamp"/>, over a million calls after a warm-up, and the median, p99 and
/// p99.9 are read from the sorted times, with the garbage collections and managed bytes allocated during the run.
/// Then the batch: 10,000 samples a round, 30 rounds, median samples per second.
/// </summary>
internal static class LatencyHarness
{
    public static void Run(int calls, TextWriter output)
    {
        output.WriteLine($"Per-call latency over {calls:N0} calls per row (after {calls / 10:N0} warm-up calls); .NET {Environment.Version}, {Environment.ProcessorCount} cores, ONNX Runtime intra-op threads 1; load average before: {LoadAverage()}");
        output.WriteLine();
        output.WriteLine("| Network | Runner | Median | p99 | p99.9 | Mean | GCs (gen0/1/2) | Managed bytes/call |");
        output.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        var times = new long[calls];
        foreach (int[] sizes in new[] { new[] { 784, 30, 10 }, new[] { 784, 100, 10 } })
        {
            using var fixture = new Fixture(sizes);
            fixture.Check();
            Measure(output, fixture.Name, "FeedForward", fixture.Ours, times);
            Measure(output, fixture.Name, "ORT IoBinding", fixture.OnnxBound, times);
            Measure(output, fixture.Name, "ORT Run", fixture.OnnxRun, times);
        }

        output.WriteLine();
        output.WriteLine($"Batch of {Fixture.BatchSize:N0} samples, median of 30 rounds");
        output.WriteLine();
        output.WriteLine("| Network | Runner | Samples/s | Time per batch |");
        output.WriteLine("|---|---|---:|---:|");
        foreach ((int[] sizes, string inputs) in new[] { ([784, 30, 10], "random"), ([784, 100, 10], "random"), (new[] { 784, 30, 10 }, BundledDigits.Name), ([784, 100, 10], BundledDigits.Name) })
        {
            using var fixture = new Fixture(sizes, inputs);
            Throughput(output, $"{fixture.Name}, {inputs}", "FeedForward loop (1 thread)", fixture.OursBatch);
            Throughput(output, $"{fixture.Name}, {inputs}", "BatchInference, 1 thread", () => fixture.OursBatched(1));
            Throughput(output, $"{fixture.Name}, {inputs}", "BatchInference, 2 threads", () => fixture.OursBatched(2));
            Throughput(output, $"{fixture.Name}, {inputs}", "ORT, 1 intra-op thread", () => fixture.OnnxBatch(1));
            Throughput(output, $"{fixture.Name}, {inputs}", "ORT, 2 intra-op threads", () => fixture.OnnxBatch(2));
        }

        output.WriteLine();
        output.WriteLine($"Load average after: {LoadAverage()} (other processes on the machine skew the numbers, the 2-thread rows most)");
    }

    // The 1, 5 and 15 minute load averages on Linux; other systems have no /proc/loadavg.
    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ')[..3]);
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static void Measure(TextWriter output, string network, string runner, Func<float> call, long[] times)
    {
        float sink = 0;
        for (int i = 0; i < times.Length / 10; i++)
        {
            sink += call();
        }

        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            sink += call();
            times[i] = Stopwatch.GetTimestamp() - start;
        }

        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        string gcs = $"{GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}";
        double mean = times.Average();
        Array.Sort(times);
        output.WriteLine($"| {network} | {runner} | {Us(times[times.Length / 2])} | {Us(times[(int)(times.Length * 0.99)])} | {Us(times[(int)(times.Length * 0.999)])} | {Us(mean)} | {gcs} | {(double)allocated / times.Length:F1} |");
        GC.KeepAlive(sink);
    }

    private static void Throughput(TextWriter output, string network, string runner, Func<float> batch)
    {
        float sink = 0;
        for (int i = 0; i < 5; i++)
        {
            sink += batch();
        }

        var seconds = new double[30];
        for (int r = 0; r < seconds.Length; r++)
        {
            long start = Stopwatch.GetTimestamp();
            sink += batch();
            seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Array.Sort(seconds);
        double median = seconds[seconds.Length / 2];
        output.WriteLine($"| {network} | {runner} | {Fixture.BatchSize / median / 1e6:F2} M | {median * 1e3:F2} ms |");
        GC.KeepAlive(sink);
    }

    private static string Us(double ticks) => $"{ticks * 1e6 / Stopwatch.Frequency:F2} us";
}
