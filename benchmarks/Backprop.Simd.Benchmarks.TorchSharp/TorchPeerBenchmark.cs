using Backprop.Simd.Benchmarks.EndToEnd;
using Backprop.Simd.Benchmarks.Infrastructure;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Backprop.Simd.Benchmarks.TorchSharp;

/// <summary>
/// The same network in TorchSharp (CPU): <c>Linear</c> + <c>Sigmoid</c> per layer, starting from the SIMD core's
/// initial parameters, the quadratic cost <c>1/2 ||a - y||^2</c> summed over the mini-batch, and plain SGD with
/// learning rate <c>eta / m</c> (so the step equals network.py's <c>W -= (eta/m) sum nabla</c>). Every benchmark
/// case runs in its own process, so setting the thread count in a GlobalSetup affects only that case.
/// </summary>
[MemoryDiagnoser]
public abstract class TorchPeerBenchmark
{
    /// <summary>Neurons per layer.</summary>
    [Params(TrainingFixture.Small, TrainingFixture.Wide)]
    public string Sizes { get; set; } = TrainingFixture.Small;

    /// <summary>The shared fixture (the SIMD core's network, workspace and data).</summary>
    protected TrainingFixture Fixture { get; private set; } = null!;

    /// <summary>The TorchSharp model (null for the SIMD rows).</summary>
    protected nn.Module<Tensor, Tensor> Model { get; private set; } = null!;

    /// <summary>SGD over <see cref="Model"/>'s parameters with learning rate eta / m.</summary>
    protected optim.Optimizer Optimizer { get; private set; } = null!;

    /// <summary>Setup of the SIMD baseline row.</summary>
    protected void SetupSimd()
    {
        MachineInfo.PrintOnce();
        Fixture = new TrainingFixture(Sizes);
    }

    /// <summary>Setup of a TorchSharp row: <paramref name="threads"/> intra-op threads, or 0 to keep TorchSharp's default.</summary>
    protected void SetupTorch(int threads)
    {
        TorchProbe.EnsureAvailable();
        SetupSimd();
        if (threads > 0)
        {
            torch.set_num_threads(threads);
        }

        Console.WriteLine($"TorchInfo: torch.get_num_threads() = {torch.get_num_threads()}");
        var modules = new List<nn.Module<Tensor, Tensor>>();
        int[] sizes = Fixture.Sizes;
        using (torch.no_grad())
        {
            for (int l = 1; l < sizes.Length; l++)
            {
                var linear = nn.Linear(sizes[l - 1], sizes[l]);
                using Tensor weights = torch.tensor(Fixture.Network.Weights(l).ToArray(), [sizes[l], sizes[l - 1]]);
                using Tensor biases = torch.tensor(Fixture.Network.Biases(l).ToArray(), [sizes[l]]);
                linear.weight!.copy_(weights);
                linear.bias!.copy_(biases);
                modules.Add(linear);
                modules.Add(nn.Sigmoid());
            }
        }

        Model = nn.Sequential(modules.ToArray());
        Optimizer = optim.SGD(Model.parameters(), TrainingFixture.Eta / TrainingFixture.MiniBatchSize);
    }

    /// <summary>The inputs and one-hot targets of mini-batch <paramref name="batch"/> as <c>[m, n]</c> tensors.</summary>
    protected (Tensor X, Tensor Y) BatchTensors(int[] batch)
    {
        int inputSize = Fixture.Data.InputSize, targetSize = Fixture.Data.TargetSize;
        var x = new float[batch.Length * inputSize];
        var y = new float[batch.Length * targetSize];
        for (int i = 0; i < batch.Length; i++)
        {
            Fixture.Data.Input(batch[i]).CopyTo(x.AsSpan(i * inputSize));
            Fixture.Data.Target(batch[i]).CopyTo(y.AsSpan(i * targetSize));
        }

        return (torch.tensor(x, [batch.Length, inputSize]), torch.tensor(y, [batch.Length, targetSize]));
    }

    /// <summary>One SGD step on one mini-batch: forward, quadratic cost, backward, update.</summary>
    protected void TrainStep(Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        Optimizer.zero_grad();
        Tensor output = Model.forward(x);
        Tensor loss = (output - y).pow(2).sum() * 0.5f;
        loss.backward();
        Optimizer.step();
    }
}
