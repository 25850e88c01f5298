using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Runtime;
using BenchmarkDotNet.Attributes;
using static Backprop.Simd.Benchmarks.EndToEnd.TrainingFixture;
using static TorchSharp.torch;

namespace Backprop.Simd.Benchmarks.TorchSharp;

/// <summary>One SGD step on a mini-batch of 10, cycling through the same 100 mini-batches as <c>MiniBatchBenchmarks</c>.</summary>
public class TorchMiniBatchBenchmarks : TorchPeerBenchmark
{
    private const int BatchesCycled = 100;
    private (Tensor X, Tensor Y)[] _batches = null!;
    private int _next;

    /// <summary>Setup of <see cref="SimdCore"/>.</summary>
    [GlobalSetup(Target = nameof(SimdCore))]
    public void SetupSimdCore()
    {
        SetupSimd();
        WarmUp.Run(() => SimdCore());
    }

    /// <summary>Setup of <see cref="Torch1Thread"/>.</summary>
    [GlobalSetup(Target = nameof(Torch1Thread))]
    public void SetupTorch1Thread()
    {
        SetupTorchBatches(1);
        WarmUp.Run(() => Torch1Thread());
    }

    /// <summary>Setup of <see cref="TorchDefaultThreads"/>.</summary>
    [GlobalSetup(Target = nameof(TorchDefaultThreads))]
    public void SetupTorchDefaultThreads()
    {
        SetupTorchBatches(0);
        WarmUp.Run(() => TorchDefaultThreads());
    }

    /// <summary>The SIMD core: the mini-batch's gradient (<see cref="Backpropagation"/>), then <c>params -= (eta/m) nabla</c>.</summary>
    [Benchmark(Baseline = true)]
    [Work(Samples = MiniBatchSize)]
    public void SimdCore()
    {
        int[] batch = Fixture.Batches[_next];
        float[] x = batch.SelectMany(i => Fixture.Data.Input(i).ToArray()).ToArray(), y = batch.SelectMany(i => Fixture.Data.Target(i).ToArray()).ToArray();
        Backpropagation.Backprop(Fixture.Network, Fixture.Workspace, x, y);
        float[] p = Fixture.Network.Parameters.ToArray();
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(Fixture.Workspace.Nabla, -Eta / batch.Length, p, p);
        Fixture.Network.SetParameters(p);
        _next = _next + 1 == BatchesCycled ? 0 : _next + 1;
    }

    /// <summary>TorchSharp with <c>torch.set_num_threads(1)</c>.</summary>
    [Benchmark]
    [BenchmarkCategory(Categories.Torch)]
    [Work(Samples = MiniBatchSize)]
    public void Torch1Thread() => Step();

    /// <summary>TorchSharp with its default thread count.</summary>
    [Benchmark]
    [BenchmarkCategory(Categories.Torch)]
    [Work(Samples = MiniBatchSize)]
    public void TorchDefaultThreads() => Step();

    private void SetupTorchBatches(int threads)
    {
        SetupTorch(threads);
        _batches = Fixture.Batches.Take(BatchesCycled).Select(BatchTensors).ToArray();
    }

    private void Step()
    {
        TrainStep(_batches[_next].X, _batches[_next].Y);
        _next = _next + 1 == BatchesCycled ? 0 : _next + 1;
    }
}
