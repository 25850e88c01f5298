using Backprop.Simd.Data;
using Backprop.Simd.Runtime;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Quantized;

/// <summary>
/// <see cref="QuantizedNetwork.From(Network, Dataset)"/>: input scales fixed from calibration data. The outputs stay
/// within the quantization bound of the exact float network, saturation included (inputs beyond the calibrated range);
/// the batch path gives the single-sample bits; nothing is allocated per call.
/// </summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 100)]
public class CalibratedNetworkTests
{
    /// <summary>Samples with inputs in [low, 1] to calibrate on.</summary>
    internal static Dataset Calibration(int count, int inputSize, double low, ulong seed)
    {
        var random = new SeededRandom(seed);
        float[] inputs = TestData.Uniform(count * inputSize, ref random, low, 1);
        return new Dataset(inputs, inputSize, new float[count], 1);
    }

    /// <summary>The calibrated network, or null when a layer's inputs were all 0 on the calibration data (a dead ReLU
    /// layer of a tiny random network), which <see cref="QuantizedNetwork.From(Network, Dataset)"/> refuses.</summary>
    internal static QuantizedNetwork? TryCalibrate(Network network, Dataset calibration)
    {
        try
        {
            return QuantizedNetwork.From(network, calibration);
        }
        catch (ArgumentException e) when (e.Message.Contains("too narrow", StringComparison.Ordinal))
        {
            return null;
        }
    }

    [Property]
    public void Calibrated_outputs_are_within_the_quantization_bound_saturation_included(Architecture arch)
    {
        Network network = arch.CreateNetwork();
        bool signed = arch.Seed % 2 == 0;
        QuantizedNetwork? quantized = TryCalibrate(network, Calibration(16, arch.Sizes[0], signed ? -1 : 0, arch.Seed + 3));
        if (quantized is null)
        {
            return;
        }

        Assert.True(quantized.IsCalibrated);
        var ws = new QuantizedWorkspace(quantized);
        var random = new SeededRandom(arch.Seed + 1);
        for (int sample = 0; sample < 4; sample++)
        {
            // Like the calibration data, then beyond it (up to 3 times its range: layer 1 saturates, and later layers too).
            double reach = sample < 2 ? 1 : 3;
            float[] x = TestData.Uniform(arch.Sizes[0], ref random, signed ? -reach : 0, reach);
            QuantizationErrorBound.AssertWithin(network, quantized, ws, x, $"{arch}, sample {sample}");
        }
    }

    [Fact]
    public void The_saturation_term_is_needed_so_the_property_can_fail()
    {
        // An identity network: an input 3 times beyond the calibrated range is off by far more than half a step, and the
        // bound without the saturation term would not hold; with it, it does.
        var network = new Network([40, 5], 3, new NetworkOptions { OutputActivation = Activation.Identity });
        QuantizedNetwork quantized = QuantizedNetwork.From(network, Calibration(8, 40, 0, 4));
        var ws = new QuantizedWorkspace(quantized);
        var random = new SeededRandom(5);
        float[] x = TestData.Uniform(40, ref random, 2, 3);
        float[] output = quantized.FeedForward(x, ws).ToArray();
        double[] exact = QuantizationErrorBound.Exact(network, x);
        double[] bound = QuantizationErrorBound.Compute(network, quantized, ws, x);
        double step = ws.InputScale(1).Scale, largest = 0, withoutSaturation = 0;
        for (int i = 0; i < 5; i++)
        {
            largest = Math.Max(largest, Math.Abs(output[i] - exact[i]));
            Assert.True(Math.Abs(output[i] - exact[i]) <= bound[i]);
        }

        for (int j = 0; j < 5; j++)
        {
            double rowScale = quantized.ScalesOf(1)[j], weights = quantized.RowCodes(1).AsSpan(j * 40, 40).ToArray().Sum(c => Math.Abs((double)c)) * rowScale;
            withoutSaturation = Math.Max(withoutSaturation, (step * weights) + (rowScale * x.Sum(v => (double)v)));
        }

        Assert.True(largest > withoutSaturation, $"error {largest:E3}, bound without saturation {withoutSaturation:E3}");
    }

    [Fact]
    public void Values_beyond_the_range_saturate_to_the_largest_code_and_never_wrap()
    {
        var network = new Network([20, 8, 3], 2, new NetworkOptions { HiddenActivation = Activation.ReLU, Cost = CostFunction.LogLikelihood });
        Dataset calibration = Calibration(10, 20, 0, 6);
        QuantizedNetwork quantized = QuantizedNetwork.From(network, calibration);
        var ws = new QuantizedWorkspace(quantized);

        // Layer 1's scale covers [0, the largest calibration input] in 127 steps.
        float largest = 0;
        for (int i = 0; i < calibration.Count; i++)
        {
            largest = Math.Max(largest, calibration.Input(i).ToArray().Max());
        }

        var random = new SeededRandom(7);
        float[] x = TestData.Uniform(20, ref random, 0, 1);
        quantized.FeedForward(x, ws);
        Assert.Equal((float)(largest / 127.0), ws.InputScale(1).Scale);
        Assert.Equal(0, ws.InputScale(1).ZeroPoint);

        // Any value beyond the top end gives code 127, the same as the top end itself: the same outputs, finite.
        float[] atEnd = (float[])x.Clone();
        atEnd[3] = largest;
        int[] expected = Bits(quantized.FeedForward(atEnd, ws));
        foreach (float beyond in new[] { largest * 1.01f, 1e6f, 1e30f, float.MaxValue })
        {
            float[] far = (float[])x.Clone();
            far[3] = beyond;
            Assert.Equal(expected, Bits(quantized.FeedForward(far, ws)));
        }

        // Below the bottom end (0 here), code 0: a negative input counts as 0.
        float[] zero = (float[])x.Clone(), negative = (float[])x.Clone();
        zero[5] = 0;
        negative[5] = -float.MaxValue;
        Assert.Equal(Bits(quantized.FeedForward(zero, ws)), Bits(quantized.FeedForward(negative, ws)));

        // NaN and infinity still give NaN outputs, as in the float network.
        x[7] = float.NaN;
        Assert.All(quantized.FeedForward(x, ws).ToArray(), v => Assert.True(float.IsNaN(v)));
        x[7] = float.NegativeInfinity;
        Assert.All(quantized.FeedForward(x, ws).ToArray(), v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void Bad_calibration_data_is_refused_naming_the_parameter()
    {
        var network = new Network([6, 4, 3], 1, new NetworkOptions { HiddenActivation = Activation.ReLU });
        Assert.Throws<ArgumentNullException>("calibration", () => QuantizedNetwork.From(network, null!));
        Assert.Throws<ArgumentNullException>("network", () => QuantizedNetwork.From(null!, Calibration(2, 6, 0, 1)));
        Assert.Contains("of 5 inputs, expected at least 1 sample of 6", Assert.Throws<ArgumentException>("calibration", () => QuantizedNetwork.From(network, Calibration(2, 5, 0, 1))).Message);
        Assert.Contains("0 samples", Assert.Throws<ArgumentException>("calibration", () => QuantizedNetwork.From(network, Calibration(2, 6, 0, 1).Slice(0, 0))).Message);
        float[] poisoned = new float[12];
        poisoned[8] = float.NaN;
        Assert.Contains("sample 1 gives layer 1 a NaN", Assert.Throws<ArgumentException>("calibration", () => QuantizedNetwork.From(network, new Dataset(poisoned, 6, new float[2], 1))).Message);
        var zeros = new Network([6, 4, 3], 1, new NetworkOptions { HiddenActivation = Activation.ReLU });
        Assert.Contains("layer 1's inputs the range [0, 0]", Assert.Throws<ArgumentException>("calibration", () => QuantizedNetwork.From(zeros, new Dataset(new float[12], 6, new float[2], 1))).Message);
        Assert.False(QuantizedNetwork.From(network).IsCalibrated);
    }

    [Property(MaxTest = 40)]
    public void Blocks_of_a_calibrated_batch_give_the_single_sample_bits(Architecture arch)
    {
        QuantizedNetwork? quantized = TryCalibrate(arch.CreateNetwork(), Calibration(8, arch.Sizes[0], -1, arch.Seed + 2));
        if (quantized is not null)
        {
            QuantizedNetworkTests.CheckBlocksAgainstSingleSamples(quantized, arch);
        }
    }

    [Fact]
    public void A_hidden_overflow_fails_only_its_own_sample_in_a_block()
    {
        // Layer 1's first neuron sums two inputs by weights of 3e38: finite for (1, 0, ...), infinite for (1, 1, ...),
        // so layer 2's block quantization meets an infinity in one row and must find whose.
        var network = new Network([4, 3, 2], 1, new NetworkOptions { HiddenActivation = Activation.ReLU });
        network.SetWeights(1, [3e38f, 3e38f, 0, 0, 0.5f, -0.25f, 1, 0.75f, -1, 0.5f, 0.25f, 1]);
        network.SetBiases(1, [0, 0.1f, 0.2f]);
        float[] calibration = [1, 0, 0.5f, 0.25f, 1, 0, 1, 1, 0.5f, 0, 0, 0.75f];
        int count = QuantizedNetwork.BlockSamples + 5;
        float[] inputs = new float[count * 4];
        for (int i = 0; i < count; i++)
        {
            inputs[i * 4] = 1;
            inputs[(i * 4) + 1] = i % 9 == 4 ? 1 : 0;
            inputs[(i * 4) + 2] = (i % 5) / 4f;
            inputs[(i * 4) + 3] = (i % 3) / 2f;
        }

        foreach (QuantizedNetwork quantized in new[] { QuantizedNetwork.From(network, new Dataset(calibration, 4, new float[6], 2)), QuantizedNetwork.From(network) })
        {
            var ws = new QuantizedWorkspace(quantized);
            float[] outputs = new float[count * 2];
            using var batch = new QuantizedBatchInference(quantized);
            batch.FeedForward(inputs, outputs);
            for (int i = 0; i < count; i++)
            {
                float[] expected = quantized.FeedForward(inputs.AsSpan(i * 4, 4), ws).ToArray();
                Assert.Equal(i % 9 == 4, float.IsNaN(expected[0]));
                Assert.Equal(Bits(expected), Bits(outputs.AsSpan(i * 2, 2)));
            }
        }
    }

    [Fact]
    public void Calibrated_inference_allocates_nothing()
    {
        var network = new Network([784, 30, 10], seed: 1);
        QuantizedNetworkTests.CheckNoAllocation(QuantizedNetwork.From(network, TestData.RandomDataset(20, 784, 10, seed: 2)));
    }

    [Fact]
    public void Calibrated_scales_are_faithful_on_digits()
    {
        // A [784, 30, 10] ReLU/softmax network calibrated on 1,000 bundled digits predicts like the float network.
        MnistSplit digits = MnistData.LoadBundled();
        var network = new Network([784, 30, 10], 3, new NetworkOptions { HiddenActivation = Activation.ReLU, Cost = CostFunction.LogLikelihood, WeightInit = WeightInit.He });
        QuantizedNetwork quantized = QuantizedNetwork.From(network, digits.Training.Slice(0, 1000));
        using var batch = new QuantizedBatchInference(quantized);
        Dataset test = digits.Test.Slice(0, 1000);
        var ws = new QuantizedWorkspace(quantized);
        var fws = new Workspace(network);
        int agree = 0;
        for (int i = 0; i < test.Count; i++)
        {
            agree += quantized.Predict(test.Input(i), ws) == network.Predict(test.Input(i), fws) ? 1 : 0;
        }

        Assert.True(agree >= 980, $"{agree} / 1000 agree");
        Assert.Equal(quantized.Evaluate(test, ws), batch.Evaluate(test));
    }

    private static int[] Bits(ReadOnlySpan<float> values) => values.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
}
