using System.Numerics.Tensors;
using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Reference;
using Backprop.Simd.Runtime;
using BenchmarkDotNet.Attributes;
using static Backprop.Simd.Benchmarks.EndToEnd.TrainingFixture;

namespace Backprop.Simd.Benchmarks.EndToEnd;

/// <summary>
/// One step of mini-batch SGD (<c>update_mini_batch</c>) on 10 samples: the mini-batch's gradient, then the parameter
/// update. Each invocation takes the next of 100 fixed mini-batches, so the network keeps training as it would in an epoch.
/// </summary>
[MemoryDiagnoser]
public class MiniBatchBenchmarks
{
    private const int BatchesCycled = 100;
    private TrainingFixture _fixture = null!;
    private ReferenceNetwork _reference = null!;
    private List<(double[] X, double[] Y)>[] _referenceBatches = null!;
    private (float[] X, float[] Y)[] _batches = null!;
    private int _next;

    /// <summary>Neurons per layer.</summary>
    [Params(Small, Wide)]
    public string Sizes { get; set; } = Small;

    /// <summary>Setup of <see cref="Reference"/>: the shared setup, then a warm-up (see <see cref="WarmUp"/>).</summary>
    [GlobalSetup(Target = nameof(Reference))]
    public void SetupReference()
    {
        Setup();
        WarmUp.Run(Reference);
    }

    /// <summary>Setup of <see cref="SimdCore"/>: the shared setup, then a warm-up.</summary>
    [GlobalSetup(Target = nameof(SimdCore))]
    public void SetupSimdCore()
    {
        Setup();
        WarmUp.Run(SimdCore);
    }

    /// <summary>Builds both networks from the same parameters.</summary>
    private void Setup()
    {
        MachineInfo.PrintOnce();
        _fixture = new TrainingFixture(Sizes);
        _reference = _fixture.CreateReference();
        _referenceBatches = _fixture.Batches.Take(BatchesCycled).Select(b => b.Select(_fixture.ReferenceSample).ToList()).ToArray();
        _batches = _fixture.Batches.Take(BatchesCycled).Select(b => (b.SelectMany(i => _fixture.Data.Input(i).ToArray()).ToArray(), b.SelectMany(i => _fixture.Data.Target(i).ToArray()).ToArray())).ToArray();
    }

    /// <summary>network.py's <c>update_mini_batch</c>, line by line, in double with jagged arrays.</summary>
    [Benchmark(Baseline = true)]
    [Work(Samples = MiniBatchSize)]
    public void Reference()
    {
        _reference.UpdateMiniBatch(_referenceBatches[_next], Eta);
        _next = _next + 1 == BatchesCycled ? 0 : _next + 1;
    }

    /// <summary>The SIMD core: <see cref="Backpropagation.Backprop(Network, Workspace, ReadOnlySpan{float}, ReadOnlySpan{float})"/> on the gathered batch, then <c>params -= (eta/m) nabla</c>.</summary>
    [Benchmark]
    [Work(Samples = MiniBatchSize)]
    [InstructionSetJobs]
    public void SimdCore()
    {
        (float[] x, float[] y) = _batches[_next];
        Backpropagation.Backprop(_fixture.Network, _fixture.Workspace, x, y);
        Span<float> p = _fixture.Network.MutableParameters;
        TensorPrimitives.MultiplyAdd(_fixture.Workspace.Nabla, -Eta / MiniBatchSize, p, p);
        _fixture.Network.ParametersChanged();
        _next = _next + 1 == BatchesCycled ? 0 : _next + 1;
    }
}
