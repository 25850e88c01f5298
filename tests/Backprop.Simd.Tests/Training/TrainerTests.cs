using System.Runtime.InteropServices;
using Backprop.Simd.Data;
using Backprop.Simd.Reference;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests.Training;

public class TrainerTests
{
    internal static List<(double[] X, double[] Y)> ToReference(Dataset data) =>
        Enumerable.Range(0, data.Count).Select(i => (TestData.ToDouble(data.Input(i)), TestData.ToDouble(data.Target(i)))).ToList();

    internal static List<(double[] X, int Label)> ToReferenceLabels(Dataset data) =>
        Enumerable.Range(0, data.Count).Select(i => (TestData.ToDouble(data.Input(i)), data.Label(i))).ToList();

    [Theory]
    [InlineData(new[] { 13, 9, 4 }, 7, 1f)]
    [InlineData(new[] { 20, 17, 11, 5 }, 3, 0.5f)]
    [InlineData(new[] { 9, 3 }, 1, 3f)]
    public void UpdateMiniBatch_matches_reference(int[] sizes, int batchSize, float eta)
    {
        var network = new Network(sizes, seed: 7);
        Dataset data = TestData.RandomDataset(batchSize + 5, sizes[0], sizes[^1], seed: 11);
        int[] batch = Enumerable.Range(2, batchSize).ToArray();
        var reference = ReferenceNetwork.FromArena(sizes, network.Parameters);
        var referenceData = ToReference(data);

        var bound = new double[network.ParameterCount];
        var miniBatch = batch.Select(i => referenceData[i]).ToList();
        AddStepBound(reference, miniBatch, eta, bound);
        TestTraining.UpdateMiniBatch(network, data, batch, eta);
        reference.UpdateMiniBatch(miniBatch, eta);

        AssertParametersClose(reference.ToArena(), network.Parameters, bound);
    }

    [Fact]
    public void Sgd_epochs_match_reference_with_the_same_order_including_a_smaller_last_batch()
    {
        int[] sizes = [12, 10, 6, 3];
        var network = new Network(sizes, seed: 3);
        Dataset train = TestData.RandomDataset(23, sizes[0], sizes[^1], seed: 5); // 23 = 4 batches of 5 + one of 3
        Dataset test = TestData.RandomDataset(17, sizes[0], sizes[^1], seed: 6);
        var reference = ReferenceNetwork.FromArena(sizes, network.Parameters);
        var sgd = new Trainer(network, train, new TrainingOptions { MiniBatchSize = 5, Eta = 0.5f, Seed = 99 });

        var orders = new List<int[]>();
        var correct = new List<int>();
        for (int epoch = 0; epoch < 4; epoch++)
        {
            EpochResult result = sgd.RunEpoch(test);
            orders.Add(sgd.Order.ToArray());
            correct.Add(result.Correct);
            Assert.Equal(epoch, result.Epoch);
            Assert.Equal(test.Count, result.EvaluatedCount);
        }

        // The error bound grows step by step along the reference's own trajectory.
        var referenceTrain = ToReference(train);
        var stepper = ReferenceNetwork.FromArena(sizes, new Network(sizes, seed: 3).Parameters);
        var bound = new double[network.ParameterCount];
        foreach (int[] order in orders)
        {
            for (int k = 0; k < order.Length; k += 5)
            {
                var miniBatch = order.Skip(k).Take(5).Select(i => referenceTrain[i]).ToList();
                AddStepBound(stepper, miniBatch, 0.5, bound);
                stepper.UpdateMiniBatch(miniBatch, 0.5);
            }
        }

        List<int> referenceCorrect = reference.Sgd(referenceTrain, 4, 5, 0.5, j => orders[j], ToReferenceLabels(test));

        Assert.Equal(stepper.ToArena(), reference.ToArena());
        AssertParametersClose(reference.ToArena(), network.Parameters, bound);
        Assert.Equal(referenceCorrect, correct);
        Assert.All(orders, order => Assert.Equal(Enumerable.Range(0, 23), order.Order()));
        Assert.NotEqual(orders[0], orders[1]); // reshuffled every epoch
    }

    /// <summary>The newer activations, hidden and as outputs, and leaky ReLUs of other slopes, each with a cost that takes them.</summary>
    public static TheoryData<Activation, CostFunction, Activation> ActivationCases() => new()
    {
        { Activation.GELU, CostFunction.LogLikelihood, Activation.LogSoftmax },
        { Activation.ELU, CostFunction.CrossEntropy, Activation.Sigmoid },
        { Activation.SiLU, CostFunction.Quadratic, Activation.GELU },
        { Activation.LeakyReLUWithSlope(0.2f), CostFunction.LogLikelihood, Activation.Softmax },
        { Activation.LeakyReLUWithSlope(-0.5f), CostFunction.Quadratic, Activation.ELU },
        { Activation.Tanh, CostFunction.Quadratic, Activation.SiLU },
    };

    [Theory]
    [MemberData(nameof(ActivationCases))]
    public void Sgd_epochs_match_the_reference_for_every_activation_on_one_thread_and_on_two(Activation hidden, CostFunction cost, Activation output)
    {
        int[] sizes = [12, 10, 6, 3];
        Dataset train = TestData.RandomDataset(23, sizes[0], sizes[^1], seed: 5);
        Dataset test = TestData.RandomDataset(17, sizes[0], sizes[^1], seed: 6);
        var options = new NetworkOptions { HiddenActivation = hidden, Cost = cost, OutputActivation = output, WeightInit = WeightInit.ScaledNormal };
        float[]? oneThread = null;
        foreach (int threads in new[] { 1, 2 })
        {
            var network = new Network(sizes, 3, options);
            ReferenceActivation[] activations = network.Activations.ToArray().Select(Map.ToReference).ToArray();
            var stepper = ReferenceNetwork.FromArena(sizes, network.Parameters, activations, Map.ToReference(cost));
            using var sgd = new Trainer(network, train, new TrainingOptions { MiniBatchSize = 5, Eta = 0.5f, Seed = 99, Threads = threads });
            var referenceTrain = ToReference(train);
            var bound = new double[network.ParameterCount];
            var correct = new List<int>();
            var referenceCorrect = new List<int>();
            for (int epoch = 0; epoch < 3; epoch++)
            {
                correct.Add(sgd.RunEpoch(test).Correct);
                int[] order = sgd.Order.ToArray();
                for (int k = 0; k < order.Length; k += 5) // the same mini-batches, in the same order, on the reference
                {
                    var miniBatch = order.Skip(k).Take(5).Select(i => referenceTrain[i]).ToList();
                    AddStepBound(stepper, miniBatch, 0.5, bound);
                    stepper.UpdateMiniBatch(miniBatch, 0.5);
                }

                referenceCorrect.Add(stepper.Evaluate(ToReferenceLabels(test)));
            }

            AssertParametersClose(stepper.ToArena(), network.Parameters, bound);
            Assert.Equal(referenceCorrect, correct);
            oneThread ??= network.Parameters.ToArray();
            Assert.True(oneThread.AsSpan().SequenceEqual(network.Parameters), $"{threads} threads changed the bits");
        }
    }

    [Fact]
    public void No_shuffle_visits_samples_in_data_set_order()
    {
        var network = new Network([4, 3, 2], seed: 1);
        Dataset train = TestData.RandomDataset(10, 4, 2, seed: 2);
        var sgd = new Trainer(network, train, new TrainingOptions { MiniBatchSize = 3, Eta = 1f, Shuffle = false });
        sgd.RunEpoch();
        sgd.RunEpoch();
        Assert.Equal(Enumerable.Range(0, 10), sgd.Order.ToArray());

        // ...and that matches updating batch by batch by hand.
        var manual = new Network([4, 3, 2], seed: 1);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            for (int k = 0; k < 10; k += 3)
            {
                TestTraining.UpdateMiniBatch(manual, train, Enumerable.Range(k, Math.Min(3, 10 - k)).ToArray(), 1f);
            }
        }

        Assert.Equal(manual.Parameters.ToArray(), network.Parameters.ToArray());
    }

    [Theory]
    [InlineData(Optimizer.Sgd, 0f)]       // the step folded into the weight-gradient product
    [InlineData(Optimizer.Sgd, 0.5f)]     // L1: a separate step on the stored gradient
    [InlineData(Optimizer.Momentum, 0f)]
    public void The_folded_step_gives_the_bits_of_a_separate_gradient_and_step(Optimizer optimizer, float l1)
    {
        const float Eta = 0.7f, Lambda = 2f, Mu = 0.9f;
        int[] sizes = [13, 9, 5];
        // Batches of 3, 3, 3 and 1; every third input is zero, so that some gradient products are -0.
        Dataset random = TestData.RandomDataset(10, 13, 5, seed: 6);
        float[] inputs = random.InputRows(0, 10).ToArray();
        for (int i = 0; i < inputs.Length; i += 3)
        {
            inputs[i] = 0f;
        }

        var labels = new byte[10];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = (byte)random.Label(i);
        }

        Dataset train = Dataset.FromLabels(inputs, 13, labels, 5);
        var network = new Network(sizes, seed: 5);
        var sgd = new Trainer(network, train, new TrainingOptions
        {
            MiniBatchSize = 3, Eta = Eta, Lambda = Lambda, L1 = l1, Optimizer = optimizer, Momentum = Mu, Shuffle = false,
        });
        sgd.RunEpoch();
        sgd.RunEpoch();

        // The same two epochs as separate passes: the mini-batch's gradient, then one update pass.
        var manual = new Network(sizes, seed: 5);
        var workspace = new Workspace(manual, 3);
        var velocity = new float[manual.ParameterCount];
        float l2PerSample = Lambda / (float)train.Count, l1PerSample = l1 / (float)train.Count;
        for (int epoch = 0; epoch < 2; epoch++)
        {
            for (int k = 0; k < train.Count; k += 3)
            {
                int m = Math.Min(3, train.Count - k);
                (float[] x, float[] y) = TestTraining.Gather(train, Enumerable.Range(k, m).ToArray());
                Backpropagation.Backprop(manual, workspace, x, y);
                float[] p = manual.Parameters.ToArray();
                for (int l = 1; l <= manual.OutputLayer; l++)
                {
                    Update(manual.Layout.WeightOffset(l), sizes[l] * sizes[l - 1], l2PerSample, l1PerSample, m);
                    Update(manual.Layout.BiasOffset(l), sizes[l], 0f, 0f, m);
                }

                manual.SetParameters(p);

                void Update(int offset, int length, float l2, float l1Strength, int m)
                {
                    Span<float> region = p.AsSpan(offset, length);
                    ReadOnlySpan<float> nabla = workspace.Nabla.Slice(offset, length);
                    if (optimizer == Optimizer.Sgd)
                    {
                        UpdateRules.Sgd(region, nabla, -Eta / m, 1 - (Eta * l2), Eta * l1Strength);
                    }
                    else
                    {
                        UpdateRules.Momentum(region, velocity.AsSpan(offset, length), nabla, 1f / m, l2, l1Strength, Mu, Eta);
                    }
                }
            }
        }

        // Bit patterns: -0 and +0 must not pass for each other (a zero input times a negative delta is -0).
        Assert.Equal(MemoryMarshal.Cast<float, int>(manual.Parameters).ToArray(), MemoryMarshal.Cast<float, int>(network.Parameters).ToArray());
    }

    [Fact]
    public void Same_seed_gives_bit_identical_parameters_after_training()
    {
        static float[] Train(ulong seed)
        {
            var network = new Network([30, 16, 10], seed);
            Dataset train = TestData.RandomDataset(200, 30, 10, seed: 4);
            var sgd = new Trainer(network, train, new TrainingOptions { MiniBatchSize = 10, Eta = 3f, Seed = seed });
            sgd.Train(3);
            return network.Parameters.ToArray();
        }

        float[] first = Train(42), second = Train(42), other = Train(43);
        Assert.Equal(first, second); // float equality is bitwise here: no NaNs
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Network_learns_a_separable_problem()
    {
        // Two classes split by the sign of the first input: SGD must get well above chance.
        var random = new SeededRandom(8);
        float[] inputs = TestData.Uniform(400 * 5, ref random);
        byte[] labels = Enumerable.Range(0, 400).Select(i => (byte)(inputs[i * 5] > 0 ? 1 : 0)).ToArray();
        Dataset data = Dataset.FromLabels(inputs, 5, labels, 2);
        var network = new Network([5, 8, 2], seed: 1);
        var sgd = new Trainer(network, data.Slice(0, 300), new TrainingOptions { MiniBatchSize = 10, Eta = 3f, Seed = 1 });
        var results = new List<EpochResult>();
        sgd.Train(20, data.Slice(300, 100), results.Add);
        Assert.Equal(20, results.Count);
        Assert.True(results[^1].Correct >= 90, $"only {results[^1]} after 20 epochs");
    }

    /// <summary>
    /// Adds to <paramref name="bound"/> what one mini-batch step can add to the distance between the float parameters
    /// and the double reference: <c>eta/m</c> times the sum of the per-sample gradient bounds
    /// (<see cref="GradientErrorBound"/>), plus the rounding of the sum over the batch and of the update itself.
    /// This is first order: it leaves out how earlier parameter differences change later gradients, which the
    /// factor 2 in <see cref="AssertParametersClose"/> covers for the small learning rates used here.
    /// </summary>
    internal static void AddStepBound(ReferenceNetwork atStep, List<(double[] X, double[] Y)> miniBatch, double eta, double[] bound)
    {
        double[] parameters = atStep.ToArena();
        var gradientSum = new double[bound.Length];
        var errorSum = new double[bound.Length];
        foreach ((double[] x, double[] y) in miniBatch)
        {
            (double[][] nablaB, double[][][] nablaW) = atStep.Backprop(x, y);
            (double[][] b, double[][][] w) = GradientErrorBound.Compute(atStep, x, y);
            int p = 0;
            for (int l = 0; l < b.Length; l++)
            {
                for (int j = 0; j < w[l].Length; j++)
                {
                    for (int k = 0; k < w[l][j].Length; k++, p++)
                    {
                        gradientSum[p] += Math.Abs(nablaW[l][j][k]);
                        errorSum[p] += w[l][j][k];
                    }
                }

                for (int j = 0; j < b[l].Length; j++, p++)
                {
                    gradientSum[p] += Math.Abs(nablaB[l][j]);
                    errorSum[p] += b[l][j];
                }
            }
        }

        int m = miniBatch.Count;
        for (int p = 0; p < bound.Length; p++)
        {
            double summing = Tolerance.Gamma(m) * gradientSum[p];
            bound[p] += (eta / m * (errorSum[p] + summing)) + (Tolerance.Gamma(3) * (Math.Abs(parameters[p]) + (eta / m * gradientSum[p])));
        }
    }

    internal static void AssertParametersClose(double[] expected, ReadOnlySpan<float> actual, double[] bound)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = (2 * bound[i]) + Tolerance.Subnormal;
            double error = Math.Abs(expected[i] - actual[i]);
            Assert.True(error <= tolerance, $"parameter {i}: expected {expected[i]:R}, got {actual[i]:R}, |error| {error:E3} > {tolerance:E3}");
        }
    }
}
