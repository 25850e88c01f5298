using Backprop.Simd.Data;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests.Training;

/// <summary>
/// An epoch in steps (<see cref="Trainer.RunMiniBatches"/> then <see cref="Trainer.FinishEpoch"/>) is
/// <see cref="Trainer.RunEpoch"/> bit for bit, whatever the steps' lengths and whatever runs between them.
/// </summary>
public class EpochStepsTests
{
    private static readonly int[] Sizes = [64, 24, 10];

    [Theory]
    [InlineData(1, false, 1)]
    [InlineData(1, false, 3)]
    [InlineData(2, false, 7)]
    [InlineData(1, true, 1)]
    [InlineData(3, true, 4)]
    [InlineData(2, true, 1000)]
    public void Steps_of_any_length_give_the_bits_of_whole_epochs(int threads, bool bytes, int step)
    {
        Dataset train = bytes ? TestData.RandomBytes(233, Sizes[0], Sizes[^1]) : TestData.RandomDataset(233, Sizes[0], Sizes[^1], seed: 3);
        Dataset test = TestData.RandomDataset(40, Sizes[0], Sizes[^1], seed: 4);

        (float[] Parameters, int[] Correct) Whole()
        {
            var network = new Network(Sizes, 5);
            using var sgd = new Trainer(network, train, Options(threads));
            int[] correct = [sgd.RunEpoch(test).Correct, sgd.RunEpoch(test).Correct];
            return (network.Parameters.ToArray(), correct);
        }

        (float[] Parameters, int[] Correct) Stepped(bool busy)
        {
            var network = new Network(Sizes, 5);
            using var sgd = new Trainer(network, train, Options(threads));
            float[] probe = test.Input(0).ToArray();
            var correct = new int[2];
            int calls = 0;
            for (int epoch = 0; epoch < 2; epoch++)
            {
                while (!sgd.RunMiniBatches(step))
                {
                    calls++;
                    Assert.True(sgd.EpochUnderway);
                    if (busy)
                    {
                        // What a UI loop may do between steps: use the trainer's workspace, touch the parameters.
                        network.FeedForward(probe, sgd.Workspace);
                        network.SetBiases(1, network.Biases(1).ToArray());
                    }
                }

                EpochResult result = sgd.FinishEpoch(test);
                Assert.False(sgd.EpochUnderway);
                Assert.Equal(epoch, result.Epoch);
                Assert.Equal(train.Count, result.SamplesTrained);
                correct[epoch] = result.Correct;
            }

            Assert.Equal(2 * ((train.Count + (10 * step) - 1) / (10 * step) - 1), calls);
            return (network.Parameters.ToArray(), correct);
        }

        (float[] parameters, int[] correct) = Whole();
        foreach (bool busy in new[] { false, true })
        {
            (float[] p, int[] c) = Stepped(busy);
            Assert.Equal(correct, c);
            Assert.Equal(parameters, p);
        }
    }

    [Fact]
    public void RunEpoch_finishes_an_epoch_left_under_way()
    {
        Dataset train = TestData.RandomDataset(95, Sizes[0], Sizes[^1], seed: 3);
        var whole = new Network(Sizes, 5);
        using (var sgd = new Trainer(whole, train, Options(1)))
        {
            sgd.RunEpoch();
        }

        var stepped = new Network(Sizes, 5);
        using (var sgd = new Trainer(stepped, train, Options(1)))
        {
            Assert.False(sgd.RunMiniBatches(4));
            Assert.Equal(0, sgd.RunEpoch().Epoch);
            Assert.Equal(1, sgd.EpochsCompleted);
        }

        Assert.Equal(whole.Parameters.ToArray(), stepped.Parameters.ToArray());
    }

    [Fact]
    public void Steps_out_of_order_are_refused_and_lose_nothing()
    {
        Dataset train = TestData.RandomDataset(25, Sizes[0], Sizes[^1], seed: 3);
        var network = new Network(Sizes, 5);
        using var sgd = new Trainer(network, train, Options(1));

        var none = Assert.Throws<InvalidOperationException>(() => sgd.FinishEpoch());
        Assert.Contains("no epoch is under way", none.Message);
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => sgd.RunMiniBatches(0));
        Assert.Equal("count", zero.ParamName);

        Assert.False(sgd.RunMiniBatches(1));
        var early = Assert.Throws<InvalidOperationException>(() => sgd.FinishEpoch());
        Assert.Contains("10 of 25 samples", early.Message);
        Assert.True(sgd.RunMiniBatches(5));
        float[] trained = network.Parameters.ToArray();
        var more = Assert.Throws<InvalidOperationException>(() => sgd.RunMiniBatches(1));
        Assert.Contains("FinishEpoch", more.Message);
        Assert.Equal(trained, network.Parameters.ToArray());
        Assert.Equal(0, sgd.FinishEpoch().Epoch);
        Assert.Equal(1, sgd.EpochsCompleted);
    }

    [Fact]
    public void A_workspace_held_elsewhere_abandons_the_epoch_at_its_start()
    {
        Dataset train = TestData.RandomDataset(60, Sizes[0], Sizes[^1], seed: 3);
        var network = new Network(Sizes, 5);
        using var sgd = new Trainer(network, train, Options(1));
        float[] start = network.Parameters.ToArray();
        Assert.False(sgd.RunMiniBatches(2));
        Assert.NotEqual(start, network.Parameters.ToArray());

        using (sgd.Workspace.Use(1)) // as another thread in the middle of a call would hold it
        {
            Assert.Throws<InvalidOperationException>(() => sgd.RunMiniBatches(1));
        }

        Assert.False(sgd.EpochUnderway);
        Assert.Equal(start, network.Parameters.ToArray());

        // The next step starts the epoch again (with the next shuffle, as RunEpoch after such an exception would).
        Assert.False(sgd.RunMiniBatches(3));
        Assert.True(sgd.EpochUnderway);
        Assert.True(sgd.RunMiniBatches(3));
        Assert.Equal(0, sgd.FinishEpoch().Epoch);
    }

    [Fact]
    public void Steps_allocate_nothing()
    {
        Dataset train = TestData.RandomDataset(100, Sizes[0], Sizes[^1], seed: 3);
        Dataset test = TestData.RandomDataset(20, Sizes[0], Sizes[^1], seed: 4);
        using var sgd = new Trainer(new Network(Sizes, 5), train, Options(1));
        void Epoch()
        {
            while (!sgd.RunMiniBatches(2))
            {
            }

            sgd.FinishEpoch(test);
        }

        Epoch(); // warm-up: JIT, tiering
        Epoch();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Epoch();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static TrainingOptions Options(int threads) => new() { MiniBatchSize = 10, Eta = 0.5f, Threads = threads, Seed = 6 };
}
