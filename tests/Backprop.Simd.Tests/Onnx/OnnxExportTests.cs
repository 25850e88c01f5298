using Backprop.Simd.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Simd.Tests.Onnx;

/// <summary>Exported models load in ONNX Runtime, declare what they should, and compute what <see cref="Network.FeedForward"/> computes.</summary>
public class OnnxExportTests
{
    public static TheoryData<int[], Activation, Activation, WeightInit, ulong> Networks()
    {
        var data = new TheoryData<int[], Activation, Activation, WeightInit, ulong>();
        Activation[] hidden = [Activation.Sigmoid, Activation.Tanh, Activation.ReLU, Activation.LeakyReLU, Activation.Identity];
        Activation[] outputs = [.. hidden, Activation.Softmax];
        int[][] shapes = [[784, 30, 10], [5, 3], [17, 33, 9, 4], [64, 1, 7], [3, 65, 31, 16, 2]];
        ulong seed = 1;
        foreach (Activation h in hidden)
        {
            foreach (Activation o in outputs)
            {
                int[] sizes = shapes[(int)seed % shapes.Length];
                WeightInit init = seed % 3 == 0 ? WeightInit.StandardNormal : WeightInit.ScaledNormal;
                data.Add(sizes, h, o, init, seed++);
            }
        }

        return data;
    }

    private static Network Random(int[] sizes, Activation hidden, Activation output, WeightInit init, ulong seed) =>
        new(sizes, seed, new NetworkOptions
        {
            HiddenActivation = hidden,
            OutputActivation = output,
            Cost = output == Activation.Softmax ? CostFunction.LogLikelihood : CostFunction.Quadratic,
            WeightInit = init,
        });

    private static float[] Inputs(int count, int width, ulong seed)
    {
        var random = new SeededRandom(seed);
        float[] x = TestData.Uniform(count * width, ref random, -1, 1);
        for (int i = 0; i < x.Length; i += 7)
        {
            x[i] *= 3; // some inputs beyond [-1, 1]
        }

        return x;
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Onnx_Runtime_computes_what_FeedForward_computes_for_batches_of_1_and_1000(int[] sizes, Activation hidden, Activation output, WeightInit init, ulong seed)
    {
        Network network = Random(sizes, hidden, output, init, seed);
        using var oracle = new OnnxRuntimeOracle(OnnxModel.ToBytes(network));
        var workspace = new Workspace(network);
        foreach (int batch in new[] { 1, 1000 })
        {
            float[] x = Inputs(batch, network.InputSize, seed * 31 + (ulong)batch);
            float[] theirs = oracle.Run(x, batch);
            Assert.Equal(batch * network.OutputSize, theirs.Length);
            for (int s = 0; s < batch; s++)
            {
                ReadOnlySpan<float> sample = x.AsSpan(s * network.InputSize, network.InputSize);
                ReadOnlySpan<float> ours = network.FeedForward(sample, workspace);
                (double[] exact, double[] bound) = ForwardErrorBound.Compute(network, sample);
                for (int j = 0; j < network.OutputSize; j++)
                {
                    float onnx = theirs[(s * network.OutputSize) + j];
                    double tolerance = bound[j] + Tolerance.Subnormal;
                    Assert.True(Math.Abs(ours[j] - exact[j]) <= tolerance, $"ours: output {j} of sample {s}/{batch}: {ours[j]} vs exact {exact[j]}, bound {tolerance}");
                    Assert.True(Math.Abs(onnx - exact[j]) <= tolerance, $"ONNX Runtime: output {j} of sample {s}/{batch}: {onnx} vs exact {exact[j]}, bound {tolerance} (ours {ours[j]})");
                }
            }
        }
    }

    [Fact]
    public void The_model_declares_a_symbolic_batch_float_input_and_output_and_its_producer()
    {
        var network = new Network([784, 30, 10], seed: 3);
        using var oracle = new OnnxRuntimeOracle(OnnxModel.ToBytes(network));
        InferenceSession session = oracle.Session;

        NodeMetadata input = session.InputMetadata[OnnxModel.InputName];
        Assert.Equal(typeof(float), input.ElementType);
        Assert.Equal([-1, 784], input.Dimensions);
        Assert.Equal(["N", ""], input.SymbolicDimensions);
        NodeMetadata output = session.OutputMetadata[OnnxModel.OutputName];
        Assert.Equal(typeof(float), output.ElementType);
        Assert.Equal([-1, 10], output.Dimensions);
        Assert.Equal(["N", ""], output.SymbolicDimensions);

        ModelMetadata metadata = session.ModelMetadata;
        Assert.Equal("Backprop.Simd", metadata.ProducerName);
        Assert.Contains("[784, 30, 10]", metadata.Description);
        Assert.Equal("Quadratic", metadata.CustomMetadataMap[OnnxModel.CostMetadataKey]);
    }
}
