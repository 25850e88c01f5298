using Backprop.Simd.Data;
using Backprop.Simd.Tests.Onnx;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests;

[Collection(nameof(Training.ProcessWideMeasurements))]
public class BatchInferenceTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Batched_outputs_match_FeedForward_and_do_not_depend_on_the_thread_count(int threads)
    {
        var network = new Network([784, 30, 10], 3, new NetworkOptions { HiddenActivation = Activation.ReLU, Cost = CostFunction.LogLikelihood });
        Dataset data = TestData.RandomDataset(1000, 784, 10, seed: 4);
        float[] inputs = data.InputRows(0, data.Count).ToArray();
        var outputs = new float[1000 * 10];
        using var inference = new BatchInference(network, threads);
        inference.FeedForward(inputs, outputs);

        var single = new float[outputs.Length];
        using (var one = new BatchInference(network, 1))
        {
            one.FeedForward(inputs, single);
        }

        Assert.True(outputs.AsSpan().SequenceEqual(single));
        var workspace = new Workspace(network);
        AssertBothWithinBound(network, workspace, data, outputs, every: 1);
        Assert.Equal(Evaluation.Evaluate(network, workspace, data), inference.Evaluate(data));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Wide_layers_through_panels_give_the_outer_product_bits_at_any_thread_count(int threads)
    {
        // Layers of 64 neurons and more go through packed panels (Gemm.MultiplyAccumulate) in the blocks that do not
        // scan for zeros; every output must be the outer-product kernel's, bit for bit, whichever kernel ran a block.
        var network = new Network([150, 96, 70, 10], 7);
        Dataset data = TestData.RandomDataset(300, 150, 10, seed: 8);
        float[] inputs = data.InputRows(0, data.Count).ToArray();
        float[] expected = OuterProductForward(network, inputs, data.Count);
        foreach (bool skip in new[] { false, true })
        {
            var outputs = new float[data.Count * 10];
            using var inference = new BatchInference(network, threads) { SkipZeroInputs = skip };
            inference.FeedForward(inputs, outputs);
            Assert.Equal(expected, outputs);
        }

        AssertBothWithinBound(network, new Workspace(network), data, expected, every: 13);
    }

    // The forward pass of every sample at once, layer by layer through Gemm.Multiply over the transposed weights.
    private static float[] OuterProductForward(Network network, float[] inputs, int count)
    {
        ReadOnlySpan<int> n = network.Sizes;
        float[] a = inputs;
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            var transposed = new float[n[l] * n[l - 1]];
            Simd.Kernels.Gemm.Transpose(network.WeightsOf(l), n[l], n[l - 1], transposed);
            var z = new float[count * n[l]];
            Simd.Kernels.Gemm.Multiply(a, transposed, network.BiasesOf(l), z, count, n[l], n[l - 1], skipZeroInputs: false);
            a = new float[count * n[l]];
            ActivationFunctions.Apply(network.Activations[l - 1], z, a, n[l]);
        }

        return a;
    }

    // The batched outputs and FeedForward's sum the same products in other orders: both must lie within the derived
    // float error bound of the exact outputs, for every every-th sample.
    private static void AssertBothWithinBound(Network network, Workspace workspace, Dataset data, float[] outputs, int every)
    {
        int n = network.OutputSize;
        for (int i = 0; i < data.Count; i += every)
        {
            ReadOnlySpan<float> perSample = network.FeedForward(data.Input(i), workspace);
            (double[] exact, double[] bound) = ForwardErrorBound.Compute(network, data.Input(i));
            for (int j = 0; j < n; j++)
            {
                Assert.InRange(Math.Abs(outputs[(i * n) + j] - exact[j]), 0, bound[j]);
                Assert.InRange(Math.Abs(perSample[j] - exact[j]), 0, bound[j]);
            }
        }
    }

    [Fact]
    public void Skipping_blank_pixels_changes_no_answer_and_a_non_finite_weight_turns_it_off()
    {
        // Real digits: most pixels are zero in a whole block of eight, so the forward pass skips them.
        Dataset digits = MnistData.Load(Data.BundledMnistTests.DataDirectory()).Test;
        var network = new Network([784, 30, 10], 5);
        float[] inputs = new float[digits.Count * 784];
        for (int i = 0; i < digits.Count; i++)
        {
            digits.Input(i, inputs.AsSpan(i * 784));
        }

        var outputs = new float[digits.Count * 10];
        using var inference = new BatchInference(network, 2);
        inference.FeedForward(inputs, outputs);
        var single = new float[outputs.Length];
        using (var one = new BatchInference(network, 1))
        {
            one.FeedForward(inputs, single);
        }

        Assert.True(outputs.AsSpan().SequenceEqual(single)); // skipping too is bit-identical for any thread count
        var workspace = new Workspace(network);
        AssertBothWithinBound(network, workspace, digits, outputs, every: 7);

        Assert.Equal(Evaluation.Evaluate(network, workspace, digits), inference.Evaluate(digits));

        // Skipping off: the dense product gives the same bits (it adds the skipped zero terms).
        var dense = new float[outputs.Length];
        using (var noSkip = new BatchInference(network, 1) { SkipZeroInputs = false })
        {
            Assert.False(noSkip.SkipZeroInputs);
            noSkip.FeedForward(inputs, dense);
        }

        Assert.Equal(outputs, dense);

        // A NaN weight on pixel 0 (blank in every digit): skipping would hide it; the dense pass lets it reach every
        // output, as the per-sample pass does.
        network.Edit(p => p[0] = float.NaN); // W^1[0,0]: the transposed copy must notice the change
        inference.FeedForward(inputs, outputs);
        for (int i = 0; i < digits.Count; i++)
        {
            Assert.True(float.IsNaN(outputs[(i * 10) + 3]), $"sample {i}");
        }

        Assert.True(float.IsNaN(network.FeedForward(digits.Input(0), workspace)[3]));
    }

    [Fact]
    public void Batched_inference_allocates_nothing_and_checks_its_arguments()
    {
        var network = new Network([784, 30, 10], 3);
        Dataset data = TestData.RandomDataset(500, 784, 10, seed: 4);
        float[] inputs = data.InputRows(0, data.Count).ToArray();
        var outputs = new float[500 * 10];
        using var inference = new BatchInference(network, 2);
        for (int warmUp = 0; warmUp < 3; warmUp++)
        {
            inference.FeedForward(inputs, outputs);
            inference.Evaluate(data);
        }

        var rounds = new long[6];
        for (int round = 0; round < rounds.Length; round++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            inference.FeedForward(inputs, outputs);
            inference.Evaluate(data);
            rounds[round] = GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        // Process-wide counting also sees the test host's own threads now and then, so one quiet round is the proof:
        // an allocation of ours would show in every round.
        Assert.True(rounds.Count(r => r == 0) >= rounds.Length / 2, string.Join(", ", rounds));

        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => inference.FeedForward(new float[785], new float[10])).ParamName);
        Assert.Equal("outputs", Assert.Throws<ArgumentException>(() => inference.FeedForward(new float[784 * 2], new float[10])).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchInference(network, 0));
    }

    [Fact]
    public void A_call_on_a_few_samples_gives_the_bits_of_FeedForward_and_allocates_nothing()
    {
        var network = new Network([784, 30, 10], 3);
        Dataset data = TestData.RandomDataset(3, 784, 10, seed: 5);
        using var inference = new BatchInference(network, 2);
        var workspace = new Workspace(network);
        for (int count = 1; count <= 3; count++)
        {
            float[] inputs = data.InputRows(0, count).ToArray();
            var outputs = new float[count * 10];
            inference.FeedForward(inputs, outputs);
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(network.FeedForward(data.Input(i), workspace).ToArray(), outputs.AsSpan(i * 10, 10).ToArray());
            }
        }

        float[] one = data.Input(0).ToArray();
        var answer = new float[10];
        inference.FeedForward(one, answer);
        long before = GC.GetAllocatedBytesForCurrentThread();
        inference.FeedForward(one, answer);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Zero_skipping_backs_off_on_dense_blocks_and_returns_on_sparse_ones()
    {
        var skip = new ZeroSkipping();
        int expectedWait = 0;
        for (int dense = 0; dense < 10; dense++)
        {
            for (int i = 0; i < expectedWait; i++)
            {
                Assert.False(skip.Scan(), $"block {i} of the wait after dense scan {dense}");
            }

            Assert.True(skip.Scan());
            Assert.False(skip.Found(false));
            expectedWait = Math.Min(Math.Max(1, 2 * expectedWait), ZeroSkipping.MaxWait); // 1, 2, 4, ..., 64, 64
        }

        Assert.Equal(ZeroSkipping.MaxWait, expectedWait);
        for (int i = 0; i < ZeroSkipping.MaxWait; i++)
        {
            Assert.False(skip.Scan());
        }

        Assert.True(skip.Scan());
        Assert.True(skip.Found(true)); // a sparse block: scan every block again
        Assert.True(skip.Scan());
        Assert.True(skip.Found(true));
        Assert.True(skip.Scan());
    }
}
