using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Data;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Benchmarks.Onnx;

/// <summary>A peer workload: the network, its mini-batch size, the samples of one timed epoch and of the check.</summary>
internal sealed record PeerCase(int[] Sizes, int MiniBatch, int TrainSamples, int CheckSamples)
{
    public string Name => $"[{string.Join(",", Sizes)}] m={MiniBatch}";
}

/// <summary>
/// How long each measurement runs: at least <c>MinRepeats</c> repetitions and <c>Seconds</c> (at most 30 repetitions;
/// latency: at most <c>LatencyCalls</c> calls), in each of <c>Rounds</c> rounds.
/// </summary>
internal sealed record PeerSettings(double Seconds, int MinRepeats, int LatencyCalls, int Rounds);

/// <summary>
/// Ours, ONNX Runtime and PyTorch in one run, on the same network (sigmoid, quadratic cost, the same initial weights),
/// the same data and the same m and eta = 3: <c>dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks.Onnx -- --peers [--smoke] [--only TEXT] [--torch-coretype NAME]</c>
/// (<c>--only</c> keeps the cases whose name, such as <c>[784,100,10] m=100</c>, contains the text; <c>--torch-coretype</c>
/// has OpenBLAS run another CPU's kernels under PyTorch, which otherwise runs the ones OpenBLAS picks for this CPU).
/// For each case: training samples/s of one epoch (ours with 1 and 2 threads, PyTorch with 1 and 2), single-sample
/// inference latency (ours, ORT with IoBinding, PyTorch; 1 thread), and samples/s over a batch of 10,000 (each at 1
/// and 2 threads); every number the median of three rounds, each round's the median of its repetitions. First, the
/// check that the work is the same: one epoch over the first samples in order (no shuffle), ours against PyTorch in
/// float32 and float64. PyTorch runs as scripts/torch-peer.py (<see cref="TorchPeer"/>); where it cannot, one line
/// says why and the rest still runs.
/// </summary>
internal static class PeerHarness
{
    /// <summary>The command-line switch of this harness.</summary>
    public const string Switch = "--peers";

    private const float Eta = 3f;

    private static readonly PeerCase[] Cases =
        [new([784, 30, 10], 10, 8000, 1000), new([784, 100, 10], 100, 8000, 1000), new([784, 1024, 1024, 10], 100, 2000, 500)];

    // --smoke: the two small cases, a few samples, one round each; checks that the harness and the script still run.
    private static readonly PeerCase[] SmokeCases = [new([784, 30, 10], 10, 400, 100), new([784, 100, 10], 100, 400, 200)];

    public static int Run(string[] args)
    {
        bool smoke = args.Contains("--smoke");
        PeerSettings settings = smoke ? new PeerSettings(0.02, 1, 1000, 1) : new PeerSettings(1.0, 3, 200_000, 3);
        int core = Array.IndexOf(args, "--torch-coretype");
        string? coreType = core >= 0 && core + 1 < args.Length ? args[core + 1] : null;
        TorchPeer? torch = TorchPeer.Find(coreType, out string reason);
        Console.WriteLine(torch is null
            ? $"PyTorch peer skipped: {reason}."
            : $"PyTorch {torch.Version} on {torch.Blas} ({torch.Python} {torch.Script}); .NET {Environment.Version}, {Environment.ProcessorCount} cores; load average before: {LoadAverage()}");
        int at = Array.IndexOf(args, "--only");
        string? only = at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
        var rows = new List<PeerRow>();
        foreach (PeerCase c in (smoke ? SmokeCases : Cases).Where(c => only is null || c.Name.Contains(only, StringComparison.Ordinal)))
        {
            Console.Error.WriteLine($"peers: {c.Name}");
            rows.Add(Measure(c, torch, settings));
        }

        Print(rows, settings);
        Console.WriteLine($"Load average after: {LoadAverage()}");
        return rows.All(r => r.Check is null || r.Check.Agrees) ? 0 : 1;
    }

    private static PeerRow Measure(PeerCase c, TorchPeer? torch, PeerSettings settings)
    {
        string directory = Directory.CreateTempSubdirectory("backprop-peers-").FullName;
        try
        {
            using var fixture = new Fixture(c.Sizes); // Network(sizes, seed 1), 10,000 inputs, ORT sessions
            fixture.Check();
            (float[] x, float[] y, Dataset data) = TrainingData(c);
            WriteInputs(directory, c, fixture, x, y, settings);

            // Rounds alternate PyTorch (while our side is idle) and ours, so that a burst of load elsewhere on the
            // machine hits both sides alike; each number is the median over the rounds of each round's median.
            PeerCheck? check = null;
            var rounds = new List<PeerRow>();
            for (int round = 0; round < settings.Rounds; round++)
            {
                TorchResult? torch1 = torch?.Run(directory, 1, check: round == 0), torch2 = torch?.Run(directory, 2, check: false);
                check ??= torch is null ? null : Check(c, data, directory);
                rounds.Add(new PeerRow(c.Name,
                    Train(c, data, 1, settings), Train(c, data, 2, settings), torch1?.TrainSamplesPerSecond, torch2?.TrainSamplesPerSecond,
                    Latency(fixture.Ours, settings), Latency(fixture.OnnxBound, settings), torch1?.LatencyMicroseconds,
                    Throughput(() => fixture.OursBatched(1), settings), Throughput(() => fixture.OursBatched(2), settings),
                    Throughput(() => fixture.OnnxBatch(1), settings), Throughput(() => fixture.OnnxBatch(2), settings),
                    torch1?.InferenceSamplesPerSecond, torch2?.InferenceSamplesPerSecond, check));
            }

            return new PeerRow(c.Name,
                Median(rounds, r => r.Train1)!.Value, Median(rounds, r => r.Train2)!.Value, Median(rounds, r => r.Torch1), Median(rounds, r => r.Torch2),
                Median(rounds, r => r.Latency)!.Value, Median(rounds, r => r.OrtLatency)!.Value, Median(rounds, r => r.TorchLatency),
                Median(rounds, r => r.Batch1)!.Value, Median(rounds, r => r.Batch2)!.Value, Median(rounds, r => r.OrtBatch1)!.Value, Median(rounds, r => r.OrtBatch2)!.Value,
                Median(rounds, r => r.TorchBatch1), Median(rounds, r => r.TorchBatch2), check);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double? Median(List<PeerRow> rounds, Func<PeerRow, double?> value)
    {
        double[] values = [.. rounds.Select(value).OfType<double>().Order()];
        return values.Length == 0 ? null : HarnessArguments.Quantile(values, 0.5);
    }

    // MNIST-shaped synthetic data: inputs uniform in [0, 1), random labels, one-hot targets (fixed seed).
    private static (float[] X, float[] Y, Dataset Data) TrainingData(PeerCase c)
    {
        int inputs = c.Sizes[0], classes = c.Sizes[^1];
        var random = new Random(8000);
        var x = new float[c.TrainSamples * inputs];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = random.NextSingle();
        }

        var labels = new byte[c.TrainSamples];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = (byte)random.Next(classes);
        }

        Dataset data = Dataset.FromLabels(x, inputs, labels, classes);
        var y = new float[c.TrainSamples * classes];
        for (int i = 0; i < c.TrainSamples; i++)
        {
            data.Target(i).CopyTo(y.AsSpan(i * classes, classes));
        }

        return (x, y, data);
    }

    private static void WriteInputs(string directory, PeerCase c, Fixture fixture, float[] x, float[] y, PeerSettings settings)
    {
        for (int l = 1; l < c.Sizes.Length; l++)
        {
            TorchPeer.Write(Path.Combine(directory, $"w{l}.f32"), fixture.Network.Weights(l));
            TorchPeer.Write(Path.Combine(directory, $"b{l}.f32"), fixture.Network.Biases(l));
        }

        TorchPeer.Write(Path.Combine(directory, "train-x.f32"), x);
        TorchPeer.Write(Path.Combine(directory, "train-y.f32"), y);
        TorchPeer.Write(Path.Combine(directory, "infer-x.f32"), fixture.Batch);
        var manifest = new
        {
            sizes = c.Sizes, miniBatch = c.MiniBatch, eta = Eta, trainSamples = c.TrainSamples, checkSamples = c.CheckSamples,
            inferenceSamples = Fixture.BatchSize, seconds = settings.Seconds, minRepeats = settings.MinRepeats, latencyCalls = settings.LatencyCalls,
        };
        File.WriteAllText(Path.Combine(directory, "manifest.json"), JsonSerializer.Serialize(manifest));
    }

    /// <summary>Our epoch over the first CheckSamples in order, on one thread, against the script's float32 and float64 epochs.</summary>
    private static PeerCheck Check(PeerCase c, Dataset data, string directory)
    {
        var network = new Network(c.Sizes, seed: 1);
        using (var trainer = new Trainer(network, data.Slice(0, c.CheckSamples),
            new TrainingOptions { MiniBatchSize = c.MiniBatch, Eta = Eta, Shuffle = false, Threads = 1 }))
        {
            trainer.RunEpoch();
        }

        double largest = 0, ours32 = 0, ours64 = 0, theirs = 0;
        for (int l = 1; l < c.Sizes.Length; l++)
        {
            foreach ((string name, ReadOnlySpan<float> ours) in new[] { ($"w{l}", network.Weights(l).ToArray()), ($"b{l}", network.Biases(l).ToArray()) })
            {
                double[] t32 = TorchPeer.Read(Path.Combine(directory, $"check32-{name}.f32")), t64 = TorchPeer.Read(Path.Combine(directory, $"check64-{name}.f64"));
                if (t32.Length != ours.Length || t64.Length != ours.Length)
                {
                    throw new InvalidOperationException($"{name}: PyTorch wrote {t32.Length} and {t64.Length} values, ours has {ours.Length}.");
                }

                for (int i = 0; i < ours.Length; i++)
                {
                    largest = Math.Max(largest, Math.Abs(t64[i]));
                    ours32 = Math.Max(ours32, Math.Abs(ours[i] - t32[i]));
                    ours64 = Math.Max(ours64, Math.Abs(ours[i] - t64[i]));
                    theirs = Math.Max(theirs, Math.Abs(t32[i] - t64[i]));
                }
            }
        }

        return new PeerCheck(c.CheckSamples, c.CheckSamples / c.MiniBatch, largest, ours32, ours64, theirs);
    }

    private static double Train(PeerCase c, Dataset data, int threads, PeerSettings settings)
    {
        var network = new Network(c.Sizes, seed: 1);
        using var trainer = new Trainer(network, data, new TrainingOptions { MiniBatchSize = c.MiniBatch, Eta = Eta, Seed = 99, Threads = threads });
        WarmUp.Run(() => trainer.RunEpoch(), seconds: settings.Seconds / 4, minimumCalls: 1);
        return data.Count / MedianSeconds(() => trainer.RunEpoch(), settings);
    }

    /// <summary>Median per-call time in microseconds: each call timed on its own, after a warm-up.</summary>
    private static double Latency(Func<float> call, PeerSettings settings)
    {
        float sink = 0;
        WarmUp.Run(() => sink += call(), seconds: settings.Seconds / 4, minimumCalls: 100);
        var ticks = new long[settings.LatencyCalls];
        int calls = 0;
        long start = Stopwatch.GetTimestamp();
        while (calls < ticks.Length && (calls < 200 || Stopwatch.GetElapsedTime(start).TotalSeconds < settings.Seconds))
        {
            long t0 = Stopwatch.GetTimestamp();
            sink += call();
            ticks[calls++] = Stopwatch.GetTimestamp() - t0;
        }

        GC.KeepAlive(sink);
        long[] sorted = ticks[..calls];
        Array.Sort(sorted);
        return HarnessArguments.Quantile(sorted, 0.5) * 1e6 / Stopwatch.Frequency;
    }

    /// <summary>Samples per second over the batch of <see cref="Fixture.BatchSize"/>: the median round.</summary>
    private static double Throughput(Func<float> batch, PeerSettings settings)
    {
        float sink = batch();
        double seconds = MedianSeconds(() => sink += batch(), settings);
        GC.KeepAlive(sink);
        return Fixture.BatchSize / seconds;
    }

    private static double MedianSeconds(Action body, PeerSettings settings)
    {
        var times = new List<double>();
        long start = Stopwatch.GetTimestamp();
        while (times.Count < settings.MinRepeats || (times.Count < 30 && Stopwatch.GetElapsedTime(start).TotalSeconds < settings.Seconds))
        {
            long t0 = Stopwatch.GetTimestamp();
            body();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }

        double[] sorted = [.. times.Order()];
        return HarnessArguments.Quantile(sorted, 0.5);
    }

    private static void Print(List<PeerRow> rows, PeerSettings settings)
    {
        var o = CultureInfo.InvariantCulture;
        string N(double? v) => v is { } x ? x.ToString("N0", o) : "-";
        string R(double? a, double? b) => a is { } x && b is { } y ? (x / y).ToString("F2", o) + "x" : "-";
        string Us(double? v) => v is { } x ? x.ToString("F2", o) + " us" : "-";

        if (rows.Any(r => r.Check is not null))
        {
            PrintChecks(rows);
        }

        Console.WriteLine();
        Console.WriteLine($"Training, samples/s (median of {settings.Rounds} rounds of the median epoch, at least {settings.MinRepeats} epochs and {settings.Seconds} s a round), sigmoid, quadratic cost, SGD eta = {Eta}");
        Console.WriteLine();
        Console.WriteLine("| Network | Ours, 1 thread | Ours, 2 threads | PyTorch, 1 thread | PyTorch, 2 threads | Ours / PyTorch, 1 thread | Ours / PyTorch, 2 threads |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (PeerRow r in rows)
        {
            Console.WriteLine($"| {r.Name} | {N(r.Train1)} | {N(r.Train2)} | {N(r.Torch1)} | {N(r.Torch2)} | {R(r.Train1, r.Torch1)} | {R(r.Train2, r.Torch2)} |");
        }

        Console.WriteLine();
        Console.WriteLine($"Single-sample inference latency, median per call ({settings.Seconds} s of calls a round, median of {settings.Rounds} rounds), 1 thread (ORT with input and output bound once; PyTorch in inference_mode)");
        Console.WriteLine();
        Console.WriteLine("| Network | Ours | ORT | PyTorch | ORT / ours | PyTorch / ours |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (PeerRow r in rows)
        {
            Console.WriteLine($"| {r.Name} | {Us(r.Latency)} | {Us(r.OrtLatency)} | {Us(r.TorchLatency)} | {R(r.OrtLatency, r.Latency)} | {R(r.TorchLatency, r.Latency)} |");
        }

        Console.WriteLine();
        Console.WriteLine($"Batch inference of {Fixture.BatchSize:N0} random inputs, samples/s (median batch, median of {settings.Rounds} rounds; ours is BatchInference)");
        Console.WriteLine();
        Console.WriteLine("| Network | Ours, 1 thread | Ours, 2 threads | ORT, 1 thread | ORT, 2 threads | PyTorch, 1 thread | PyTorch, 2 threads | Ours / ORT, 1 / 2 threads | Ours / PyTorch, 1 / 2 threads |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (PeerRow r in rows)
        {
            Console.WriteLine($"| {r.Name} | {N(r.Batch1)} | {N(r.Batch2)} | {N(r.OrtBatch1)} | {N(r.OrtBatch2)} | {N(r.TorchBatch1)} | {N(r.TorchBatch2)} | " +
                $"{R(r.Batch1, r.OrtBatch1)} / {R(r.Batch2, r.OrtBatch2)} | {R(r.Batch1, r.TorchBatch1)} / {R(r.Batch2, r.TorchBatch2)} |");
        }

        Console.WriteLine();
    }

    private static void PrintChecks(List<PeerRow> rows)
    {
        var o = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine($"Same work: one epoch over the first samples in order (no shuffle), ours (1 thread) against PyTorch in float32 and float64; largest |difference| over all parameters");
        Console.WriteLine();
        Console.WriteLine("| Network | Samples (steps) | max abs param (f64) | ours - torch32 | ours - torch64 | torch32 - torch64 | Same work |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (PeerRow r in rows.Where(r => r.Check is not null))
        {
            PeerCheck k = r.Check!;
            Console.WriteLine(string.Create(o, $"| {r.Name} | {k.Samples} ({k.Steps}) | {k.Largest:F3} | {k.Ours32:0.0E+0} | {k.Ours64:0.0E+0} | {k.Torch32:0.0E+0} | {(k.Agrees ? "yes" : "NO")} |"));
        }

    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ')[..3]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}

/// <summary>One case's numbers: samples/s, microseconds; null where PyTorch did not run.</summary>
internal sealed record PeerRow(string Name, double Train1, double Train2, double? Torch1, double? Torch2,
    double Latency, double OrtLatency, double? TorchLatency, double Batch1, double Batch2, double OrtBatch1, double OrtBatch2,
    double? TorchBatch1, double? TorchBatch2, PeerCheck? Check);

/// <summary>
/// The largest differences after the check epoch. The work is the same when ours is as close to PyTorch's float64
/// epoch as PyTorch's own float32 epoch is (within 10x): a different step or cost would be far off, rounding is not.
/// </summary>
internal sealed record PeerCheck(int Samples, int Steps, double Largest, double Ours32, double Ours64, double Torch32)
{
    public bool Agrees => Ours64 <= (10 * Torch32) + (1e-7 * Largest);
}
