using Backprop.Simd.Benchmarks.Infrastructure;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Backprop.Simd.Benchmarks.TorchSharp;

/// <summary>Latency of one forward pass of a single sample, cycling through the same 1,000 inputs as <c>FeedForwardBenchmarks</c>.</summary>
public class TorchFeedForwardBenchmarks : TorchPeerBenchmark
{
    private const int InputsCycled = 1000;
    private Tensor[] _inputs = null!;
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
        SetupTorchInputs(1);
        WarmUp.Run(() => Torch1Thread());
    }

    /// <summary>Setup of <see cref="TorchDefaultThreads"/>.</summary>
    [GlobalSetup(Target = nameof(TorchDefaultThreads))]
    public void SetupTorchDefaultThreads()
    {
        SetupTorchInputs(0);
        WarmUp.Run(() => TorchDefaultThreads());
    }

    /// <summary>The SIMD core's <see cref="Network.FeedForward"/>; returns the first output.</summary>
    [Benchmark(Baseline = true)]
    [Work(Samples = 1)]
    public float SimdCore()
    {
        float first = Fixture.Network.FeedForward(Fixture.Data.Input(_next), Fixture.Workspace)[0];
        _next = _next + 1 == InputsCycled ? 0 : _next + 1;
        return first;
    }

    /// <summary>TorchSharp with <c>torch.set_num_threads(1)</c>, under <c>no_grad</c>; returns the first output.</summary>
    [Benchmark]
    [BenchmarkCategory(Categories.Torch)]
    [Work(Samples = 1)]
    public float Torch1Thread() => Forward();

    /// <summary>TorchSharp with its default thread count.</summary>
    [Benchmark]
    [BenchmarkCategory(Categories.Torch)]
    [Work(Samples = 1)]
    public float TorchDefaultThreads() => Forward();

    private void SetupTorchInputs(int threads)
    {
        SetupTorch(threads);
        _inputs = Enumerable.Range(0, InputsCycled)
            .Select(i => torch.tensor(Fixture.Data.Input(i).ToArray(), [1, Fixture.Data.InputSize]))
            .ToArray();
    }

    private float Forward()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        float first = Model.forward(_inputs[_next]).data<float>()[0];
        _next = _next + 1 == InputsCycled ? 0 : _next + 1;
        return first;
    }
}
