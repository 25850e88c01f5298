using System.Diagnostics;
using System.Globalization;
using Backprop.Simd.Benchmarks.EndToEnd;
using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Benchmarks.Ladder.PerSample;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>
/// Speedups measured as ratios within one process, outside BenchmarkDotNet:
/// <c>dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks -- --paired [--rounds N] [--cases 784-30-10:10,...] [--bytes]</c>.
/// </summary>
/// <remarks>
/// On a shared machine the speed of the same code drifts by 10-30% within minutes, and BenchmarkDotNet measures two
/// methods minutes apart, in different processes. Here both sides of a comparison train the same epoch of
/// <see cref="TrainingFixture"/> data, alternately, in the same process: round r times one epoch of A and one of B
/// (in the order A B on even rounds, B A on odd ones), each from the same starting parameters, and the ratio of the
/// two throughputs is taken per round, so drift slower than one round cancels. Each timed epoch starts after a pause
/// that lets any worker thread fall asleep. Two threads appear twice: sharing every mini-batch, and as a trainer
/// runs them by default, shared or alone as timing says (<see cref="TrainingOptions.ChooseThreads"/>). <c>--cases</c>
/// times only the one- against two-thread pairs of the networks and mini-batch sizes it lists (sizes:m, comma-separated) instead of the ladder's cases;
/// <c>--bytes</c> holds the inputs as bytes, widened per mini-batch as MNIST files train. The table gives both sides' median throughput and the median and quartiles
/// of the per-round ratio B / A. The per-sample pair compares the separate passes of the ladder's rung 2 with its
/// fused rung 2', which also prefetches the next input: run with <c>BACKPROP_SIMD_PREFETCH=0</c> for the fusions alone.
/// </remarks>
public static class PairedHarness
{
    /// <summary>The command-line switch that selects this harness instead of BenchmarkDotNet.</summary>
    public const string Switch = "--paired";

    /// <summary>Pause before each timed epoch, longer than a worker's spin window.</summary>
    private const int SettleMilliseconds = 20;

    /// <summary>Default number of rounds per pair.</summary>
    public const int DefaultRounds = 41;

    /// <summary>Runs the harness; returns the process exit code (2 for a bad argument).</summary>
    public static int Run(string[] args)
    {
        if (!HarnessArguments.TryCount(args, "--rounds", DefaultRounds, minimum: 3, out int rounds))
        {
            return 2;
        }

        IReadOnlyList<LadderCase> cases = LadderCase.All;
        int listed = Array.IndexOf(args, "--cases");
        if (listed >= 0 && !TryCases(listed + 1 < args.Length ? args[listed + 1] : "", out cases))
        {
            Console.Error.WriteLine("--cases needs networks and mini-batch sizes such as 784-30-10:10,784-32-10:10.");
            return 2;
        }

        bool bytes = args.Contains("--bytes");
        Console.WriteLine("VectorInfo: " + MachineInfo.Describe());
        Console.WriteLine($"One epoch of {TrainingFixture.EpochSamples:N0} synthetic samples ({(bytes ? "bytes" : "floats")}) per side and round, eta {TrainingFixture.Eta}, {rounds} rounds per pair:");
        Console.WriteLine();
        Console.WriteLine("| Case | A | B | A, median samples/s | B, median samples/s | B / A, median | B / A, quartiles |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|");
        foreach (LadderCase c in cases)
        {
            using Trainer one = Trainer(c, threads: 1, bytes: bytes);
            using Trainer two = Trainer(c, threads: 2, bytes: bytes, choose: false);
            Print(c, "batched, 1 thread", "batched, 2 threads", Measure(new Side(one.Network, () => one.RunEpoch()), new Side(two.Network, () => two.RunEpoch()), rounds));
            using Trainer chosen = Trainer(c, threads: 2, bytes: bytes, choose: true);
            Result timed = Measure(new Side(one.Network, () => one.RunEpoch()), new Side(chosen.Network, () => chosen.RunEpoch()), rounds);
            Print(c, "batched, 1 thread", string.Create(CultureInfo.InvariantCulture, $"batched, 2 threads timed ({chosen.SharedFraction * 100:F0}% shared)"), timed);
        }

        foreach (LadderCase c in listed >= 0 ? [] : LadderCase.All)
        {
            var separate = new TrainingFixture(c.Sizes);
            var fused = new TrainingFixture(c.Sizes);
            var a = new PerSampleTrainer(separate.Network);
            var b = new PerSampleTrainer(fused.Network);
            Print(c, "per-sample, separate passes", "per-sample, fused",
                Measure(new Side(separate.Network, () => a.Epoch(separate.Data, separate.Order, c.MiniBatch, TrainingFixture.Eta, fused: false)),
                    new Side(fused.Network, () => b.Epoch(fused.Data, fused.Order, c.MiniBatch, TrainingFixture.Eta, fused: true)), rounds));
        }

        return 0;
    }

    private static bool TryCases(string text, out IReadOnlyList<LadderCase> cases)
    {
        var parsed = new List<LadderCase>();
        cases = parsed;
        foreach (string item in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = item.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int m) || m < 1
                || parts[0].Split('-').Any(n => !int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size < 1))
            {
                return false;
            }

            parsed.Add(new LadderCase(parts[0], m));
        }

        return parsed.Count > 0;
    }

    /// <summary>A trainer over its own copy of the case's fixture (so that the two sides do not share parameters).</summary>
    private static Trainer Trainer(LadderCase c, int threads, bool bytes, bool choose = false)
    {
        var fixture = new TrainingFixture(c.Sizes, bytes);
        return new Trainer(fixture.Network, fixture.Data, new TrainingOptions
        {
            MiniBatchSize = c.MiniBatch, Eta = TrainingFixture.Eta, Seed = 99, Threads = threads, ChooseThreads = choose,
        });
    }

    private static Result Measure(Side a, Side b, int rounds)
    {
        for (int i = 0; i < 3; i++)
        {
            a.Rate();
            b.Rate();
        }

        double[] rateA = new double[rounds], rateB = new double[rounds], ratio = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            if (r % 2 == 0)
            {
                rateA[r] = a.Rate();
                rateB[r] = b.Rate();
            }
            else
            {
                rateB[r] = b.Rate();
                rateA[r] = a.Rate();
            }

            ratio[r] = rateB[r] / rateA[r];
        }

        Array.Sort(rateA);
        Array.Sort(rateB);
        Array.Sort(ratio);
        return new Result(HarnessArguments.Quantile(rateA, 0.5), HarnessArguments.Quantile(rateB, 0.5), HarnessArguments.Quantile(ratio, 0.25),
            HarnessArguments.Quantile(ratio, 0.5), HarnessArguments.Quantile(ratio, 0.75));
    }

    private static void Print(LadderCase c, string a, string b, Result r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {c} | {a} | {b} | {r.MedianA:N0} | {r.MedianB:N0} | {r.Ratio:F2}x | {r.Lower:F2}x - {r.Upper:F2}x |"));

    private sealed record Result(double MedianA, double MedianB, double Lower, double Ratio, double Upper);

    /// <summary>
    /// One side of a comparison. Every timed epoch starts from the network's initial parameters: at eta = 3 on random
    /// labels the two sides' networks would otherwise drift apart (different sample orders) into differently saturated
    /// states, and the element-wise work (exp) does not cost the same everywhere.
    /// </summary>
    private sealed class Side(Network network, Action epoch)
    {
        private readonly float[] _initial = network.Parameters.ToArray();

        public double Rate()
        {
            network.SetParameters(_initial);
            // Past any worker's spin window, so that a two-thread side's spinning worker never competes with the other side's timed epoch; it starts asleep, as a first epoch does.
            Thread.Sleep(SettleMilliseconds);
            long start = Stopwatch.GetTimestamp();
            epoch();
            return TrainingFixture.EpochSamples / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
    }
}
