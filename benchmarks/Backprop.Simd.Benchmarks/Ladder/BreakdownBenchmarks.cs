using Backprop.Simd.Benchmarks.EndToEnd;
using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Runtime;
using BenchmarkDotNet.Attributes;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>
/// Where the batched path's time goes, one thread (the last section of <c>docs/optimizing-backprop.md</c>): the same
/// 8,000 samples and mini-batches as <see cref="LadderBenchmarks"/>, through growing parts of the work. Per sample
/// (<c>OperationsPerInvoke</c> is the sample count):
/// <list type="bullet">
/// <item><see cref="Forward"/>: the training forward pass alone for every mini-batch of the shuffled order (inputs
/// read in place);</item>
/// <item><see cref="Gradient"/>: <see cref="Backpropagation"/> for every mini-batch of the shuffled order, inputs read
/// in place: forward, BP1, BP2, bias sums and the stored weight gradient, no update;</item>
/// <item><see cref="Epoch"/>: <see cref="Trainer.RunEpoch"/>, the real thing (shuffle, step folded into the gradient
/// product, divergence guard, bias step).</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
public class BreakdownBenchmarks
{
    private const int Samples = TrainingFixture.EpochSamples;

    private TrainingFixture _fixture = null!;
    private Workspace _workspace = null!;
    private float[] _targets = null!; // every mini-batch's targets, gathered once
    private Trainer _sgd = null!;

    /// <summary>
    /// Neurons per layer; the mini-batch size is the ladder's for that shape. (A string rather than a
    /// <see cref="LadderCase"/>, whose per-sample flops would be wrong for the partial rows.)
    /// </summary>
    [Params("784-30-10", "784-100-10")]
    public string Sizes { get; set; } = "784-30-10";

    private LadderCase Case => LadderCase.All.Single(c => c.Sizes == Sizes);

    /// <summary>Builds the network, data, a batched workspace of capacity m, and the trainer.</summary>
    [GlobalSetup]
    public void Setup()
    {
        MachineInfo.PrintOnce();
        _fixture = new TrainingFixture(Case.Sizes);
        _workspace = new Workspace(_fixture.Network, Case.MiniBatch);
        _targets = _fixture.Order.SelectMany(i => _fixture.Data.Target(i).ToArray()).ToArray();
        _sgd = new Trainer(_fixture.Network, _fixture.Data, new TrainingOptions { MiniBatchSize = Case.MiniBatch, Eta = TrainingFixture.Eta, Seed = 99 });
        WarmUp.Run(() => Forward(), seconds: 0.5);
        WarmUp.Run(() => Gradient(), seconds: 0.5);
        WarmUp.Run(() => Epoch(), seconds: 0.5);
    }

    /// <summary>Disposes the trainer.</summary>
    [GlobalCleanup]
    public void Cleanup() => _sgd?.Dispose();

    /// <summary>The forward pass of every mini-batch, Z^l and A^l kept as training keeps them.</summary>
    [Benchmark(OperationsPerInvoke = Samples)]
    [Work(Samples = Samples)]
    [SimdBitsJobs]
    public float Forward()
    {
        Network network = _fixture.Network;
        int m = Case.MiniBatch;
        ReadOnlySpan<int> order = _fixture.Order;
        for (int k = 0; k < order.Length; k += m)
        {
            using (_workspace.Use(m))
            {
                var pass = new Pass(network, _workspace, _fixture.Data.Inputs.Span, order.Slice(k, m), m);
                for (int l = 1; l <= network.OutputLayer; l++)
                {
                    pass.Forward(l);
                }
            }
        }

        return _workspace.A(network.OutputLayer)[0];
    }

    /// <summary>Forward and backward (gradient stored) for every mini-batch; the parameters do not move.</summary>
    [Benchmark(OperationsPerInvoke = Samples)]
    [Work(Samples = Samples)]
    [SimdBitsJobs]
    public float Gradient()
    {
        int m = Case.MiniBatch;
        ReadOnlySpan<int> order = _fixture.Order;
        for (int k = 0; k < order.Length; k += m)
        {
            using (_workspace.Use(m))
            {
                var pass = new Pass(_fixture.Network, _workspace, _fixture.Data.Inputs.Span, order.Slice(k, m), m);
                Backpropagation.Backprop(pass, _targets.AsSpan(k * _fixture.Data.TargetSize, m * _fixture.Data.TargetSize));
            }
        }

        return _workspace.Nabla[0];
    }

    /// <summary>The full epoch, as in <see cref="LadderBenchmarks.Batched"/>.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Samples)]
    [Work(Samples = Samples)]
    [SimdBitsJobs]
    public EpochResult Epoch() => _sgd.RunEpoch();
}
