using System.Diagnostics;
using System.Globalization;
using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Data;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Benchmarks.Limits;

/// <summary>
/// Whole training epochs with the images in 4 KiB against 2 MiB pages, as ratios within one process, outside
/// BenchmarkDotNet: <c>dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks -- --paired-pages DIR [--rounds N]</c>,
/// DIR holding MNIST-format files (Fashion-MNIST's 47 MB of images is the case it was written for).
/// </summary>
/// <remarks>
/// The training images' bytes are held twice, in a pinned array left to 4 KiB pages (A) and in one advised for huge pages (B,
/// <see cref="HugePageArrays"/>), each with its own [784, 30, 10] trainer, and the two train alternately, one epoch of
/// each per round from the same parameters (A B on even rounds, B A on odd ones), so that drift slower than a round
/// cancels in the per-round ratio, as in <see cref="Ladder.PairedHarness"/>. Each timed epoch starts after a pause
/// that lets any worker thread fall asleep.
/// </remarks>
public static class HugePagePairedHarness
{
    /// <summary>The command-line switch that selects this harness; the data directory follows it.</summary>
    public const string Switch = "--paired-pages";

    private const int DefaultRounds = 41, SettleMilliseconds = 20;

    /// <summary>Runs the harness; returns the process exit code (2 for a bad argument).</summary>
    public static int Run(string[] args)
    {
        int at = Array.IndexOf(args, Switch);
        if (at + 1 >= args.Length || !Directory.Exists(args[at + 1]))
        {
            Console.Error.WriteLine($"{Switch} needs a directory of MNIST-format files.");
            return 2;
        }

        if (!HarnessArguments.TryCount(args, "--rounds", DefaultRounds, minimum: 3, out int rounds))
        {
            return 2;
        }

        Dataset training = MnistData.Load(args[at + 1]).Training;
        byte[] labels = [.. Enumerable.Range(0, training.Count).Select(i => (byte)training.Label(i))];
        byte[] small = HugePageArrays.Allocate(training.ByteInputs.Length, huge: false);
        byte[] huge = HugePageArrays.Allocate(training.ByteInputs.Length, huge: true);
        training.ByteInputs.CopyTo(small);
        training.ByteInputs.CopyTo(huge);
        Console.WriteLine("VectorInfo: " + MachineInfo.Describe());
        Console.WriteLine($"A: {HugePageArrays.Report(small)}; B: {HugePageArrays.Report(huge)}. One epoch of {training.Count:N0} images per side and round, {rounds} rounds:");
        Console.WriteLine();
        Console.WriteLine("| Threads | A, median s/epoch | B, median s/epoch | B / A time, median | B / A, quartiles |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        foreach (int threads in new[] { 1, 2 })
        {
            using var a = new Side(small, labels, threads);
            using var b = new Side(huge, labels, threads);
            double[] timeA = new double[rounds], timeB = new double[rounds], ratio = new double[rounds];
            for (int r = -2; r < rounds; r++)
            {
                // Two untimed rounds first (tiered compilation, the caches); then A B on even rounds, B A on odd ones.
                (double ta, double tb) = r % 2 == 0 ? (a.Epoch(), b.Epoch()) : Swap(b.Epoch(), a.Epoch());
                if (r >= 0)
                {
                    (timeA[r], timeB[r], ratio[r]) = (ta, tb, tb / ta);
                }
            }

            Array.Sort(timeA);
            Array.Sort(timeB);
            Array.Sort(ratio);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {threads} | {HarnessArguments.Quantile(timeA, 0.5):F4} | {HarnessArguments.Quantile(timeB, 0.5):F4} | {HarnessArguments.Quantile(ratio, 0.5):F3} | {HarnessArguments.Quantile(ratio, 0.25):F3} - {HarnessArguments.Quantile(ratio, 0.75):F3} |"));
        }

        return 0;
    }

    private static (double A, double B) Swap(double b, double a) => (a, b);

    /// <summary>One side: its own network and trainer over its own copy of the bytes; every epoch from the same parameters.</summary>
    private sealed class Side : IDisposable
    {
        private readonly Network _network = new([784, 30, 10], seed: 1);
        private readonly Trainer _trainer;
        private readonly float[] _initial;

        public Side(byte[] bytes, byte[] labels, int threads)
        {
            var data = Dataset.FromLabels(bytes, 784, 255f, labels, 10);
            _trainer = new Trainer(_network, data, new TrainingOptions { MiniBatchSize = 10, Eta = 3f, Seed = 5, Threads = threads });
            _initial = _network.Parameters.ToArray();
        }

        public double Epoch()
        {
            _network.SetParameters(_initial);
            Thread.Sleep(SettleMilliseconds);
            long start = Stopwatch.GetTimestamp();
            _trainer.RunEpoch();
            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        public void Dispose() => _trainer.Dispose();
    }
}
