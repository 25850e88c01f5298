using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Runtime;
using BenchmarkDotNet.Attributes;
using static Backprop.Simd.Benchmarks.EndToEnd.TrainingFixture;
using static TorchSharp.torch;

namespace Backprop.Simd.Benchmarks.TorchSharp;

/// <summary>
/// One epoch over all 8,000 samples with m = 10. TorchSharp's mini-batches are cut from one fixed shuffle ahead of
/// time (the SIMD core shuffles its index array every epoch, inside the measurement). Mean is per sample.
/// </summary>
public class TorchEpochBenchmarks : TorchPeerBenchmark
{
    private Trainer _sgd = null!;
    private (Tensor X, Tensor Y)[] _batches = null!;

    /// <summary>Setup of <see cref="SimdCore"/>.</summary>
    [GlobalSetup(Target = nameof(SimdCore))]
    public void SetupSimdCore()
    {
        SetupSimd();
        _sgd = new Trainer(Fixture.Network, Fixture.Data, new TrainingOptions { MiniBatchSize = MiniBatchSize, Eta = Eta, Seed = 99 });
        WarmUp.Run(() => SimdCore());
    }

    /// <summary>Setup of <see cref="Torch1Thread"/>.</summary>
    [GlobalSetup(Target = nameof(Torch1Thread))]
    public void SetupTorch1Thread()
    {
        SetupTorchEpoch(1);
        WarmUp.Run(() => Torch1Thread());
    }

    /// <summary>Setup of <see cref="TorchDefaultThreads"/>.</summary>
    [GlobalSetup(Target = nameof(TorchDefaultThreads))]
    public void SetupTorchDefaultThreads()
    {
        SetupTorchEpoch(0);
        WarmUp.Run(() => TorchDefaultThreads());
    }

    /// <summary>The SIMD core's <see cref="Trainer.RunEpoch"/>.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = EpochSamples)]
    [Work(Samples = EpochSamples)]
    public EpochResult SimdCore() => _sgd.RunEpoch();

    /// <summary>TorchSharp with <c>torch.set_num_threads(1)</c>.</summary>
    [Benchmark(OperationsPerInvoke = EpochSamples)]
    [BenchmarkCategory(Categories.Torch)]
    [Work(Samples = EpochSamples)]
    public void Torch1Thread() => Epoch();

    /// <summary>TorchSharp with its default thread count.</summary>
    [Benchmark(OperationsPerInvoke = EpochSamples)]
    [BenchmarkCategory(Categories.Torch)]
    [Work(Samples = EpochSamples)]
    public void TorchDefaultThreads() => Epoch();

    private void SetupTorchEpoch(int threads)
    {
        SetupTorch(threads);
        _batches = Fixture.Batches.Select(BatchTensors).ToArray();
    }

    private void Epoch()
    {
        foreach ((Tensor x, Tensor y) in _batches)
        {
            TrainStep(x, y);
        }
    }
}
