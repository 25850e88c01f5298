using Backprop.Simd.Data;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests;

/// <summary>The README's two library examples, as written there (fewer epochs), so that they keep compiling and working.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void The_seed_example_trains_and_predicts()
    {
        MnistSplit data = MnistData.LoadBundled();
        var network = new Network([784, 30, 10], seed: 1);
        using var trainer = new Trainer(network, data.Training, new TrainingOptions { MiniBatchSize = 10, Eta = 3f, Seed = 1 });
        var lines = new List<string>();
        trainer.Train(epochs: 2, data.Test, epoch => lines.Add(epoch.ToString()));

        var workspace = new Workspace(network);
        float[] image = new float[network.InputSize];
        int digit = network.Predict(data.Test.Input(0, image), workspace);
        ReadOnlySpan<float> activations = network.FeedForward(image, workspace);
        Assert.Matches(@"^Epoch 1: \d+ / 1996$", lines[^1]);
        Assert.Equal(digit, Network.ArgMax(activations));
    }

    [Fact]
    public void The_network2_example_trains_with_every_option()
    {
        MnistSplit data = MnistData.LoadBundled(validationCount: 1000);
        var network = new Network([784, 100, 10], seed: 1, new NetworkOptions
        {
            Cost = CostFunction.LogLikelihood,
            HiddenActivation = Activation.ReLU,
            WeightInit = WeightInit.He,
        });
        using var trainer = new Trainer(network, data.Training, new TrainingOptions
        {
            Optimizer = Optimizer.Adam,
            Lambda = 5f, L1 = 0f,
            HalveEtaAfter = 3, MaxHalvings = 7,
            Patience = 10,
            Monitor = Monitoring.All,
        });
        var costs = new List<double>();
        TrainingSummary summary = trainer.Train(2, data.Validation, epoch => costs.Add(epoch.EvaluationCost));
        Assert.Equal(2, summary.EpochsRun);
        Assert.All(costs, c => Assert.True(double.IsFinite(c) && c > 0));
        Assert.True(summary.BestCorrect > 800, $"{summary}"); // 2 epochs of Adam on 7,004 digits: well above chance
    }
}
