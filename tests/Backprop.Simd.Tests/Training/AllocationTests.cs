using Backprop.Simd.Data;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests.Training;

/// <summary>Zero allocation is a tested property: after construction and warm-up, nothing on the hot paths allocates.</summary>
public class AllocationTests
{
    private static long AllocatedBy(Action action)
    {
        for (int i = 0; i < 3; i++)
        {
            action(); // warm-up: JIT, tiering, static constructors
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private readonly Network _network = new([784, 30, 10], seed: 1);
    private readonly Dataset _train = TestData.RandomDataset(100, 784, 10, seed: 2);
    private readonly Dataset _test = TestData.RandomDataset(30, 784, 10, seed: 3);

    [Fact]
    public void FeedForward_and_Predict_allocate_nothing()
    {
        var workspace = new Workspace(_network);
        Assert.Equal(0, AllocatedBy(() =>
        {
            for (int i = 0; i < _test.Count; i++)
            {
                _network.FeedForward(_test.Input(i), workspace);
                _network.Predict(_test.Input(i), workspace);
            }
        }));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    public void Backprop_allocates_nothing(int m)
    {
        var workspace = new Workspace(_network, m);
        ReadOnlySpan<float> x = _train.InputRows(0, m);
        float[] y = TestTraining.Gather(_train, Enumerable.Range(0, m).ToArray()).Y;
        float[] inputs = x.ToArray();
        Assert.Equal(0, AllocatedBy(() => Backpropagation.Backprop(_network, workspace, inputs, y)));
    }

    [Fact]
    public void Setting_parameters_allocates_nothing()
    {
        float[] parameters = _network.Parameters.ToArray(), weights = _network.Weights(2).ToArray(), biases = _network.Biases(1).ToArray();
        Assert.Equal(0, AllocatedBy(() =>
        {
            _network.SetParameters(parameters);
            _network.SetWeights(2, weights);
            _network.SetBiases(1, biases);
        }));

        // The length checks still describe what they expected when they fail.
        Assert.Contains("expected 300 (n_2 x n_1)", Assert.Throws<ArgumentException>(() => _network.SetWeights(2, new float[299])).Message);
    }

    [Fact]
    public void Whole_epoch_with_evaluation_and_callback_allocates_nothing()
    {
        var sgd = new Trainer(_network, _train, new TrainingOptions { MiniBatchSize = 7 });
        int seen = 0;
        Action<EpochResult> onEpoch = r => seen += r.Correct;
        Assert.Equal(0, AllocatedBy(() => sgd.Train(1, _test, onEpoch)));
        Assert.Equal(0, AllocatedBy(() => Evaluation.Evaluate(_network, sgd.Workspace, _test)));
        Assert.True(seen >= 0);
    }

    [Theory]
    [InlineData(Optimizer.Sgd)]
    [InlineData(Optimizer.Momentum)]
    [InlineData(Optimizer.Adam)]
    public void Epochs_allocate_nothing_with_every_option_on(Optimizer optimizer)
    {
        foreach ((CostFunction cost, Activation hidden, Activation? output) in new (CostFunction, Activation, Activation?)[]
        {
            (CostFunction.LogLikelihood, Activation.ReLU, null), (CostFunction.CrossEntropy, Activation.Tanh, null), (CostFunction.Quadratic, Activation.LeakyReLU, null),
            (CostFunction.LogLikelihood, Activation.GELU, Activation.LogSoftmax), (CostFunction.Quadratic, Activation.SiLU, Activation.ELU),
            (CostFunction.CrossEntropy, Activation.ELU, null), (CostFunction.Quadratic, Activation.LeakyReLUWithSlope(0.2f), Activation.GELU),
            (CostFunction.Quadratic, Activation.Sigmoid, Activation.SiLU),
        })
        {
            var network = new Network([784, 30, 10], 1, new NetworkOptions { Cost = cost, HiddenActivation = hidden, OutputActivation = output, WeightInit = WeightInit.He });
            var sgd = new Trainer(network, _train, new TrainingOptions
            {
                MiniBatchSize = 7, Eta = 0.1f, Lambda = 1f, L1 = 0.1f, Optimizer = optimizer, Patience = 100, HalveEtaAfter = 50,
                Monitor = Monitoring.All,
            });
            Action<int, int> progress = (_, _) => { };
            Assert.Equal(0, AllocatedBy(() => sgd.RunEpoch(_test, progress)));
            Assert.Equal(0, AllocatedBy(() => sgd.Train(2, _test)));
            var workspace = new Workspace(network);
            Assert.Equal(0, AllocatedBy(() => Evaluation.TotalCost(network, workspace, _test, 1f, 0.1f)));
            float[] x = _train.Input(1).ToArray(), y = _train.Target(1).ToArray();
            Assert.Equal(0, AllocatedBy(() => Backpropagation.Backprop(network, workspace, x, y)));
        }
    }
}
