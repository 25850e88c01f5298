using Backprop.Simd.Data;
using Backprop.Simd.Kernels;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests;

/// <summary>Bad input gets an ArgumentException-family error naming the parameter and the expected and actual sizes.</summary>
public class ValidationTests
{
    private static void AssertRejects<T>(string paramName, string[] mentions, Action action)
        where T : ArgumentException
    {
        T error = Assert.Throws<T>(action);
        Assert.Equal(paramName, error.ParamName);
        foreach (string text in mentions)
        {
            Assert.Contains(text, error.Message);
        }
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 784 })]
    public void Networks_need_at_least_two_layers(int[] sizes) =>
        AssertRejects<ArgumentException>("sizes", ["at least 2", $"{sizes.Length}"], () => new Network(sizes, seed: 1));

    [Theory]
    [InlineData(new[] { 784, 0, 10 }, "sizes[1] is 0")]
    [InlineData(new[] { 784, 30, -2 }, "sizes[2] is -2")]
    public void Layer_sizes_must_be_positive(int[] sizes, string mention) =>
        AssertRejects<ArgumentOutOfRangeException>("sizes", [mention], () => new Network(sizes, seed: 1));

    [Fact]
    public void Parameter_arena_must_fit_the_sizes() =>
        AssertRejects<ArgumentException>("parameters", ["7", "expected 8"], () => new Network([3, 2], new float[7]));

    [Fact]
    public void Inputs_targets_and_workspaces_must_fit_the_network()
    {
        var network = new Network([4, 3, 2], seed: 1);
        var workspace = new Workspace(network);
        AssertRejects<ArgumentException>("x", ["5", "expected 4"], () => network.FeedForward(new float[5], workspace));
        AssertRejects<ArgumentException>("x", ["length 3", "multiple of the network's input size 4"], () => Backpropagation.Backprop(network, workspace, new float[3], new float[2]));
        AssertRejects<ArgumentException>("y", ["3", "expected 2"], () => Backpropagation.Backprop(network, workspace, new float[4], new float[3]));
        var other = new Workspace(new Network([4, 5, 2], seed: 1));
        AssertRejects<ArgumentException>("workspace", ["[4, 5, 2]", "expected [4, 3, 2]"], () => network.FeedForward(new float[4], other));
        Assert.Throws<ArgumentNullException>(() => network.FeedForward(new float[4], null!));
    }

    [Fact]
    public void Training_rejects_bad_batches_rates_and_data()
    {
        var network = new Network([4, 3, 2], seed: 1);
        var workspace = new Workspace(network);
        Dataset data = TestData.RandomDataset(6, 4, 2, seed: 1);
        AssertRejects<ArgumentOutOfRangeException>("MiniBatchSize", ["at least 1", "0"], () => new Trainer(network, data, new TrainingOptions { MiniBatchSize = 0 }));
        AssertRejects<ArgumentOutOfRangeException>("Eta", ["NaN"], () => new Trainer(network, data, new TrainingOptions { Eta = float.NaN }));
        AssertRejects<ArgumentOutOfRangeException>("Eta", ["-1"], () => new Trainer(network, data, new TrainingOptions { Eta = -1f }));
        AssertRejects<ArgumentOutOfRangeException>("Eta", ["Infinity"], () => new Trainer(network, data, new TrainingOptions { Eta = float.PositiveInfinity }));
        AssertRejects<ArgumentException>("x", ["length 0", "multiple of the network's input size 4"], () => Backpropagation.Backprop(network, workspace, [], []));
        AssertRejects<ArgumentException>("x", ["length 6", "multiple of the network's input size 4"], () => Backpropagation.Backprop(network, workspace, new float[6], new float[2]));
        AssertRejects<ArgumentException>("x", ["2 samples", "capacity is 1", "capacity: 2"], () => Backpropagation.Backprop(network, workspace, new float[8], new float[4]));
        AssertRejects<ArgumentException>("y", ["length 3", "expected 2"], () => Backpropagation.Backprop(network, workspace, new float[4], new float[3]));
        Dataset wide = TestData.RandomDataset(6, 5, 2, seed: 1);
        AssertRejects<ArgumentException>("trainingData", ["5", "expected 4"], () => new Trainer(network, wide, new TrainingOptions()));
        var sgd = new Trainer(network, data, new TrainingOptions());
        AssertRejects<ArgumentException>("evaluationData", ["5", "expected 4"], () => sgd.RunEpoch(wide));
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.Train(-1));
    }

    [Fact]
    public void Datasets_reject_inconsistent_buffers()
    {
        AssertRejects<ArgumentException>("inputs", ["10", "multiple of inputSize 4"], () => new Dataset(new float[10], 4, new float[4], 2));
        AssertRejects<ArgumentException>("targets", ["5", "expected 4"], () => new Dataset(new float[8], 4, new float[5], 2));
        AssertRejects<ArgumentOutOfRangeException>("labels", ["labels[1] is 10", "0 to 9"], () => Dataset.FromLabels(new float[8], 4, [1, 10], 10));
        AssertRejects<ArgumentException>("inputs", ["12", "expected 8"], () => Dataset.FromLabels(new float[12], 4, [1, 2], 10));
        Dataset data = TestData.RandomDataset(5, 4, 2, seed: 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Slice(3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Input(5));
        Assert.Equal(data.Input(4).ToArray(), data.Slice(3, 2).Input(1).ToArray());
    }
}
