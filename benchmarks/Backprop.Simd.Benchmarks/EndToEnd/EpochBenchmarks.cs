using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Reference;
using Backprop.Simd.Runtime;
using BenchmarkDotNet.Attributes;
using static Backprop.Simd.Benchmarks.EndToEnd.TrainingFixture;

namespace Backprop.Simd.Benchmarks.EndToEnd;

/// <summary>
/// One epoch of SGD (m = 10, eta = 3). The SIMD core trains on all 8,000 samples; the naive reference, about a hundred
/// times slower, on the first <see cref="ReferenceSamples"/> of the same shuffled order. <c>OperationsPerInvoke</c> is
/// the number of samples, so the Mean column is the time PER SAMPLE and the ratio compares like with like.
/// </summary>
[MemoryDiagnoser]
public class EpochBenchmarks
{
    /// <summary>Samples in the reference's (shortened) epoch.</summary>
    public const int ReferenceSamples = 1000;

    private TrainingFixture _fixture = null!;
    private ReferenceNetwork _reference = null!;
    private List<(double[] X, double[] Y)> _referenceData = null!;
    private int[] _referenceOrder = null!;
    private Trainer _sgd = null!;

    /// <summary>Neurons per layer.</summary>
    [Params(Small, Wide)]
    public string Sizes { get; set; } = Small;

    /// <summary>Setup of <see cref="Reference"/>: the shared setup, then a warm-up (see <see cref="WarmUp"/>).</summary>
    [GlobalSetup(Target = nameof(Reference))]
    public void SetupReference()
    {
        Setup();
        WarmUp.Run(() => Reference());
    }

    /// <summary>Setup of <see cref="SimdCore"/>: the shared setup, then a warm-up.</summary>
    [GlobalSetup(Target = nameof(SimdCore))]
    public void SetupSimdCore()
    {
        Setup();
        WarmUp.Run(() => SimdCore());
    }

    /// <summary>Builds both networks from the same parameters.</summary>
    private void Setup()
    {
        MachineInfo.PrintOnce();
        _fixture = new TrainingFixture(Sizes);
        _reference = _fixture.CreateReference();
        _referenceData = _fixture.Order.Take(ReferenceSamples).Select(_fixture.ReferenceSample).ToList();
        _referenceOrder = Enumerable.Range(0, ReferenceSamples).ToArray();
        _sgd = new Trainer(_fixture.Network, _fixture.Data, new TrainingOptions { MiniBatchSize = MiniBatchSize, Eta = Eta, Seed = 99 });
    }

    /// <summary>network.py's <c>SGD</c> for one epoch of <see cref="ReferenceSamples"/> samples, no evaluation.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = ReferenceSamples)]
    [Work(Samples = ReferenceSamples)]
    public List<int> Reference() => _reference.Sgd(_referenceData, epochs: 1, MiniBatchSize, Eta, _ => _referenceOrder);

    /// <summary>The SIMD core's <see cref="Trainer.RunEpoch"/> over all <see cref="EpochSamples"/> samples (shuffle included), no evaluation.</summary>
    [Benchmark(OperationsPerInvoke = EpochSamples)]
    [Work(Samples = EpochSamples)]
    [InstructionSetJobs]
    public EpochResult SimdCore() => _sgd.RunEpoch();
}
