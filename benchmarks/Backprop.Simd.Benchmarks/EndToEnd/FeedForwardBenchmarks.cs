using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Reference;
using BenchmarkDotNet.Attributes;
using static Backprop.Simd.Benchmarks.EndToEnd.TrainingFixture;

namespace Backprop.Simd.Benchmarks.EndToEnd;

/// <summary>Latency of one <c>feedforward</c> of a single sample (inference), cycling through 1,000 inputs.</summary>
[MemoryDiagnoser]
public class FeedForwardBenchmarks
{
    private const int InputsCycled = 1000;
    private TrainingFixture _fixture = null!;
    private ReferenceNetwork _reference = null!;
    private double[][] _referenceInputs = null!;
    private int _next;

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
        _referenceInputs = Enumerable.Range(0, InputsCycled).Select(i => _fixture.ReferenceSample(i).X).ToArray();
    }

    /// <summary>network.py's <c>feedforward</c>.</summary>
    [Benchmark(Baseline = true)]
    [Work(Samples = 1)]
    public double[] Reference()
    {
        double[] output = _reference.FeedForward(_referenceInputs[_next]);
        _next = _next + 1 == InputsCycled ? 0 : _next + 1;
        return output;
    }

    /// <summary>The SIMD core's <see cref="Network.FeedForward"/>; returns the first output so the work cannot be dropped.</summary>
    [Benchmark]
    [Work(Samples = 1)]
    [InstructionSetJobs]
    public float SimdCore()
    {
        float first = _fixture.Network.FeedForward(_fixture.Data.Input(_next), _fixture.Workspace)[0];
        _next = _next + 1 == InputsCycled ? 0 : _next + 1;
        return first;
    }
}
