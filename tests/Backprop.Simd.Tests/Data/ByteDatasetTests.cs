using Backprop.Simd.Data;
using Backprop.Simd.Reference;
using Backprop.Simd.Runtime;
using Backprop.Simd.Tests.Training;

namespace Backprop.Simd.Tests.Data;

/// <summary>
/// Data sets held as bytes: they read as the floats <c>b / divisor</c>, and training, evaluation and their costs on
/// them give the bits the same data held as floats gives, on any number of threads, allocating nothing per epoch.
/// </summary>
[Collection(nameof(ProcessWideMeasurements))]
public class ByteDatasetTests
{
    // The same random samples twice: as bytes over 255, and as the floats b / 255f.
    private static (Dataset Bytes, Dataset Floats) Pair(int count, int inputSize, int classes, ulong seed)
    {
        var random = new SeededRandom(seed);
        byte[] inputs = new byte[count * inputSize];
        for (int i = 0; i < inputs.Length; i++)
        {
            // Mostly blank, as images are, so that batched inference's zero skipping is exercised too.
            inputs[i] = random.NextInt(3) == 0 ? (byte)random.NextInt(256) : (byte)0;
        }

        byte[] labels = Enumerable.Range(0, count).Select(_ => (byte)random.NextInt(classes)).ToArray();
        float[] floats = new float[inputs.Length];
        NaiveWidening.Divide(inputs, 255f, floats);
        return (Dataset.FromLabels(inputs, inputSize, 255f, labels, classes), Dataset.FromLabels(floats, inputSize, labels, classes));
    }

    [Fact]
    public void A_byte_set_reads_as_its_bytes_over_the_divisor_in_either_Input_form()
    {
        (Dataset bytes, Dataset floats) = Pair(20, 13, 4, seed: 1);
        Assert.True(bytes.HoldsBytes);
        Assert.False(floats.HoldsBytes);
        float[] buffer = new float[20]; // longer than a row: the first InputSize are written and returned
        for (int i = 0; i < bytes.Count; i++)
        {
            Assert.Equal(floats.Input(i).ToArray(), bytes.Input(i).ToArray());
            Assert.Equal(floats.Input(i).ToArray(), bytes.Input(i, buffer).ToArray());
            Assert.Equal(floats.Input(i).ToArray(), floats.Input(i, buffer).ToArray());
            Assert.Equal(floats.Target(i).ToArray(), bytes.Target(i).ToArray());
            Assert.Equal(floats.Label(i), bytes.Label(i));
        }

        Dataset slice = bytes.Slice(5, 10);
        Assert.True(slice.HoldsBytes);
        Assert.Equal(floats.Input(7).ToArray(), slice.Input(2, buffer).ToArray());
        Assert.Equal(floats.Label(14), slice.Label(9));
    }

    [Fact]
    public void The_byte_factory_and_Input_reject_what_does_not_fit()
    {
        byte[] eight = new byte[8];
        foreach (float bad in new[] { 0f, -1f, float.NaN, float.PositiveInfinity })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.FromLabels(eight, 4, bad, [1, 2], 10));
            Assert.Equal("divisor", e.ParamName);
        }

        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => Dataset.FromLabels(new byte[12], 4, 255f, [1, 2], 10)).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.FromLabels(eight, 4, 255f, [1, 10], 10)).ParamName);
        Assert.Throws<ArgumentNullException>(() => Dataset.FromLabels((byte[])null!, 4, 255f, [1, 2], 10));
        Dataset data = Dataset.FromLabels(eight, 4, 255f, [1, 2], 10);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => data.Input(0, new float[3])).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Input(2, new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Input(-1));
    }

    public static TheoryData<int[], CostFunction, Activation, Optimizer, int> Cases() => new()
    {
        { [49, 30, 10], CostFunction.Quadratic, Activation.Sigmoid, Optimizer.Sgd, 10 },   // BP4 folded into the weights
        { [37, 20, 7], CostFunction.LogLikelihood, Activation.ReLU, Optimizer.Adam, 7 },    // a batch that does not divide
        { [64, 40, 16, 5], CostFunction.CrossEntropy, Activation.Tanh, Optimizer.Momentum, 1 },
        { [300, 67, 10], CostFunction.LogLikelihood, Activation.LeakyReLU, Optimizer.Sgd, 64 }, // products split among threads
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Training_on_bytes_gives_the_bits_of_training_on_their_floats_on_any_thread_count(int[] sizes, CostFunction cost, Activation hidden, Optimizer optimizer, int batch)
    {
        (Dataset trainBytes, Dataset trainFloats) = Pair(333, sizes[0], sizes[^1], seed: 2);
        (Dataset testBytes, Dataset testFloats) = Pair(150, sizes[0], sizes[^1], seed: 3);
        (float[] Parameters, List<double> Results) Train(Dataset train, Dataset test, int threads)
        {
            var network = new Network(sizes, 3, new NetworkOptions { Cost = cost, HiddenActivation = hidden, WeightInit = WeightInit.ScaledNormal });
            using var trainer = new Trainer(network, train, new TrainingOptions
            {
                MiniBatchSize = batch, Eta = optimizer == Optimizer.Adam ? 0.001f : 0.5f, Optimizer = optimizer, Threads = threads, Seed = 4,
                Lambda = 0.5f, Monitor = Monitoring.All,
            });
            var results = new List<double>();
            trainer.Train(2, test, r => results.AddRange([r.Correct, r.EvaluationCost, r.TrainingCost, r.TrainingCorrect]));
            results.Add(trainer.Evaluate(train));
            results.Add(Evaluation.Evaluate(network, new Workspace(network), test));
            results.Add(Evaluation.TotalCost(network, new Workspace(network), test, 0.5f));
            return (network.Parameters.ToArray(), results);
        }

        var reference = Train(trainFloats, testFloats, 1);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var fromBytes = Train(trainBytes, testBytes, threads);
            Assert.Equal(reference.Results, fromBytes.Results);
            Assert.True(reference.Parameters.AsSpan().SequenceEqual(fromBytes.Parameters), $"{threads} threads on bytes changed the parameters");
        }

        // Mixed forms: float training data evaluated on bytes, and the other way round.
        Assert.Equal(reference.Results, Train(trainFloats, testBytes, 2).Results);
        Assert.Equal(reference.Results, Train(trainBytes, testFloats, 2).Results);
    }

    [Fact]
    public void Batched_inference_counts_on_bytes_what_it_counts_on_their_floats()
    {
        (Dataset bytes, Dataset floats) = Pair(500, 100, 10, seed: 5);
        var network = new Network([100, 30, 10], 6);
        using var inference = new BatchInference(network, 2, blockSize: 16);
        Assert.Equal(inference.Evaluate(floats), inference.Evaluate(bytes));
        Assert.Equal(inference.Evaluate(floats.Slice(3, 99)), inference.Evaluate(bytes.Slice(3, 99)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Epochs_on_bytes_allocate_nothing(int threads)
    {
        (Dataset train, _) = Pair(100, 784, 10, seed: 7);
        (Dataset test, _) = Pair(70, 784, 10, seed: 8);
        var network = new Network([784, 30, 10], 1);
        using var trainer = new Trainer(network, train, new TrainingOptions { MiniBatchSize = 7, Threads = threads, Monitor = Monitoring.All });
        Action<int, int> progress = (_, _) => { };
        var workspace = new Workspace(network);
        float[] row = new float[784];
        Assert.Equal(0, AllocatedBy(() => trainer.RunEpoch(test, progress)));
        Assert.Equal(0, AllocatedBy(() => trainer.Train(2, test)));
        Assert.Equal(0, AllocatedBy(() => Evaluation.TotalCost(network, workspace, test, 1f)));
        Assert.Equal(0, AllocatedBy(() => Evaluation.Evaluate(network, workspace, test)));
        Assert.Equal(0, AllocatedBy(() => network.Predict(test.Input(3, row), workspace)));
    }

    [Fact]
    public void Bundled_digits_are_bytes_that_read_as_the_float_reader_gives_them()
    {
        MnistSplit split = MnistData.LoadBundled();
        Assert.True(split.Training.HoldsBytes && split.Test.HoldsBytes);
        IdxImages floats = IdxReader.ReadImages(Path.Combine(BundledMnistTests.DataDirectory(), MnistData.TestImagesFile + ".gz"));
        float[] row = new float[split.Test.InputSize];
        for (int i = 0; i < split.Test.Count; i += 97)
        {
            Assert.True(floats.Image(i).SequenceEqual(split.Test.Input(i, row)), $"test image {i}");
        }
    }

    // Whole process, every thread: the workers' allocations count too. The test host's own threads allocate now and
    // then, so the quietest of four rounds counts: an allocation of ours would show in every round.
    private static long AllocatedBy(Action action)
    {
        for (int i = 0; i < 3; i++)
        {
            action();
        }

        long quietest = long.MaxValue;
        for (int round = 0; round < 4 && quietest > 0; round++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            action();
            quietest = Math.Min(quietest, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        return quietest;
    }
}
