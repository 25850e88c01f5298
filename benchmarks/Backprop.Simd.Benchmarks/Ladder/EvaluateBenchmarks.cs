using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Data;
using Backprop.Simd.Runtime;
using BenchmarkDotNet.Attributes;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>
/// Test-set-style inference throughput: counting the correct answers over <see cref="Count"/> samples of
/// [784,30,10], one sample at a time through <see cref="Network.FeedForward"/>'s kernels, and in blocks of
/// <see cref="BatchInference.DefaultBlockSize"/>: through the training forward kernel, through the outer-product kernel without
/// and with skipping, and that on two threads (<see cref="Trainer.Evaluate"/>), on uniform random inputs (no zeros: the dense rate) and on the 10,000 bundled MNIST
/// digits (<see cref="BundledDigits"/>; the batched pass skips their blank pixels). <c>OperationsPerInvoke</c> is the
/// sample count: Mean is per sample, and the flops column counts the dense work.
/// </summary>
[MemoryDiagnoser]
public class EvaluateBenchmarks
{
    /// <summary>Samples evaluated per invocation (the size of the MNIST test set).</summary>
    public const int Count = 10_000;

    /// <summary>Forward multiply-adds of one sample, times 2: 784 x 30 + 30 x 10 = 23,820 multiply-adds.</summary>
    private const double ForwardFlops = 2.0 * ((784 * 30) + (30 * 10));

    /// <summary>"random" (uniform in [0, 1)) or <see cref="BundledDigits.Name"/>.</summary>
    [Params("random", BundledDigits.Name)]
    public string Inputs { get; set; } = "random";

    private Network _network = null!;
    private Dataset _data = null!;
    private Workspace _workspace = null!;
    private Trainer _sgd = null!;
    private BatchInference _inference = null!;

    /// <summary>Setup of <see cref="PerSample"/>: a workspace for one sample.</summary>
    [GlobalSetup(Target = nameof(PerSample))]
    public void SetupPerSample()
    {
        Setup();
        _workspace = new Workspace(_network);
        WarmUp.Run(() => PerSample());
    }

    /// <summary>Setup of <see cref="DotProduct"/>: a workspace with room for a block.</summary>
    [GlobalSetup(Target = nameof(DotProduct))]
    public void SetupDotProduct()
    {
        Setup();
        _workspace = new Workspace(_network, BatchInference.DefaultBlockSize);
        WarmUp.Run(() => DotProduct());
    }

    /// <summary>Setup of <see cref="Dense"/>: batched inference on one thread with skipping off.</summary>
    [GlobalSetup(Target = nameof(Dense))]
    public void SetupDense()
    {
        Setup();
        _inference = new BatchInference(_network, threads: 1) { SkipZeroInputs = false };
        WarmUp.Run(() => Dense());
    }

    /// <summary>Setup of <see cref="Batched"/>.</summary>
    [GlobalSetup(Target = nameof(Batched))]
    public void SetupBatched() => SetupSgd(threads: 1, Batched);

    /// <summary>Setup of <see cref="BatchedTwoThreads"/>.</summary>
    [GlobalSetup(Target = nameof(BatchedTwoThreads))]
    public void SetupBatchedTwoThreads() => SetupSgd(threads: 2, BatchedTwoThreads);

    /// <summary>Stops the worker threads, if any.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _sgd?.Dispose();
        _inference?.Dispose();
    }

    /// <summary><see cref="Evaluation.Evaluate"/>: one matrix-vector product per layer and sample.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Count)]
    [Work(Samples = Count, Flops = Count * ForwardFlops)]
    public int PerSample() => Evaluation.Evaluate(_network, _workspace, _data);

    /// <summary>
    /// Rung 9's starting point: blocks of 64 samples through the training forward pass (dot-product tiles, each
    /// ending in horizontal sums), then the argmax of each output row.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Count)]
    [Work(Samples = Count, Flops = Count * ForwardFlops)]
    public int DotProduct()
    {
        int block = _workspace.Capacity, n = _network.OutputSize, correct = 0;
        for (int start = 0; start < _data.Count; start += block)
        {
            int m = Math.Min(block, _data.Count - start);
            using (_workspace.Use(m))
            {
                var pass = new Pass(_network, _workspace, _data.InputRows(start, m), default, m);
                for (int l = 1; l <= _network.OutputLayer; l++)
                {
                    pass.Forward(l);
                }

                ReadOnlySpan<float> outputs = _workspace.ARows(_network.OutputLayer, m);
                for (int i = 0; i < m; i++)
                {
                    correct += Network.ArgMax(outputs.Slice(i * n, n)) == _data.Label(start + i) ? 1 : 0;
                }
            }
        }

        return correct;
    }

    /// <summary>Rung 9 without rung 10: <see cref="BatchInference"/> on one thread (outer-product kernel) with <see cref="BatchInference.SkipZeroInputs"/> off.</summary>
    [Benchmark(OperationsPerInvoke = Count)]
    [Work(Samples = Count, Flops = Count * ForwardFlops)]
    public int Dense() => _inference.Evaluate(_data);

    /// <summary>Rungs 9 and 10: <see cref="Trainer.Evaluate"/> with one thread, blocks of 64 samples through the outer-product kernel, blank inputs skipped.</summary>
    [Benchmark(OperationsPerInvoke = Count)]
    [Work(Samples = Count, Flops = Count * ForwardFlops)]
    [SimdBitsJobs]
    public int Batched() => _sgd.Evaluate(_data);

    /// <summary><see cref="Trainer.Evaluate"/> with two threads, each taking every other block with its own workspace.</summary>
    [Benchmark(OperationsPerInvoke = Count)]
    [Work(Samples = Count, Flops = Count * ForwardFlops)]
    [SimdBitsJobs]
    public int BatchedTwoThreads() => _sgd.Evaluate(_data);

    private void Setup()
    {
        MachineInfo.PrintOnce();
        _network = new Network([784, 30, 10], seed: 20251127);
        _data = Inputs == BundledDigits.Name ? BundledDigits.Load() : Synthetic.Classification(Count, 784, 10, seed: 10_000);
        if (_data.Count != Count)
        {
            throw new InvalidOperationException($"{Inputs} has {_data.Count} samples, expected {Count}.");
        }
    }

    private void SetupSgd(int threads, Func<int> body)
    {
        Setup();
        _sgd = new Trainer(_network, _data, new TrainingOptions { Threads = threads });
        WarmUp.Run(() => body());
    }
}
