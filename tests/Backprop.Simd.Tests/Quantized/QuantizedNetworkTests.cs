using Backprop.Simd.Data;
using Backprop.Simd.Runtime;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Quantized;

/// <summary>The int8 network against the float network it came from, within the bound derived from its scales.</summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class QuantizedNetworkTests
{
    [Property]
    public void Outputs_are_within_the_quantization_bound_of_the_exact_float_network(Architecture arch)
    {
        Network network = arch.CreateNetwork();
        QuantizedNetwork quantized = QuantizedNetwork.From(network);
        var ws = new QuantizedWorkspace(quantized);
        var random = new SeededRandom(arch.Seed + 1);
        for (int sample = 0; sample < 3; sample++)
        {
            // Pixels in [0, 1] (zero point 0) and inputs of both signs (a zero point inside the range).
            float[] x = TestData.Uniform(arch.Sizes[0], ref random, sample == 0 ? 0 : -1, 1);
            QuantizationErrorBound.AssertWithin(network, quantized, ws, x, $"{arch}, sample {sample}");
        }
    }

    [Fact]
    public void The_bound_is_small_next_to_the_outputs_so_the_property_can_fail()
    {
        // With network2's N(0, 1/n_in) weights and inputs in [0, 1], the worst-case bound (every rounding error of
        // the same sign) stays well below the largest output: a scale off by a factor of 2, an error as large as the
        // output itself, would exceed it.
        var network = new Network([300, 40, 10], 7, new NetworkOptions { HiddenActivation = Activation.ReLU, OutputActivation = Activation.Identity, WeightInit = WeightInit.ScaledNormal });
        QuantizedNetwork quantized = QuantizedNetwork.From(network);
        var ws = new QuantizedWorkspace(quantized);
        var random = new SeededRandom(8);
        float[] x = TestData.Uniform(300, ref random, 0, 1);
        double largest = quantized.FeedForward(x, ws).ToArray().Max(v => Math.Abs(v));
        double[] bound = QuantizationErrorBound.Compute(network, quantized, ws, x);
        Assert.True(bound.Max() < 0.6 * largest, $"bound {bound.Max():E3}, outputs up to {largest:E3}");
    }

    [Fact]
    public void Predict_agrees_with_the_float_network_on_a_trained_model()
    {
        // A [784, 30, 10] sigmoid network trained briefly on random digits' stand-in: the argmax rarely moves.
        var network = new Network([784, 30, 10], seed: 3);
        Dataset data = TestData.RandomDataset(200, 784, 10, seed: 4);
        QuantizedNetwork quantized = QuantizedNetwork.From(network);
        var ws = new QuantizedWorkspace(quantized);
        var fws = new Workspace(network);
        float[] row = new float[784];
        int agree = 0;
        for (int i = 0; i < data.Count; i++)
        {
            data.Input(i, row);
            agree += quantized.Predict(row, ws) == network.Predict(row, fws) ? 1 : 0;
        }

        Assert.True(agree >= 190, $"{agree} / 200 agree");
        Assert.Equal(Evaluation.Evaluate(network, fws, data), data.Count - Enumerable.Range(0, data.Count).Count(i => network.Predict(data.Input(i, row), fws) != data.Label(i)));
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            correct += quantized.Predict(data.Input(i, row), ws) == data.Label(i) ? 1 : 0;
        }

        Assert.Equal(correct, quantized.Evaluate(data, ws));
    }

    [Fact]
    public void The_copy_keeps_the_architecture_and_a_quarter_of_the_bytes()
    {
        var network = new Network([784, 100, 10], 5, new NetworkOptions { HiddenActivation = Activation.ReLU, Cost = CostFunction.LogLikelihood });
        QuantizedNetwork quantized = QuantizedNetwork.From(network);
        Assert.Equal([784, 100, 10], quantized.Sizes.ToArray());
        Assert.Equal(784, quantized.InputSize);
        Assert.Equal(10, quantized.OutputSize);
        Assert.Equal(2, quantized.OutputLayer);
        Assert.Equal(CostFunction.LogLikelihood, quantized.Cost);
        Assert.Equal(Activation.ReLU, quantized.ActivationOf(1));
        Assert.Equal(Activation.Softmax, quantized.ActivationOf(2));
        Assert.Equal((196 * 104 * 4) + (25 * 16 * 4), quantized.WeightBytes); // quads of inputs x rows padded to 8
        Assert.Throws<ArgumentOutOfRangeException>("layer", () => quantized.ActivationOf(3));
    }

    [Fact]
    public void Weight_codes_use_the_full_range_per_row_and_round_to_the_nearest_step()
    {
        var network = new Network([40, 7, 3], seed: 9);
        QuantizedNetwork quantized = QuantizedNetwork.From(network);
        for (int l = 1; l <= 2; l++)
        {
            int rows = network.Sizes[l], cols = network.Sizes[l - 1];
            for (int j = 0; j < rows; j++)
            {
                ReadOnlySpan<float> row = network.Weights(l).Slice(j * cols, cols);
                sbyte[] codes = quantized.RowCodes(l).AsSpan(j * cols, cols).ToArray();
                float s = quantized.ScalesOf(l)[j];
                Assert.Equal(127, codes.Max(c => Math.Abs((int)c)));
                for (int k = 0; k < cols; k++)
                {
                    Assert.True(Math.Abs(row[k] - (codes[k] * (double)s)) <= (s * (0.5 + 1e-4)), $"layer {l} w[{j},{k}]");
                }
            }

            // The quad-major padding (inputs to a whole quad, rows to a whole 8) holds only zeros: the codes are all there.
            Assert.Equal(quantized.RowCodes(l).Count(c => c != 0), quantized.WeightsOf(l).ToArray().Count(c => c != 0));
        }
    }

    [Fact]
    public void Non_finite_inputs_give_NaN_outputs_and_non_finite_weights_are_refused()
    {
        var network = new Network([5, 4, 3], seed: 1);
        QuantizedNetwork quantized = QuantizedNetwork.From(network);
        var ws = new QuantizedWorkspace(quantized);
        Assert.All(quantized.FeedForward([1, 2, float.NaN, 0, 1], ws).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.All(quantized.FeedForward([1, float.PositiveInfinity, 0, 0, 1], ws).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.All(quantized.FeedForward([0, 0, 0, 0, 0], ws).ToArray(), v => Assert.True(float.IsFinite(v)));

        float[] weights = network.Weights(2).ToArray();
        weights[3] = float.PositiveInfinity;
        network.SetWeights(2, weights);
        ArgumentException e = Assert.Throws<ArgumentException>("network", () => QuantizedNetwork.From(network));
        Assert.Contains("layer 2", e.Message);
    }

    [Fact]
    public void Bad_arguments_name_the_parameter_and_the_sizes()
    {
        QuantizedNetwork quantized = QuantizedNetwork.From(new Network([5, 4, 3], seed: 1));
        var ws = new QuantizedWorkspace(quantized);
        var other = new QuantizedWorkspace(QuantizedNetwork.From(new Network([5, 6, 3], seed: 1)));
        Assert.Contains("length 4, expected 5", Assert.Throws<ArgumentException>("x", () => quantized.FeedForward(new float[4], ws)).Message);
        Assert.Contains("length 6, expected 5", Assert.Throws<ArgumentException>("x", () => quantized.Predict(new float[6], ws)).Message);
        Assert.Contains("[5, 6, 3], expected [5, 4, 3]", Assert.Throws<ArgumentException>("workspace", () => quantized.FeedForward(new float[5], other)).Message);
        Assert.Throws<ArgumentNullException>("workspace", () => quantized.FeedForward(new float[5], null!));
        Assert.Throws<ArgumentNullException>("network", () => QuantizedNetwork.From(null!));
        Assert.Contains("inputs of 784", Assert.Throws<ArgumentException>("data", () => quantized.Evaluate(TestData.RandomDataset(3, 784, 10, 1), ws)).Message);
        using var batch = new QuantizedBatchInference(quantized);
        Assert.Contains("multiple of the input size 5", Assert.Throws<ArgumentException>("inputs", () => batch.FeedForward(new float[7], new float[3])).Message);
        Assert.Contains("expected 6", Assert.Throws<ArgumentException>("outputs", () => batch.FeedForward(new float[10], new float[3])).Message);
        Assert.Throws<ArgumentOutOfRangeException>("threads", () => new QuantizedBatchInference(quantized, 0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Batches_give_the_single_sample_bits_on_any_number_of_threads(int threads)
    {
        var network = new Network([50, 33, 7], 2, new NetworkOptions { HiddenActivation = Activation.Tanh, Cost = CostFunction.LogLikelihood, OutputActivation = Activation.LogSoftmax });
        QuantizedNetwork quantized = QuantizedNetwork.From(network);
        var random = new SeededRandom(3);
        int count = 300;
        float[] inputs = TestData.Uniform(count * 50, ref random, -2, 2);
        float[] outputs = new float[count * 7];
        using var batch = new QuantizedBatchInference(quantized, threads);
        batch.FeedForward(inputs, outputs);
        var ws = new QuantizedWorkspace(quantized);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(quantized.FeedForward(inputs.AsSpan(i * 50, 50), ws).ToArray(), outputs.AsSpan(i * 7, 7).ToArray());
        }

        Dataset data = TestData.RandomDataset(333, 50, 7, seed: 4);
        Assert.Equal(quantized.Evaluate(data, ws), batch.Evaluate(data));
    }

    [Property(MaxTest = 40)]
    public void Blocks_of_the_batch_give_the_single_sample_bits_for_every_architecture(Architecture arch)
    {
        // Counts around the block size, every activation, and samples that fail in layer 1 (NaN, infinity) or later
        // (values near float's limit, whose weighted inputs overflow), in the middle of a block. Calibrated networks
        // go through the same check (CalibratedNetworkTests).
        CheckBlocksAgainstSingleSamples(QuantizedNetwork.From(arch.CreateNetwork()), arch);
    }

    internal static void CheckBlocksAgainstSingleSamples(QuantizedNetwork quantized, Architecture arch)
    {
        int n0 = arch.Sizes[0], nL = arch.Sizes[^1];
        var random = new SeededRandom(arch.Seed + 5);
        int count = 1 + random.NextInt(3 * QuantizedNetwork.BlockSamples);
        float[] inputs = TestData.Uniform(count * n0, ref random, -2, 2);
        for (int i = 0; i < count; i += 7)
        {
            inputs[(i * n0) + random.NextInt(n0)] = (i % 3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => 3e38f };
            if (i % 3 == 2)
            {
                inputs.AsSpan(i * n0, n0).Fill(-3e38f);
                inputs[i * n0] = 3e38f;
            }
        }

        var ws = new QuantizedWorkspace(quantized);
        foreach (int threads in new[] { 1, 2 })
        {
            float[] outputs = new float[count * nL];
            using var batch = new QuantizedBatchInference(quantized, threads);
            batch.FeedForward(inputs, outputs);
            for (int i = 0; i < count; i++)
            {
                int[] expected = quantized.FeedForward(inputs.AsSpan(i * n0, n0), ws).ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
                int[] actual = outputs.AsSpan(i * nL, nL).ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
                Assert.True(expected.SequenceEqual(actual), $"{arch}, {threads} threads, sample {i} of {count}: [{string.Join(", ", outputs.AsSpan(i * nL, nL).ToArray())}]");
            }
        }
    }

    [Fact]
    public void Byte_data_sets_evaluate_like_their_float_form()
    {
        var random = new SeededRandom(6);
        byte[] pixels = new byte[120 * 20];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)random.NextInt(256);
        }

        byte[] labels = Enumerable.Range(0, 120).Select(i => (byte)(i % 4)).ToArray();
        Dataset bytes = Dataset.FromLabels(pixels, 20, 255f, labels, 4);
        Dataset floats = Dataset.FromLabels(pixels.Select(p => p / 255f).ToArray(), 20, labels, 4);
        QuantizedNetwork quantized = QuantizedNetwork.From(new Network([20, 9, 4], seed: 5));
        var ws = new QuantizedWorkspace(quantized);
        using var batch = new QuantizedBatchInference(quantized, 2);
        int expected = quantized.Evaluate(floats, ws);
        Assert.Equal(expected, quantized.Evaluate(bytes, ws));
        Assert.Equal(expected, batch.Evaluate(bytes));
    }

    [Fact]
    public void Inference_allocates_nothing() => CheckNoAllocation(QuantizedNetwork.From(new Network([784, 30, 10], seed: 1)));

    internal static void CheckNoAllocation(QuantizedNetwork quantized)
    {
        var ws = new QuantizedWorkspace(quantized);
        Dataset data = TestData.RandomDataset(30, 784, 10, seed: 3);
        float[] x = new float[784];
        data.Input(0, x);
        using var batch = new QuantizedBatchInference(quantized, 2);
        float[] inputs = new float[30 * 784], outputs = new float[30 * 10];
        void Run()
        {
            quantized.FeedForward(x, ws);
            quantized.Predict(x, ws);
            quantized.Evaluate(data, ws);
            batch.Evaluate(data);
            batch.FeedForward(inputs, outputs);
        }

        for (int i = 0; i < 3; i++)
        {
            Run();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_workspace_used_by_two_threads_at_once_throws()
    {
        QuantizedNetwork quantized = QuantizedNetwork.From(new Network([5, 4, 3], seed: 1));
        var ws = new QuantizedWorkspace(quantized);
        using (ws.Use())
        {
            Assert.Throws<InvalidOperationException>(() => quantized.FeedForward(new float[5], ws));
        }

        Assert.Equal(3, quantized.FeedForward(new float[5], ws).Length);
    }

    [Fact]
    public void The_example_of_docs_quantization_md_runs_as_written()
    {
        string path = Path.Combine(Path.GetTempPath(), $"int8-example-{Environment.ProcessId}.json");
        Backprop.Simd.Serialization.ModelJson.Save(new Network([784, 30, 10], seed: 2), path);
        try
        {
            Dataset testData = MnistData.LoadBundled().Test;
            float[] x = new float[784], inputs = new float[3 * 784], outputs = new float[3 * 10];
            testData.Input(0, x);

            Network network = Backprop.Simd.Serialization.ModelJson.Load(path);       // any trained network
            QuantizedNetwork int8 = QuantizedNetwork.From(network);    // copies; later changes to network do not reach it
            Dataset trainingData = MnistData.LoadBundled().Training.Slice(0, 500);
            QuantizedNetwork fixedScales = QuantizedNetwork.From(network, trainingData); // or: input scales calibrated on data
            Assert.True(fixedScales.IsCalibrated && !int8.IsCalibrated);
            var workspace = new QuantizedWorkspace(int8);              // one per thread; the network is shared

            ReadOnlySpan<float> output = int8.FeedForward(x, workspace);   // valid until the workspace's next call
            Assert.Equal(Network.ArgMax(output), int8.Predict(x, workspace));
            int correct = int8.Evaluate(testData, workspace);              // one sample at a time, allocates nothing

            using var batch = new QuantizedBatchInference(int8, threads: 2); // many samples on a fixed set of threads
            batch.FeedForward(inputs, outputs);                              // rows of inputs -> rows of outputs
            int correctToo = batch.Evaluate(testData);
            Assert.Equal(correct, correctToo);

            int8.Save(path + ".int8");                                        // the int8 model alone: no float weights needed
            QuantizedNetwork loaded = QuantizedNetwork.Load(path + ".int8"); // computes exactly what int8 does
            Backprop.Simd.Onnx.OnnxModel.Save(loaded, path + ".onnx");       // Backprop.Simd.Onnx: MatMulInteger, runs in ONNX Runtime
            Assert.Equal(int8.Evaluate(testData, workspace), loaded.Evaluate(testData, new QuantizedWorkspace(loaded)));
            Assert.True(new FileInfo(path + ".onnx").Length > 784 * 30);
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".int8");
            File.Delete(path + ".onnx");
        }
    }
}
