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

    /// <summary>The newer activations and leaky slopes: each hidden before a few outputs, and each as an output.</summary>
    public static TheoryData<int[], Activation, Activation, WeightInit, ulong> NewerNetworks()
    {
        var data = new TheoryData<int[], Activation, Activation, WeightInit, ulong>();
        Activation[] hidden = [Activation.ELU, Activation.GELU, Activation.SiLU, Activation.LeakyReLUWithSlope(0.2f), Activation.LeakyReLUWithSlope(-0.5f)];
        Activation[] outputs = [Activation.LogSoftmax, Activation.Identity, Activation.ELU, Activation.GELU, Activation.SiLU];
        int[][] shapes = [[784, 30, 10], [17, 33, 9, 4], [3, 65, 31, 16, 2], [64, 1, 7]];
        ulong seed = 100;
        foreach (Activation h in hidden)
        {
            foreach (Activation o in outputs)
            {
                if ((seed + (ulong)outputs.Length) % 2 == 0 || o == Activation.LogSoftmax || o == h) // about half the pairs, every hidden with log-softmax and as its own output
                {
                    data.Add(shapes[(int)seed % shapes.Length], h, o, seed % 3 == 0 ? WeightInit.StandardNormal : WeightInit.ScaledNormal, seed);
                }

                seed++;
            }
        }

        return data;
    }

    private static Network Random(int[] sizes, Activation hidden, Activation output, WeightInit init, ulong seed) =>
        new(sizes, seed, new NetworkOptions
        {
            HiddenActivation = hidden,
            OutputActivation = output,
            Cost = output.IsOutputOnly ? CostFunction.LogLikelihood : CostFunction.Quadratic,
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
    [MemberData(nameof(NewerNetworks))]
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
    public void Newer_activations_are_written_as_PyTorch_1_13_writes_them_at_opset_17()
    {
        int[] sizes = [4, 3, 3, 3, 3, 2];
        var network = new Network(sizes, new Network(sizes, seed: 7).Parameters,
            [Activation.GELU, Activation.SiLU, Activation.ELU, Activation.LeakyReLUWithSlope(-0.5f), Activation.LogSoftmax], CostFunction.LogLikelihood);
        OnnxModelProto model = OnnxProtoParser.Parse(OnnxModel.ToBytes(network), "export.onnx");
        OnnxGraph graph = model.Graph!;
        Assert.Equal([("", 17L)], model.Opsets);

        string[] Node(int i, string op, string[] inputs, string output)
        {
            OnnxNode node = graph.Nodes[i];
            Assert.Equal(op, node.OpType);
            Assert.Equal(inputs, node.Inputs);
            Assert.Equal([output], node.Outputs);
            return node.Attributes.Select(a => $"{a.Name}={a.F?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? a.I?.ToString(System.Globalization.CultureInfo.InvariantCulture)}").ToArray();
        }

        // GELU: z/2 (1 + erf(z / sqrt 2)) in five nodes, with three float32 scalar constants.
        Assert.Equal(["transB=1"], Node(0, "Gemm", [OnnxModel.InputName, "layer1.weight", "layer1.bias"], "layer1.z"));
        Assert.Empty(Node(1, "Div", ["layer1.z", "layer1.gelu.sqrt2"], "layer1.gelu.div"));
        Assert.Empty(Node(2, "Erf", ["layer1.gelu.div"], "layer1.gelu.erf"));
        Assert.Empty(Node(3, "Add", ["layer1.gelu.erf", "layer1.gelu.one"], "layer1.gelu.add"));
        Assert.Empty(Node(4, "Mul", ["layer1.z", "layer1.gelu.add"], "layer1.gelu.mul"));
        Assert.Empty(Node(5, "Mul", ["layer1.gelu.mul", "layer1.gelu.half"], "layer1.a"));
        foreach ((string name, float value) in new[] { ("sqrt2", 1.4142135f), ("one", 1f), ("half", 0.5f) })
        {
            OnnxTensor constant = graph.Initializers.Single(t => t.Name == $"layer1.gelu.{name}");
            Assert.Empty(constant.Dims);
            Assert.Equal(1, constant.DataType); // FLOAT
            (int start, int length) = constant.RawData!.Value;
            Assert.Equal(4, length);
            Assert.Equal(value, BitConverter.ToSingle(model.Data, start));
        }

        // SiLU: Sigmoid, then Mul(z, sigmoid); ELU with alpha 1.0 written out; the leaky ReLU's slope; LogSoftmax over each sample.
        Node(6, "Gemm", ["layer1.a", "layer2.weight", "layer2.bias"], "layer2.z");
        Assert.Empty(Node(7, "Sigmoid", ["layer2.z"], "layer2.silu.sigmoid"));
        Assert.Empty(Node(8, "Mul", ["layer2.z", "layer2.silu.sigmoid"], "layer2.a"));
        Node(9, "Gemm", ["layer2.a", "layer3.weight", "layer3.bias"], "layer3.z");
        Assert.Equal(["alpha=1"], Node(10, "Elu", ["layer3.z"], "layer3.a"));
        Node(11, "Gemm", ["layer3.a", "layer4.weight", "layer4.bias"], "layer4.z");
        Assert.Equal(["alpha=-0.5"], Node(12, "LeakyRelu", ["layer4.z"], "layer4.a"));
        Node(13, "Gemm", ["layer4.a", "layer5.weight", "layer5.bias"], "layer5.z");
        Assert.Equal(["axis=-1"], Node(14, "LogSoftmax", ["layer5.z"], OnnxModel.OutputName));
        Assert.Equal(15, graph.Nodes.Count);
        Assert.Equal(13, graph.Initializers.Count); // a weight and a bias per layer, and GELU's three constants
        Assert.Contains((OnnxModel.CostMetadataKey, "LogLikelihood"), model.Metadata);
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
