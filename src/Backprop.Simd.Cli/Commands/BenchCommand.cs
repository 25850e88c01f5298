using System.CommandLine;
using System.Diagnostics;
using Backprop.Simd.Data;
using Backprop.Simd.Kernels;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Cli.Commands;

/// <summary>
/// <c>backprop bench --model FILE [--precision float32|int8] [--batch N] [--threads N] [--data DIR]</c>: what a model
/// costs on this machine before an app embeds it. Single-sample latency is timed call by call (each call's own
/// timestamps, so the percentiles are of calls, not of averages) after a warm-up long enough for the runtime's
/// tiered compilation to install its optimized code; batch throughput is the median of repeated calls
/// on <c>--batch</c> samples. Inputs are the test images of the data when they fit the model, else random values in [0, 1).
/// </summary>
internal static class BenchCommand
{
    private const int WarmupCalls = 20_000;
    private const double WarmupSeconds = 0.3; // and at least this long: the runtime compiles its final code ~100 ms after a method's first calls
    private const int TimedCalls = 100_000;
    private const int DistinctInputs = 1_000; // single calls cycle through these, as requests bring different inputs
    private const double BatchSeconds = 0.5;  // batch calls repeat for about this long (at least MinBatchRuns)
    private const int MinBatchRuns = 3;

    public static Command Create(CliConsole console)
    {
        Option<string> model = CommonOptions.Model(required: true);
        Option<string> precision = CommonOptions.Precision();
        Option<int> batch = CommonOptions.WholeNumber("--batch", "Samples per batch call.", defaultValue: 10_000, minimum: 1, maximum: 1_000_000);
        Option<int> threads = CommonOptions.WholeNumber(
            "--threads",
            $"Threads sharing each batch call; the outputs are the same for any count. {CommonOptions.Default($"{Environment.ProcessorCount}, one per core")}",
            defaultValue: null,
            minimum: 1,
            maximum: TrainingOptions.MaxThreads);
        Option<string> data = CommonOptions.Data();
        var command = new Command("bench", "Time a saved model on this machine: single-sample latency (p50, p99) and batch throughput.") { model, precision, batch, threads, data };
        command.SetAction(parsed =>
        {
            string modelPath = parsed.GetRequiredValue(model);
            LoadedModel loaded = LoadedModel.Load(modelPath); // an int8 model file runs in int8
            QuantizedNetwork? quantized = loaded.ForPrecision(parsed.GetValue(precision)!, parsed.GetResult(precision) is { Implicit: false });
            bool int8 = quantized is not null;
            Network? network = loaded.Float;
            int threadCount = parsed.GetResult(threads) is not null ? parsed.GetValue(threads) : Environment.ProcessorCount;
            int batchSize = parsed.GetValue(batch);
            (float[] inputs, string source) = Inputs(loaded.InputSize, parsed.GetValue(data), Math.Max(batchSize, DistinctInputs));

            console.Out.WriteLine($"{loaded.Describe()} in {(int8 ? "int8" : "float32")}: weights {Kilobytes(int8 ? quantized!.WeightBytes : WeightFloats(network!) * sizeof(float))}, " +
                $"{(int8 ? Int8Kernels() : FloatKernels())}; inputs: {source}.");
            (double p50, double p99, int gcs, long bytes) = int8 ? Latency(quantized!, inputs) : Latency(network!, inputs);
            console.Out.WriteLine($"single sample: p50 {p50:F2} us, p99 {p99:F2} us ({TimedCalls:N0} calls, {CommonOptions.Count(gcs, "GC")}, {CommonOptions.Count(bytes, "byte")} allocated)");
            (double rate, int runs, int batchGcs) = Throughput(network, quantized, inputs, batchSize, threadCount);
            console.Out.WriteLine($"batch of {batchSize:N0} on {CommonOptions.Count(threadCount, "thread")}: {rate:N0} samples/s (median of {runs} runs, {CommonOptions.Count(batchGcs, "GC")})");
            return 0;
        });
        return command;
    }

    // At least `count` input rows: the data's test images (cycled) when their size fits, else seeded random values.
    private static (float[] Inputs, string Source) Inputs(int n0, string? directory, int count)
    {
        var inputs = new float[(long)count * n0 <= Array.MaxLength ? count * n0 : throw new UserErrorException($"--batch {count} x {n0} inputs is more floats than one array holds.")];
        Dataset? test = directory is not null || n0 == 784 ? CommonOptions.LoadData(directory).Test : null;
        if (test is not null && test.InputSize == n0)
        {
            for (int i = 0; i < count; i++)
            {
                test.Input(i % test.Count, inputs.AsSpan(i * n0, n0));
            }

            return (inputs, $"the test images of {CommonOptions.DataName(directory)}");
        }

        if (test is not null)
        {
            throw new UserErrorException($"{CommonOptions.DataName(directory)} hold images of {test.InputSize} pixels, but the model takes {n0} inputs.");
        }

        var random = new Random(17);
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = random.NextSingle();
        }

        return (inputs, "random values in [0, 1)");
    }

    private static (double P50, double P99, int Gcs, long Bytes) Latency(Network network, float[] inputs)
    {
        var workspace = new Workspace(network);
        int n0 = network.InputSize;
        return Time(inputs.Length / n0, i => network.Predict(inputs.AsSpan(i * n0, n0), workspace));
    }

    private static (double P50, double P99, int Gcs, long Bytes) Latency(QuantizedNetwork network, float[] inputs)
    {
        var workspace = new QuantizedWorkspace(network);
        int n0 = network.InputSize;
        return Time(inputs.Length / n0, i => network.Predict(inputs.AsSpan(i * n0, n0), workspace));
    }

    // Each call between its own two timestamps; the percentiles of the timed calls after a warm-up (JIT tiers, caches).
    private static (double P50, double P99, int Gcs, long Bytes) Time(int rows, Func<int, int> predict)
    {
        int distinct = Math.Min(rows, DistinctInputs), sink = 0;
        long warmup = Stopwatch.GetTimestamp();
        for (int i = 0; i < WarmupCalls || Stopwatch.GetElapsedTime(warmup).TotalSeconds < WarmupSeconds; i++)
        {
            sink += predict(i % distinct);
        }

        var ticks = new long[TimedCalls];
        int gcs = GcCount();
        long bytes = GC.GetAllocatedBytesForCurrentThread(); // the calls run on this thread
        for (int i = 0; i < TimedCalls; i++)
        {
            long start = Stopwatch.GetTimestamp();
            sink += predict(i % distinct);
            ticks[i] = Stopwatch.GetTimestamp() - start;
        }

        bytes = GC.GetAllocatedBytesForCurrentThread() - bytes;
        gcs = GcCount() - gcs;
        GC.KeepAlive(sink);
        Array.Sort(ticks);
        double us = 1e6 / Stopwatch.Frequency;
        return (ticks[TimedCalls / 2] * us, ticks[(int)(TimedCalls * 0.99)] * us, gcs, bytes);
    }

    private static (double Rate, int Runs, int Gcs) Throughput(Network? network, QuantizedNetwork? quantized, float[] inputs, int batch, int threads)
    {
        int n0 = quantized?.InputSize ?? network!.InputSize, nL = quantized?.OutputSize ?? network!.OutputSize;
        float[] outputs = new float[batch * nL];
        ReadOnlyMemory<float> x = inputs.AsMemory(0, batch * n0);
        using BatchInference? floats = quantized is null ? new BatchInference(network!, threads) : null;
        using QuantizedBatchInference? int8 = quantized is null ? null : new QuantizedBatchInference(quantized, threads);
        void Run()
        {
            if (int8 is not null)
            {
                int8.FeedForward(x, outputs);
            }
            else
            {
                floats!.FeedForward(x, outputs);
            }
        }

        Run(); // warm-up
        var seconds = new List<double>();
        int gcs = GcCount();
        long begin = Stopwatch.GetTimestamp();
        while (seconds.Count < MinBatchRuns || (Stopwatch.GetElapsedTime(begin).TotalSeconds < BatchSeconds && seconds.Count < 1000))
        {
            long start = Stopwatch.GetTimestamp();
            Run();
            seconds.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        gcs = GcCount() - gcs;
        seconds.Sort();
        return (batch / seconds[seconds.Count / 2], seconds.Count, gcs);
    }

    private static int GcCount() => GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2);

    private static long WeightFloats(Network network)
    {
        long weights = 0;
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            weights += network.Weights(l).Length;
        }

        return weights;
    }

    private static string Kilobytes(long bytes) => $"{bytes / 1024.0:F1} KiB";

    private static string FloatKernels() =>
        (SimdWidth.Bits == 32 ? "scalar kernels, no SIMD" : $"{SimdWidth.Bits}-bit float kernels") + (SimdWidth.FusedMultiplyAdd ? "" : ", no FMA");

    private static string Int8Kernels() => Int8MatrixVector.DefaultPath switch
    {
        Int8Path.AvxVnni => "AVX-VNNI int8 kernels (vpdpbusd)",
        Int8Path.Avx2 => "AVX2 int8 kernels",
        Int8Path.Ssse3 => "SSSE3 int8 kernels",
        Int8Path.Widening128 => "128-bit widening int8 kernels",
        _ => "scalar int8 kernels, no SIMD",
    };
}
