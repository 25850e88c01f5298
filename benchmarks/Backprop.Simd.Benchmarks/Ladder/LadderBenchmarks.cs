using Backprop.Simd.Benchmarks.EndToEnd;
using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Data;
using System.Numerics.Tensors;
using Backprop.Simd.Benchmarks.Ladder.PerSample;
using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using Backprop.Simd.Runtime;
using BenchmarkDotNet.Attributes;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>
/// The optimization ladder end to end (<c>docs/optimizing-backprop.md</c> walks through it): training
/// throughput of one epoch of SGD over <see cref="TrainingFixture.EpochSamples"/> synthetic MNIST-shaped samples
/// (eta = 3, quadratic cost, sigmoid), for each rung from the naive reference to the fastest path. Every row sets
/// <c>OperationsPerInvoke</c> to its number of samples, so Mean is the time PER SAMPLE, Samples/s its inverse,
/// GFLOP/s counts 2 flops per multiply-add of the forward, weight-gradient and BP2 products
/// (<see cref="LadderCase.FlopsPerSample"/>), and GB/s (per-sample rows only) is the seed algorithm's estimated L2 traffic
/// (<see cref="LadderCase.BytesPerSample"/>). The batched rows also run in the <see cref="Jobs.SimdBits"/> jobs
/// (<c>BACKPROP_SIMD_BITS</c> = 128, 256, 512); DefaultEnv is the width the library picks by itself (512 here).
/// </summary>
[MemoryDiagnoser]
public class LadderBenchmarks
{
    /// <summary>Samples the two slow rungs (naive reference, naive float) train on: the first of the same shuffled order.</summary>
    public const int SlowSamples = 1000;

    private const int Samples = TrainingFixture.EpochSamples;

    private TrainingFixture _fixture = null!;
    private ReferenceNetwork _reference = null!;
    private List<(double[] X, double[] Y)> _referenceData = null!;
    private int[] _referenceOrder = null!;
    private NaiveFloatTrainer _naive = null!;
    private Trainer _trainer = null!;
    private PerSampleTrainer _perSample = null!;
    private Workspace _workspace = null!;
    private float[] _gatheredInputs = null!, _gatheredTargets = null!;

    /// <summary>Network shape and mini-batch size.</summary>
    [ParamsSource(nameof(Cases))]
    public LadderCase Case { get; set; } = LadderCase.All[0];

    /// <summary>The values of <see cref="Case"/>.</summary>
    public static IEnumerable<LadderCase> Cases => LadderCase.All;

    /// <summary>Setup of <see cref="Reference"/>.</summary>
    [GlobalSetup(Target = nameof(Reference))]
    public void SetupReference()
    {
        Setup();
        _reference = _fixture.CreateReference();
        _referenceData = _fixture.Order.Take(SlowSamples).Select(_fixture.ReferenceSample).ToList();
        _referenceOrder = Enumerable.Range(0, SlowSamples).ToArray();
        WarmUp.Run(() => Reference());
    }

    /// <summary>Setup of <see cref="NaiveFloat"/>.</summary>
    [GlobalSetup(Target = nameof(NaiveFloat))]
    public void SetupNaiveFloat()
    {
        Setup();
        _naive = new NaiveFloatTrainer(_fixture.Network);
        WarmUp.Run(() => NaiveFloat());
    }

    /// <summary>Setup of <see cref="PerSample"/>.</summary>
    [GlobalSetup(Target = nameof(PerSample))]
    public void SetupPerSample()
    {
        Setup();
        _perSample = new PerSampleTrainer(_fixture.Network);
        WarmUp.Run(() => PerSample());
    }

    /// <summary>Setup of <see cref="PerSampleUnfused"/>.</summary>
    [GlobalSetup(Target = nameof(PerSampleUnfused))]
    public void SetupPerSampleUnfused()
    {
        Setup();
        _perSample = new PerSampleTrainer(_fixture.Network);
        WarmUp.Run(() => PerSampleUnfused());
    }

    /// <summary>Setup of <see cref="BatchedUnfused"/>: a workspace for one mini-batch and buffers to gather it into.</summary>
    [GlobalSetup(Target = nameof(BatchedUnfused))]
    public void SetupBatchedUnfused()
    {
        Setup();
        int m = Case.MiniBatch, inputs = _fixture.Sizes[0], outputs = _fixture.Sizes[^1];
        _workspace = new Workspace(_fixture.Network, m);
        _gatheredInputs = new float[m * inputs];
        _gatheredTargets = new float[m * outputs];
        WarmUp.Run(() => BatchedUnfused());
    }

    /// <summary>Setup of <see cref="Batched"/>.</summary>
    [GlobalSetup(Target = nameof(Batched))]
    public void SetupBatched() => SetupTrainer(threads: 1, Batched);

    /// <summary>Setup of <see cref="BatchedTwoThreads"/>.</summary>
    [GlobalSetup(Target = nameof(BatchedTwoThreads))]
    public void SetupBatchedTwoThreads() => SetupTrainer(threads: 2, BatchedTwoThreads);

    /// <summary>Stops the trainer's worker thread, if any.</summary>
    [GlobalCleanup]
    public void Cleanup() => _trainer?.Dispose();

    /// <summary>Rung 0: network.py line by line (double, jagged arrays, LINQ, a new array per operation).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = SlowSamples)]
    [Work(Samples = SlowSamples)]
    public List<int> Reference() => _reference.Sgd(_referenceData, epochs: 1, Case.MiniBatch, TrainingFixture.Eta, _ => _referenceOrder);

    /// <summary>Rung 1: the same per-sample algorithm in float, flat buffers allocated once, scalar <see cref="NaiveKernels"/>.</summary>
    [Benchmark(OperationsPerInvoke = SlowSamples)]
    [Work(Samples = SlowSamples)]
    public float NaiveFloat() => _naive.Epoch(_fixture.Data, _fixture.Order.AsSpan(0, SlowSamples), Case.MiniBatch, TrainingFixture.Eta);

    /// <summary>Rung 2: the per-sample kernels (matrix-vector, transposed and rank-1) as separate passes (<see cref="PerSampleTrainer"/>).</summary>
    [Benchmark(OperationsPerInvoke = Samples)]
    [Work(Samples = Samples, SampleBytes = true)]
    public float PerSampleUnfused()
    {
        _perSample.Epoch(_fixture.Data, _fixture.Order, Case.MiniBatch, TrainingFixture.Eta, fused: false);
        return _fixture.Network.Parameters[^1];
    }

    /// <summary>
    /// Rung 2': the same kernels with the first sample's rank-1 update storing (no clearing pass), the SGD step folded
    /// into the last one's (no update pass), and the next sample's input prefetched during each backward pass.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Samples)]
    [Work(Samples = Samples, SampleBytes = true)]
    public float PerSample()
    {
        _perSample.Epoch(_fixture.Data, _fixture.Order, Case.MiniBatch, TrainingFixture.Eta, fused: true);
        return _fixture.Network.Parameters[^1];
    }

    /// <summary>
    /// Rung 3: the batched GEMM kernels as they were before inputs were read in place and the step folded in: each
    /// mini-batch's inputs and targets are copied into contiguous buffers, the whole gradient is stored
    /// (<see cref="Backpropagation.Backprop(Network, Workspace, ReadOnlySpan{float}, ReadOnlySpan{float})"/>), then a separate pass applies the SGD step to the arena.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Samples)]
    [Work(Samples = Samples)]
    [SimdBitsJobs]
    public float BatchedUnfused()
    {
        Dataset data = _fixture.Data;
        int m = Case.MiniBatch, inputs = data.InputSize, outputs = data.TargetSize;
        int[] order = _fixture.Order;
        for (int k = 0; k < order.Length; k += m)
        {
            for (int i = 0; i < m; i++)
            {
                data.Input(order[k + i]).CopyTo(_gatheredInputs.AsSpan(i * inputs, inputs));
                data.Target(order[k + i]).CopyTo(_gatheredTargets.AsSpan(i * outputs, outputs));
            }

            Backpropagation.Backprop(_fixture.Network, _workspace, _gatheredInputs, _gatheredTargets);
            Span<float> p = _fixture.Network.MutableParameters;
            TensorPrimitives.MultiplyAdd(_workspace.Nabla, -TrainingFixture.Eta / m, p, p);
            _fixture.Network.ParametersChanged();
        }

        return _fixture.Network.Parameters[^1];
    }

    /// <summary>Rungs 4-5: the library's default batched path on one thread (inputs read in place, SGD step folded into the gradient product).</summary>
    [Benchmark(OperationsPerInvoke = Samples)]
    [Work(Samples = Samples)]
    [SimdBitsJobs]
    public EpochResult Batched() => _trainer.RunEpoch();

    /// <summary>Rung 6: the batched path on two threads (every product split by output; bit-identical to one thread).</summary>
    [Benchmark(OperationsPerInvoke = Samples)]
    [Work(Samples = Samples)]
    [SimdBitsJobs]
    public EpochResult BatchedTwoThreads() => _trainer.RunEpoch();

    private void Setup()
    {
        MachineInfo.PrintOnce();
        Console.WriteLine($"LadderInfo: SimdWidth.Bits = {SimdWidth.Bits}, {Case}, {Case.FlopsPerSample:N0} flops and {Case.BytesPerSample:N0} per-sample-path bytes per sample");
        if (Samples % Case.MiniBatch != 0 || SlowSamples % Case.MiniBatch != 0)
        {
            throw new InvalidOperationException($"the mini-batch size {Case.MiniBatch} must divide {Samples} and {SlowSamples}.");
        }

        _fixture = new TrainingFixture(Case.Sizes);
    }

    private void SetupTrainer(int threads, Func<EpochResult> body)
    {
        Setup();
        _trainer = new Trainer(_fixture.Network, _fixture.Data, new TrainingOptions
        {
            MiniBatchSize = Case.MiniBatch,
            Eta = TrainingFixture.Eta,
            Seed = 99,
            Threads = threads,
            ChooseThreads = false, // the rung measures the sharing itself, on every mini-batch
        });
        WarmUp.Run(() => body());
    }
}
