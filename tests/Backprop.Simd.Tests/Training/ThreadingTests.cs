using Backprop.Simd.Data;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests.Training;

/// <summary>Data-parallel training: the same bits whatever the thread count, and no allocation on any thread.</summary>
[Collection(nameof(ProcessWideMeasurements))]
public class ThreadingTests
{
    public static TheoryData<int[], CostFunction, Activation, Optimizer, int> Cases() => new()
    {
        { [784, 30, 10], CostFunction.Quadratic, Activation.Sigmoid, Optimizer.Sgd, 10 },
        { [784, 100, 10], CostFunction.CrossEntropy, Activation.Tanh, Optimizer.Sgd, 100 },
        { [300, 67, 33, 10], CostFunction.LogLikelihood, Activation.ReLU, Optimizer.Adam, 37 },
        { [784, 128, 10], CostFunction.LogLikelihood, Activation.LeakyReLU, Optimizer.Momentum, 64 },
        { [200, 50, 10], CostFunction.LogLikelihood, Activation.GELU, Optimizer.Adam, 32 },
        { [150, 40, 20, 10], CostFunction.CrossEntropy, Activation.SiLU, Optimizer.Sgd, 25 },
        { [100, 30, 10], CostFunction.Quadratic, Activation.ELU, Optimizer.Momentum, 16 },
        { [400, 17, 12, 5], CostFunction.Quadratic, Activation.Sigmoid, Optimizer.Sgd, 20 }, // a line and one neuron; less than a line
        { [256, 48, 33, 10], CostFunction.CrossEntropy, Activation.Tanh, Optimizer.Sgd, 23 }, // whole lines, cut at 16
        { [64, 300, 260, 10], CostFunction.Quadratic, Activation.Sigmoid, Optimizer.Sgd, 20 }, // BP2 split by columns below the wide layers
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Training_is_bit_identical_whatever_the_thread_count(int[] sizes, CostFunction cost, Activation hidden, Optimizer optimizer, int batch)
    {
        Dataset train = TestData.RandomDataset(450, sizes[0], sizes[^1], seed: 8);
        Dataset test = TestData.RandomDataset(300, sizes[0], sizes[^1], seed: 9);
        (float[] Parameters, List<int> Correct) Train(int threads)
        {
            var network = new Network(sizes, 3, new NetworkOptions { Cost = cost, HiddenActivation = hidden, WeightInit = WeightInit.ScaledNormal });
            using var sgd = new Trainer(network, train, new TrainingOptions
            {
                MiniBatchSize = batch, Eta = optimizer == Optimizer.Adam ? 0.001f : 0.5f, Optimizer = optimizer, Threads = threads, Seed = 4,
                ChooseThreads = false, // every mini-batch shared, whatever the clock says
            });
            var correct = new List<int>();
            sgd.Train(2, test, r => correct.Add(r.Correct));
            correct.Add(sgd.Evaluate(train));
            return (network.Parameters.ToArray(), correct);
        }

        var one = Train(1);
        foreach (int threads in new[] { 2, 3, 8 })
        {
            var many = Train(threads);
            Assert.Equal(one.Correct, many.Correct);
            Assert.True(one.Parameters.AsSpan().SequenceEqual(many.Parameters), $"{threads} threads changed the parameters");
        }
    }

    /// <summary>With byte inputs a split chain leaves the widening of the batch after next to the workers' tails,
    /// which the next run waits for: the same bits as one thread, on any thread count, and across RunMiniBatches
    /// calls that return between the batches.</summary>
    [Theory]
    [InlineData(new[] { 784, 30, 10 }, 10)]
    [InlineData(new[] { 256, 48, 33, 10 }, 23)]
    public void Byte_training_with_widening_in_the_tails_is_bit_identical_whatever_the_thread_count(int[] sizes, int batch)
    {
        Dataset train = TestData.RandomBytes(230, sizes[0], sizes[^1], seed: 6);
        float[] Train(int threads, int steps)
        {
            var network = new Network(sizes, 3);
            using var sgd = new Trainer(network, train, new TrainingOptions { MiniBatchSize = batch, Eta = 0.5f, Threads = threads, Seed = 4, ChooseThreads = false });
            for (int epoch = 0; epoch < 2; epoch++)
            {
                while (!sgd.RunMiniBatches(steps))
                {
                }

                sgd.FinishEpoch();
            }

            return network.Parameters.ToArray();
        }

        float[] one = Train(1, int.MaxValue);
        foreach ((int threads, int steps) in new[] { (2, int.MaxValue), (2, 1), (3, 2), (8, int.MaxValue) })
        {
            Assert.True(one.AsSpan().SequenceEqual(Train(threads, steps)), $"{threads} threads, {steps} batches a call, changed the parameters");
        }
    }

    /// <summary>A byte set trains to the bits of the same pixels given as floats (<c>b / 255</c>): the bytes' rows widened
    /// into the trainer's block, where they follow each other and the kernels read them as one block; the floats' rows
    /// copied into it while three mini-batches fit in 4 Mi floats (784 inputs, m = 10), and read where they lie, picked
    /// one by one, past that (12,000 inputs, m = 120: 4.32 Mi floats).</summary>
    [Theory]
    [InlineData(1, 784, 10)]
    [InlineData(2, 784, 10)]
    [InlineData(1, 12_000, 120)]
    [InlineData(2, 12_000, 120)]
    public void Bytes_and_the_same_pixels_as_floats_train_to_the_same_bits(int threads, int inputs, int m)
    {
        int[] sizes = [inputs, inputs > 1000 ? 4 : 30, 10];
        var random = new Random(8);
        byte[] pixels = new byte[150 * sizes[0]];
        random.NextBytes(pixels);
        byte[] labels = Enumerable.Range(0, 150).Select(_ => (byte)random.Next(sizes[^1])).ToArray();
        float[] floats = pixels.Select(b => b / 255f).ToArray();
        float[] fromBytes = TwoEpochs(sizes, Dataset.FromLabels(pixels, sizes[0], 255f, labels, sizes[^1]), threads, m);
        float[] fromFloats = TwoEpochs(sizes, Dataset.FromLabels(floats, sizes[0], labels, sizes[^1]), threads, m);
        Assert.True(fromBytes.AsSpan().SequenceEqual(fromFloats), $"{threads} thread(s), {inputs} inputs, m = {m}: bytes and floats trained to different parameters");
    }

    /// <summary>A set made from labels has its mini-batches' targets written from the labels; the same one-hot rows given
    /// as targets are copied. Both train to the same bits, on slices too (labels read from the slice's start) and with a
    /// last mini-batch of fewer samples.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Targets_written_from_labels_train_to_the_bits_of_the_same_targets_copied(int threads)
    {
        int[] sizes = [64, 12, 10];
        var random = new SeededRandom(12);
        float[] inputs = TestData.Uniform(157 * sizes[0], ref random, 0f, 1f);
        byte[] labels = Enumerable.Range(0, 157).Select(i => (byte)((i * 7) % sizes[^1])).ToArray();
        float[] targets = new float[157 * sizes[^1]];
        for (int i = 0; i < labels.Length; i++)
        {
            targets[(i * sizes[^1]) + labels[i]] = 1f;
        }

        Dataset fromLabels = Dataset.FromLabels(inputs, sizes[0], labels, sizes[^1]), fromTargets = new(inputs, sizes[0], targets, sizes[^1]);
        Assert.True(TwoEpochs(sizes, fromLabels, threads).AsSpan().SequenceEqual(TwoEpochs(sizes, fromTargets, threads)), $"{threads} thread(s): whole sets differ");
        Assert.True(TwoEpochs(sizes, fromLabels.Slice(11, 133), threads).AsSpan().SequenceEqual(TwoEpochs(sizes, fromTargets.Slice(11, 133), threads)), $"{threads} thread(s): slices differ");
    }

    // The parameters after two epochs of m (10 unless given), eta = 3 from seed 3, every mini-batch shared among the threads.
    private static float[] TwoEpochs(int[] sizes, Dataset train, int threads, int m = 10)
    {
        var network = new Network(sizes, 3);
        using var sgd = new Trainer(network, train, new TrainingOptions { MiniBatchSize = m, Eta = 3f, Threads = threads, Seed = 4, ChooseThreads = false });
        sgd.RunEpoch();
        sgd.RunEpoch();
        return network.Parameters.ToArray();
    }

    /// <summary>With blocks of one tick the trainer switches between shared mini-batches and mini-batches on the
    /// calling thread alone every few batches (a chained pass begun one way and ended the other included): the same
    /// bits as one thread, and as two threads sharing every batch, for float and byte inputs.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Switching_between_shared_and_alone_mini_batches_changes_no_bit(bool bytes)
    {
        int[] sizes = [784, 30, 10];
        Dataset train = bytes ? TestData.RandomBytes(400, 784, 10, seed: 6) : TestData.RandomDataset(400, 784, 10, seed: 6);
        (float[] Parameters, double Shared) Train(int threads, bool choose, int steps)
        {
            var network = new Network(sizes, 3);
            using var sgd = new Trainer(network, train, new TrainingOptions
            {
                MiniBatchSize = 10, Eta = 0.5f, Threads = threads, Seed = 4, ChooseThreads = choose, ChoiceBlockTicks = 1,
            });
            for (int epoch = 0; epoch < 3; epoch++)
            {
                while (!sgd.RunMiniBatches(steps))
                {
                }

                sgd.FinishEpoch();
            }

            return (network.Parameters.ToArray(), sgd.SharedFraction);
        }

        var one = Train(1, choose: true, int.MaxValue);
        Assert.Equal(0, one.Shared);
        var shared = Train(2, choose: false, int.MaxValue);
        Assert.Equal(1, shared.Shared);
        Assert.True(one.Parameters.AsSpan().SequenceEqual(shared.Parameters), "two threads sharing every mini-batch changed the parameters");
        foreach ((int threads, int steps) in new[] { (2, int.MaxValue), (2, 3), (3, 2) })
        {
            var switching = Train(threads, choose: true, steps);
            Assert.True(switching.Shared is > 0 and < 1, $"shared {switching.Shared:P0} of the mini-batches: the test did not switch");
            Assert.True(one.Parameters.AsSpan().SequenceEqual(switching.Parameters), $"switching ways ({threads} threads, {steps} batches a call) changed the parameters");
        }
    }

    [Fact]
    public void Parallel_evaluation_counts_what_one_thread_counts()
    {
        var network = new Network([784, 30, 10], 5);
        Dataset data = TestData.RandomDataset(1000, 784, 10, seed: 2);
        int perSample = Evaluation.Evaluate(network, new Workspace(network), data);
        using var two = new Trainer(network, data, new TrainingOptions { Threads = 2 });
        Assert.Equal(perSample, two.Evaluate(data));
        Assert.Equal(perSample, Evaluation.Evaluate(network, new Workspace(network, capacity: 64), data));
    }

    [Fact]
    public void Threaded_epochs_allocate_nothing_on_any_thread()
    {
        var network = new Network([784, 100, 10], 5);
        Dataset train = TestData.RandomDataset(500, 784, 10, seed: 2);
        using var sgd = new Trainer(network, train, new TrainingOptions { Threads = 2, MiniBatchSize = 50, Eta = 0.1f });
        sgd.Train(2, train); // warm-up
        var rounds = new long[4];
        for (int round = 0; round < rounds.Length; round++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            sgd.Train(1, train);
            rounds[round] = GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        // Process-wide counting also sees the test host's own threads now and then, so quiet rounds are the proof:
        // an allocation of ours, on any thread, would show in every round.
        Assert.True(rounds.Count(r => r == 0) >= rounds.Length / 2, string.Join(", ", rounds));
    }

    [Fact]
    public void Thread_counts_below_one_are_rejected()
    {
        var network = new Network([4, 3, 2], 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(network, TestData.RandomDataset(5, 4, 2, 1), new TrainingOptions { Threads = 0 }));
    }
}

/// <summary>Tests that measure the whole process (allocations on every thread) run alone, not beside other tests.</summary>
[CollectionDefinition(nameof(ProcessWideMeasurements), DisableParallelization = true)]
public sealed class ProcessWideMeasurements;
