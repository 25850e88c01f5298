using Backprop.Simd.Benchmarks.Infrastructure;
using BenchmarkDotNet.Attributes;

namespace Backprop.Simd.Benchmarks.Onnx;

/// <summary>One sample through [784, h, 10]: FeedForward against ONNX Runtime (1 intra-op thread) with IoBinding and with plain Run.</summary>
[Config(typeof(OnnxConfig))]
public class SingleSample
{
    private Fixture _fixture = null!;

    [Params("784,30,10", "784,100,10")]
    public string Sizes { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _fixture = new Fixture(Sizes.Split(',').Select(int.Parse).ToArray());
        _fixture.Check();
    }

    [GlobalCleanup]
    public void Cleanup() => _fixture.Dispose();

    [Benchmark(Baseline = true, Description = "FeedForward")]
    public float FeedForward() => _fixture.Ours();

    [Benchmark(Description = "ORT IoBinding")]
    public float OrtIoBinding() => _fixture.OnnxBound();

    [Benchmark(Description = "ORT Run")]
    public float OrtRun() => _fixture.OnnxRun();
}

/// <summary>10,000 samples (random or MNIST digits): FeedForward one after another and BatchInference against ONNX Runtime on the whole [10000, 784] batch at 1 and 2 intra-op threads.</summary>
[Config(typeof(OnnxConfig))]
public class Batch
{
    private Fixture _fixture = null!;

    [Params("784,30,10", "784,100,10")]
    public string Sizes { get; set; } = "";

    /// <summary>Uniform random inputs (no zeros), or the bundled MNIST digits, whose blank pixels BatchInference skips.</summary>
    [Params("random", BundledDigits.Name)]
    public string Inputs { get; set; } = "random";

    [GlobalSetup]
    public void Setup()
    {
        _fixture = new Fixture(Sizes.Split(',').Select(int.Parse).ToArray(), Inputs);
        _fixture.Check();
    }

    [GlobalCleanup]
    public void Cleanup() => _fixture.Dispose();

    [Benchmark(Baseline = true, Description = "FeedForward loop", OperationsPerInvoke = Fixture.BatchSize)]
    public float FeedForwardLoop() => _fixture.OursBatch();

    [Benchmark(Description = "BatchInference, 1 thread", OperationsPerInvoke = Fixture.BatchSize)]
    public float BatchedOneThread() => _fixture.OursBatched(1);

    [Benchmark(Description = "BatchInference, 2 threads", OperationsPerInvoke = Fixture.BatchSize)]
    public float BatchedTwoThreads() => _fixture.OursBatched(2);

    [Benchmark(Description = "ORT batch, 1 thread", OperationsPerInvoke = Fixture.BatchSize)]
    public float OrtOneThread() => _fixture.OnnxBatch(1);

    [Benchmark(Description = "ORT batch, 2 threads", OperationsPerInvoke = Fixture.BatchSize)]
    public float OrtTwoThreads() => _fixture.OnnxBatch(2);
}
