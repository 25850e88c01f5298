using Backprop.Simd.Benchmarks.EndToEnd;
using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Runtime;
using BenchmarkDotNet.Attributes;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>
/// <see cref="LadderCase.Wide"/>, <c>[784,1024,1024,10]</c> at m = 100, measured as <see cref="LadderBenchmarks"/>
/// measures the two small cases (the same 8,000 synthetic samples, shuffled order and trainer; Mean per sample), but
/// only the library's batched path (rungs 4-6) and only in the default job: an epoch here takes one to two seconds,
/// so the naive rungs and the scalar job would take minutes per iteration.
/// </summary>
[MemoryDiagnoser]
public class WideLadderBenchmarks
{
    private const int Samples = TrainingFixture.EpochSamples;

    private TrainingFixture _fixture = null!;
    private Trainer _trainer = null!;

    /// <summary>The one case, as a parameter so that the GFLOP/s column counts its flops per sample.</summary>
    [ParamsSource(nameof(Cases))]
    public LadderCase Case { get; set; } = LadderCase.Wide;

    /// <summary>The values of <see cref="Case"/>.</summary>
    public static IEnumerable<LadderCase> Cases => [LadderCase.Wide];

    /// <summary>Setup of <see cref="Batched"/>.</summary>
    [GlobalSetup(Target = nameof(Batched))]
    public void SetupBatched() => SetupTrainer(threads: 1);

    /// <summary>Setup of <see cref="BatchedTwoThreads"/>.</summary>
    [GlobalSetup(Target = nameof(BatchedTwoThreads))]
    public void SetupBatchedTwoThreads() => SetupTrainer(threads: 2);

    /// <summary>Stops the trainer's worker thread, if any.</summary>
    [GlobalCleanup]
    public void Cleanup() => _trainer?.Dispose();

    /// <summary>As <see cref="LadderBenchmarks.Batched"/>: one epoch on one thread.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Samples)]
    [Work(Samples = Samples)]
    public EpochResult Batched() => _trainer.RunEpoch();

    /// <summary>As <see cref="LadderBenchmarks.BatchedTwoThreads"/>.</summary>
    [Benchmark(OperationsPerInvoke = Samples)]
    [Work(Samples = Samples)]
    public EpochResult BatchedTwoThreads() => _trainer.RunEpoch();

    private void SetupTrainer(int threads)
    {
        MachineInfo.PrintOnce();
        LadderCase c = Case;
        Console.WriteLine($"LadderInfo: SimdWidth.Bits = {Backprop.Simd.Kernels.SimdWidth.Bits}, {c}, {c.FlopsPerSample:N0} flops per sample");
        _fixture = new TrainingFixture(c.Sizes);
        _trainer = new Trainer(_fixture.Network, _fixture.Data, new TrainingOptions
        {
            MiniBatchSize = c.MiniBatch,
            Eta = TrainingFixture.Eta,
            Seed = 99,
            Threads = threads,
            ChooseThreads = false, // the rung measures the sharing itself, on every mini-batch
        });
        WarmUp.Run(() => _trainer.RunEpoch(), seconds: 0.5);
    }
}
