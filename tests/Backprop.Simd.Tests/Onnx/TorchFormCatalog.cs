using Backprop.Simd.Onnx.Protobuf;
using static Backprop.Simd.Tests.Onnx.OnnxFixtures;
using static Backprop.Simd.Tests.Onnx.TorchNodes;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Tests.Onnx;

/// <summary>
/// The graph forms <c>torch.onnx.export</c> (1.13) writes for fully connected models, one <see cref="TorchForm"/>
/// each, node for node as scripts/torch-onnx-check.py's exports showed them (sizes made small: 6 inputs, as [1, 2, 3]
/// where the module flattens, and 3 outputs).
/// </summary>
internal static class TorchForms
{
    private static readonly float Mean = 0.1307f, Deviation = 0.3081f;

    public static IEnumerable<TorchForm> All =>
    [
        AliasedBias(), ReshapeToConstant(), ViewChain(13), ViewChain(9), ViewChain(7), ConstantWeights(), TransposedWeights(),
        NormalisationBuffers(), BatchNorm(opset: 17), BatchNorm(opset: 9), BatchNormAfterActivation(), LeakyRelu(), Elu(), Gelu(), GeluWrittenOut(),
        SiLU(), LogSoftmax(), Dropout(opset: 13), Dropout(opset: 11), AffineAroundActivation(),
    ];

    // The model with PyTorch's IR version for the opset; weightInputs: initializers also declared as graph inputs
    // (keep_initializers_as_inputs, the default below opset 9).
    private static byte[] Build(long opset, ProtoMessage[] nodes, ProtoMessage[] initializers, object[] input, long outputs, params ProtoMessage[] weightInputs)
    {
        long ir = opset switch { 7 => 3, 9 => 4, 11 => 6, 13 => 7, _ => 8 };
        return Model(Graph(nodes, initializers, [FloatValue("input", input), .. weightInputs], [FloatValue("output", input[0], outputs)]), opset, ir).ToArray();
    }

    /// <summary>A fresh [6, 5, 5, 3] ReLU model has zero biases in its first two layers: PyTorch keeps one initializer
    /// and writes <c>Identity(0.bias) -> 2.bias</c> as node 0.</summary>
    private static TorchForm AliasedBias()
    {
        (float[] w0, _) = Linear(6, 5, 1);
        (float[] w2, _) = Linear(5, 5, 2);
        (float[] w4, float[] b4) = Linear(5, 3, 3);
        float[] zeros = new float[5];
        ProtoMessage[] nodes =
        [
            Node("Identity", "Identity_0", ["0.bias"], "2.bias"),
            Gemm("0", "input", "/0/Gemm_output_0"),
            Node("Relu", "/1/Relu", ["/0/Gemm_output_0"], "/1/Relu_output_0"),
            Gemm("2", "/1/Relu_output_0", "/2/Gemm_output_0"),
            Node("Relu", "/3/Relu", ["/2/Gemm_output_0"], "/3/Relu_output_0"),
            Gemm("4", "/3/Relu_output_0", "output"),
        ];
        ProtoMessage[] initializers = [Floats("0.weight", [5, 6], w0), Floats("0.bias", [5], zeros), Floats("2.weight", [5, 5], w2), Floats("4.weight", [3, 5], w4), Floats("4.bias", [3], b4)];
        return new TorchForm(
            "aliased bias", "zero biases of equal shape: nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 3))",
            Build(13, nodes, initializers, [1L, 6L], 3), [6], [6, 5, 5, 3], [Activation.ReLU, Activation.ReLU, Activation.Identity], CostFunction.Quadratic,
            [Exact(w0, zeros, 5), Exact(w2, zeros, 5), Exact(w4, b4, 3)],
            x => new GraphReference(x).Linear(w0, zeros, 5).Activate(Activation.ReLU).Linear(w2, zeros, 5).Activate(Activation.ReLU).Linear(w4, b4, 3))
        { FixedBatch = true };
    }

    /// <summary><c>x.view(-1, 6)</c> with dynamic axes: Reshape to a Constant [-1, 6].</summary>
    private static TorchForm ReshapeToConstant()
    {
        (float[] w1, float[] b1) = Linear(6, 4, 4);
        (float[] w2, float[] b2) = Linear(4, 3, 5);
        ProtoMessage[] nodes =
        [
            Ints("/Constant_output_0", [2], -1, 6),
            Node("Reshape", "/Reshape", ["input", "/Constant_output_0"], "/Reshape_output_0"),
            Gemm("fc1", "/Reshape_output_0", "/fc1/Gemm_output_0"),
            Node("Relu", "/Relu", ["/fc1/Gemm_output_0"], "/Relu_output_0"),
            Gemm("fc2", "/Relu_output_0", "output"),
        ];
        ProtoMessage[] initializers = [Floats("fc1.weight", [4, 6], w1), Floats("fc1.bias", [4], b1), Floats("fc2.weight", [3, 4], w2), Floats("fc2.bias", [3], b2)];
        return new TorchForm(
            "Reshape to a constant", "x.view(-1, 6) before Linear(6, 4), ReLU, Linear(4, 3); dynamic batch; opset 9",
            Build(9, nodes, initializers, ["N", 1L, 2L, 3L], 3), [1, 2, 3], [6, 4, 3], [Activation.ReLU, Activation.Identity], CostFunction.Quadratic,
            [Exact(w1, b1, 4), Exact(w2, b2, 3)],
            x => new GraphReference(x).Linear(w1, b1, 4).Activate(Activation.ReLU).Linear(w2, b2, 3));
    }

    /// <summary>
    /// <c>fc((x.view(x.size(0), -1) - 0.1307) / 0.3081)</c> with a bias-free <c>fc</c>: at opset 13 with constant
    /// folding, Shape, Gather, Unsqueeze (axes as an input), Concat, Reshape, then Sub and Div by Constant scalars and a
    /// MatMul with the folded W^T; at opset 9 without folding, Unsqueeze has an axes attribute and the weight is
    /// <c>Transpose(fc.weight)</c>; at opset 7 (fixed batch), the indices are double Constants Cast to int64 and the
    /// initializers are graph inputs too.
    /// </summary>
    private static TorchForm ViewChain(long opset)
    {
        (float[] w, _) = Linear(6, 3, 6);
        var nodes = new List<ProtoMessage>();
        if (opset == 7)
        {
            nodes.AddRange(
            [
                DoubleScalar("/Constant_output_0", 1.0),
                Node("Cast", "/Cast", ["/Constant_output_0"], "/Cast_output_0", IntAttribute("to", 7)),
                DoubleScalar("/Constant_1_output_0", -1.0),
                Node("Cast", "/Cast_1", ["/Constant_1_output_0"], "/Cast_1_output_0", IntAttribute("to", 7)),
                Node("Unsqueeze", "/Unsqueeze", ["/Cast_output_0"], "/Unsqueeze_output_0", IntsAttribute("axes", 0)),
                Node("Unsqueeze", "/Unsqueeze_1", ["/Cast_1_output_0"], "/Unsqueeze_1_output_0", IntsAttribute("axes", 0)),
                Node("Concat", "/Concat", ["/Unsqueeze_output_0", "/Unsqueeze_1_output_0"], "/Concat_output_0", IntAttribute("axis", 0)),
            ]);
        }
        else
        {
            nodes.Add(Node("Shape", "/Shape", ["input"], "/Shape_output_0"));
            nodes.Add(Ints("/Constant_output_0", [], 0));
            nodes.Add(Node("Gather", "/Gather", ["/Shape_output_0", "/Constant_output_0"], "/Gather_output_0", IntAttribute("axis", 0)));
            if (opset >= 13)
            {
                nodes.Add(Ints("onnx::Unsqueeze_6", [1], 0));
                nodes.Add(Node("Unsqueeze", "/Unsqueeze", ["/Gather_output_0", "onnx::Unsqueeze_6"], "/Unsqueeze_output_0"));
                nodes.Add(Ints("/Constant_1_output_0", [1], -1));
                nodes.Add(Node("Concat", "/Concat", ["/Unsqueeze_output_0", "/Constant_1_output_0"], "/Concat_output_0", IntAttribute("axis", 0)));
            }
            else
            {
                nodes.Add(Ints("/Constant_1_output_0", [], -1));
                nodes.Add(Node("Unsqueeze", "/Unsqueeze", ["/Gather_output_0"], "/Unsqueeze_output_0", IntsAttribute("axes", 0)));
                nodes.Add(Node("Unsqueeze", "/Unsqueeze_1", ["/Constant_1_output_0"], "/Unsqueeze_1_output_0", IntsAttribute("axes", 0)));
                nodes.Add(Node("Concat", "/Concat", ["/Unsqueeze_output_0", "/Unsqueeze_1_output_0"], "/Concat_output_0", IntAttribute("axis", 0)));
            }
        }

        bool folded = opset >= 13;
        nodes.AddRange(
        [
            Node("Reshape", "/Reshape", ["input", "/Concat_output_0"], "/Reshape_output_0"),
            Scalar("/Constant_2_output_0", Mean),
            Node("Sub", "/Sub", ["/Reshape_output_0", "/Constant_2_output_0"], "/Sub_output_0"),
            Scalar("/Constant_3_output_0", Deviation),
            Node("Div", "/Div", ["/Sub_output_0", "/Constant_3_output_0"], "/Div_output_0"),
            .. folded ? Array.Empty<ProtoMessage>() : [Node("Transpose", "/fc/Transpose", ["fc.weight"], "/fc/Transpose_output_0", IntsAttribute("perm", 1, 0))],
            Node("MatMul", "/fc/MatMul", ["/Div_output_0", folded ? "onnx::MatMul_19" : "/fc/Transpose_output_0"], "output"),
        ]);
        ProtoMessage weight = folded ? Floats("onnx::MatMul_19", [6, 3], Transpose(w, 3, 6)) : Floats("fc.weight", [3, 6], w);
        double[] exactW = [.. w.Select(v => v / (double)Deviation)];
        double[] exactB = [.. Enumerable.Range(0, 3).Select(j => Enumerable.Range(0, 6).Sum(k => w[(j * 6) + k] * -(double)Mean / Deviation))];
        object[] input = opset == 7 ? [1L, 1L, 2L, 3L] : ["N", 1L, 2L, 3L];
        return new TorchForm(
            $"x.view(x.size(0), -1) at opset {opset}", $"fc((x.view(x.size(0), -1) - 0.1307) / 0.3081), fc = Linear(6, 3, bias=False), opset {opset}, constant folding {(folded ? "on" : "off")}",
            Build(opset, [.. nodes], [weight], input, 3, opset == 7 ? [FloatValue("fc.weight", 3L, 6L)] : []), [1, 2, 3], [6, 3], [Activation.Identity], CostFunction.Quadratic,
            [(exactW, exactB)],
            x => new GraphReference(x).Elementwise('-', [Mean]).Elementwise('/', [Deviation]).Linear(w, null, 3))
        { FixedBatch = opset == 7 };
    }

    /// <summary>Weights held as plain tensors, not parameters: <c>F.linear(x, self.W, self.b)</c> exports Constant nodes.</summary>
    private static TorchForm ConstantWeights()
    {
        (float[] w1, float[] b1) = Linear(6, 4, 7);
        (float[] w2, float[] b2) = Linear(4, 3, 8);
        ProtoMessage[] nodes =
        [
            Constant("/Constant_output_0", Tensor("", [4, 6], S.DataType.Float, FloatBytes(w1))),
            Constant("/Constant_1_output_0", Tensor("", [4], S.DataType.Float, FloatBytes(b1))),
            Gemm("", "input", "/Gemm_output_0", "/Constant_output_0", "/Constant_1_output_0", name: "/Gemm"),
            Node("Tanh", "/Tanh", ["/Gemm_output_0"], "/Tanh_output_0"),
            Constant("/Constant_2_output_0", Tensor("", [3, 4], S.DataType.Float, FloatBytes(w2))),
            Constant("/Constant_3_output_0", Tensor("", [3], S.DataType.Float, FloatBytes(b2))),
            Gemm("", "/Tanh_output_0", "output", "/Constant_2_output_0", "/Constant_3_output_0", name: "/Gemm_1"),
        ];
        return new TorchForm(
            "Constant-node weights", "F.linear(torch.tanh(F.linear(x, self.W1, self.b1)), self.W2, self.b2) with plain tensors, opset 13",
            Build(13, nodes, [], [1L, 6L], 3), [6], [6, 4, 3], [Activation.Tanh, Activation.Identity], CostFunction.Quadratic,
            [Exact(w1, b1, 4), Exact(w2, b2, 3)],
            x => new GraphReference(x).Linear(w1, b1, 4).Activate(Activation.Tanh).Linear(w2, b2, 3))
        { FixedBatch = true };
    }

    /// <summary><c>x @ self.W.T + self.b</c> and a bias-free Linear without constant folding: MatMul of Transpose(weight).</summary>
    private static TorchForm TransposedWeights()
    {
        (float[] w1, float[] b1) = Linear(6, 4, 9);
        (float[] w2, _) = Linear(4, 3, 10);
        ProtoMessage[] nodes =
        [
            Node("Transpose", "/Transpose", ["W"], "/Transpose_output_0", IntsAttribute("perm", 1, 0)),
            Node("MatMul", "/MatMul", ["input", "/Transpose_output_0"], "/MatMul_output_0"),
            Node("Add", "/Add", ["/MatMul_output_0", "b"], "/Add_output_0"),
            Node("Relu", "/Relu", ["/Add_output_0"], "/Relu_output_0"),
            Node("Transpose", "/fc2/Transpose", ["fc2.weight"], "/fc2/Transpose_output_0", IntsAttribute("perm", 1, 0)),
            Node("MatMul", "/fc2/MatMul", ["/Relu_output_0", "/fc2/Transpose_output_0"], "output"),
        ];
        ProtoMessage[] initializers = [Floats("W", [4, 6], w1), Floats("b", [4], b1), Floats("fc2.weight", [3, 4], w2)];
        return new TorchForm(
            "Transpose of weights", "fc2(torch.relu(x @ self.W.T + self.b)), fc2 = Linear(4, 3, bias=False), opset 13, constant folding off",
            Build(13, nodes, initializers, [1L, 6L], 3), [6], [6, 4, 3], [Activation.ReLU, Activation.Identity], CostFunction.Quadratic,
            [Exact(w1, b1, 4), Exact(w2, null, 3)],
            x => new GraphReference(x).Linear(w1, b1, 4).Activate(Activation.ReLU).Linear(w2, null, 3))
        { FixedBatch = true };
    }

    /// <summary>
    /// <c>(x.reshape(len(x), -1) - self.mean) / self.std * 2 + 1</c> with per-feature buffers: the traced
    /// <c>len(x)</c> is a Constant 1, so the model runs with batches of 1 only (the importer reads it per sample).
    /// </summary>
    private static TorchForm NormalisationBuffers()
    {
        float[] mean = [.. Values(6, 11).Select(v => (v + 1) * 0.15f)], std = [.. Values(6, 12).Select(v => v + 1.5f)];
        (float[] w1, float[] b1) = Linear(6, 4, 13);
        (float[] w2, float[] b2) = Linear(4, 3, 14);
        ProtoMessage[] nodes =
        [
            Ints("/Constant_output_0", [2], 1, -1),
            Node("Reshape", "/Reshape", ["input", "/Constant_output_0"], "/Reshape_output_0"),
            Node("Sub", "/Sub", ["/Reshape_output_0", "mean"], "/Sub_output_0"),
            Node("Div", "/Div", ["/Sub_output_0", "std"], "/Div_output_0"),
            Scalar("/Constant_1_output_0", 2f),
            Node("Mul", "/Mul", ["/Div_output_0", "/Constant_1_output_0"], "/Mul_output_0"),
            Scalar("/Constant_2_output_0", 1f),
            Node("Add", "/Add", ["/Mul_output_0", "/Constant_2_output_0"], "/Add_output_0"),
            Gemm("fc1", "/Add_output_0", "/fc1/Gemm_output_0"),
            Node("Sigmoid", "/Sigmoid", ["/fc1/Gemm_output_0"], "/Sigmoid_output_0"),
            Gemm("fc2", "/Sigmoid_output_0", "output"),
        ];
        ProtoMessage[] initializers = [Floats("mean", [6], mean), Floats("std", [6], std), Floats("fc1.weight", [4, 6], w1), Floats("fc1.bias", [4], b1), Floats("fc2.weight", [3, 4], w2), Floats("fc2.bias", [3], b2)];
        // v = ((x - m) / s) * 2 + 1 = x (2 / s) + (1 - 2 m / s)
        double[] exactW = [.. w1.Select((v, i) => v * 2.0 / std[i % 6])];
        double[] exactB = [.. Enumerable.Range(0, 4).Select(j => b1[j] + Enumerable.Range(0, 6).Sum(k => w1[(j * 6) + k] * (1 - (2.0 * mean[k] / std[k]))))];
        return new TorchForm(
            "per-feature normalisation", "fc2(torch.sigmoid(fc1((x.reshape(len(x), -1) - self.mean) / self.std * 2 + 1))), opset 13",
            Build(13, nodes, initializers, ["N", 1L, 2L, 3L], 3), [1, 2, 3], [6, 4, 3], [Activation.Sigmoid, Activation.Identity], CostFunction.Quadratic,
            [(exactW, exactB), Exact(w2, b2, 3)],
            x => new GraphReference(x).Elementwise('-', mean).Elementwise('/', std).Elementwise('*', [2f]).Elementwise('+', [1f])
                .Linear(w1, b1, 4).Activate(Activation.Sigmoid).Linear(w2, b2, 3))
        { FixedBatch = true }; // the Reshape to [1, -1] makes ONNX Runtime run it on one sample at a time
    }

    /// <summary>
    /// <c>nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3))</c> in eval mode: at opset 17
    /// with trained statistics and training_mode=0; at opset 9 freshly made, where PyTorch aliases the running
    /// variance to the weight (ones) and the running mean to the bias (zeros) with Identity nodes.
    /// </summary>
    private static TorchForm BatchNorm(long opset)
    {
        bool fresh = opset < 14;
        (float[] w0, float[] b0) = Linear(6, 5, 15);
        (float[] w3, float[] b3) = Linear(5, 3, 16);
        float[] gamma = fresh ? [1, 1, 1, 1, 1] : [.. Values(5, 17).Select(v => v + 1.5f)], beta = fresh ? new float[5] : Values(5, 18);
        float[] mean = fresh ? new float[5] : Values(5, 19), variance = fresh ? gamma : [.. Values(5, 20).Select(v => v + 1.25f)];
        const float Epsilon = 1e-5f;
        ProtoMessage[] attributes = [FloatAttribute("epsilon", Epsilon), FloatAttribute("momentum", 0.9f), .. fresh ? Array.Empty<ProtoMessage>() : [IntAttribute("training_mode", 0)]];
        ProtoMessage[] nodes =
        [
            .. fresh ? [Node("Identity", "Identity_0", ["1.weight"], "1.running_var"), Node("Identity", "Identity_1", ["1.bias"], "1.running_mean")] : Array.Empty<ProtoMessage>(),
            Gemm("0", "input", "/0/Gemm_output_0"),
            Node("BatchNormalization", "/1/BatchNormalization", ["/0/Gemm_output_0", "1.weight", "1.bias", "1.running_mean", "1.running_var"], "/1/BatchNormalization_output_0", attributes),
            Node("Relu", "/2/Relu", ["/1/BatchNormalization_output_0"], "/2/Relu_output_0"),
            Gemm("3", "/2/Relu_output_0", "output"),
        ];
        ProtoMessage[] initializers =
        [
            Floats("0.weight", [5, 6], w0), Floats("0.bias", [5], b0), Floats("1.weight", [5], gamma), Floats("1.bias", [5], beta),
            .. fresh ? Array.Empty<ProtoMessage>() : [Floats("1.running_mean", [5], mean), Floats("1.running_var", [5], variance)],
            Floats("3.weight", [3, 5], w3), Floats("3.bias", [3], b3),
        ];
        double[] g = [.. Enumerable.Range(0, 5).Select(k => gamma[k] / Math.Sqrt(variance[k] + (double)Epsilon))];
        return new TorchForm(
            $"BatchNormalization at opset {opset}", $"nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3)).eval(), {(fresh ? "fresh" : "trained")}, opset {opset}",
            Build(opset, nodes, initializers, ["N", 6L], 3), [6], [6, 5, 3], [Activation.ReLU, Activation.Identity], CostFunction.Quadratic,
            [([.. w0.Select((v, i) => v * g[i / 6])], [.. Enumerable.Range(0, 5).Select(j => (g[j] * (b0[j] - (double)mean[j])) + beta[j])]), Exact(w3, b3, 3)],
            x => new GraphReference(x).Linear(w0, b0, 5).BatchNorm(gamma, beta, mean, variance, Epsilon).Activate(Activation.ReLU).Linear(w3, b3, 3));
    }

    /// <summary><c>nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Linear(5, 3))</c>: the normalisation
    /// folds into the next layer, <c>W' = W diag(g)</c> and <c>b' = b + W (beta - g mean)</c>.</summary>
    private static TorchForm BatchNormAfterActivation()
    {
        (float[] w0, float[] b0) = Linear(6, 5, 37);
        (float[] w3, float[] b3) = Linear(5, 3, 38);
        float[] gamma = [.. Values(5, 39).Select(v => v + 1.5f)], beta = Values(5, 40), mean = Values(5, 41), variance = [.. Values(5, 42).Select(v => v + 1.25f)];
        const float Epsilon = 1e-3f;
        ProtoMessage[] nodes =
        [
            Gemm("0", "input", "/0/Gemm_output_0"),
            Node("Relu", "/1/Relu", ["/0/Gemm_output_0"], "/1/Relu_output_0"),
            Node("BatchNormalization", "/2/BatchNormalization", ["/1/Relu_output_0", "2.weight", "2.bias", "2.running_mean", "2.running_var"], "/2/BatchNormalization_output_0",
                FloatAttribute("epsilon", Epsilon), FloatAttribute("momentum", 0.9f), IntAttribute("training_mode", 0)),
            Gemm("3", "/2/BatchNormalization_output_0", "output"),
        ];
        ProtoMessage[] initializers =
        [
            Floats("0.weight", [5, 6], w0), Floats("0.bias", [5], b0), Floats("2.weight", [5], gamma), Floats("2.bias", [5], beta),
            Floats("2.running_mean", [5], mean), Floats("2.running_var", [5], variance), Floats("3.weight", [3, 5], w3), Floats("3.bias", [3], b3),
        ];
        double[] g = [.. Enumerable.Range(0, 5).Select(k => gamma[k] / Math.Sqrt(variance[k] + (double)Epsilon))];
        return new TorchForm(
            "BatchNormalization after an activation", "nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.BatchNorm1d(5, eps=1e-3), nn.Linear(5, 3)).eval(), opset 17",
            Build(17, nodes, initializers, ["N", 6L], 3), [6], [6, 5, 3], [Activation.ReLU, Activation.Identity], CostFunction.Quadratic,
            [Exact(w0, b0, 5), ([.. w3.Select((v, i) => v * g[i % 5])], [.. Enumerable.Range(0, 3).Select(j => b3[j] + Enumerable.Range(0, 5).Sum(k => w3[(j * 5) + k] * (beta[k] - (g[k] * mean[k]))))])],
            x => new GraphReference(x).Linear(w0, b0, 5).Activate(Activation.ReLU).BatchNorm(gamma, beta, mean, variance, Epsilon).Linear(w3, b3, 3));
    }

    // Linear(6, 5), the activation's nodes, Linear(5, 3) (and a last node if given), opset 13, dynamic batch.
    private static TorchForm Activated(string name, string source, ulong seed, Activation activation, ProtoMessage[] activationNodes, string activated,
        ProtoMessage? last = null, Activation? lastActivation = null, CostFunction cost = CostFunction.Quadratic, long opset = 13, ProtoMessage[]? initializers = null)
    {
        (float[] w0, float[] b0) = Linear(6, 5, seed);
        (float[] w2, float[] b2) = Linear(5, 3, seed + 1);
        ProtoMessage[] nodes = [Gemm("0", "input", "/0/Gemm_output_0"), .. activationNodes, Gemm("2", activated, last is null ? "output" : "/2/Gemm_output_0"), .. last is null ? Array.Empty<ProtoMessage>() : [last]];
        ProtoMessage[] all = [Floats("0.weight", [5, 6], w0), Floats("0.bias", [5], b0), Floats("2.weight", [3, 5], w2), Floats("2.bias", [3], b2), .. initializers ?? []];
        Activation output = lastActivation ?? Activation.Identity;
        return new TorchForm(
            name, source, Build(opset, nodes, all, ["N", 6L], 3), [6], [6, 5, 3], [activation, output], cost,
            [Exact(w0, b0, 5), Exact(w2, b2, 3)],
            x => new GraphReference(x).Linear(w0, b0, 5).Activate(activation).Linear(w2, b2, 3).Activate(output));
    }

    private static TorchForm LeakyRelu() => Activated(
        "LeakyRelu 0.2", "nn.Sequential(nn.Linear(6, 5), nn.LeakyReLU(0.2), nn.Linear(5, 3), nn.LeakyReLU(-0.5))", 21, Activation.LeakyReLUWithSlope(0.2f),
        [Node("LeakyRelu", "/1/LeakyRelu", ["/0/Gemm_output_0"], "/1/LeakyRelu_output_0", FloatAttribute("alpha", 0.2f))], "/1/LeakyRelu_output_0",
        Node("LeakyRelu", "/3/LeakyRelu", ["/2/Gemm_output_0"], "output", FloatAttribute("alpha", -0.5f)), Activation.LeakyReLUWithSlope(-0.5f));

    private static TorchForm Elu() => Activated(
        "Elu", "nn.Sequential(nn.Linear(6, 5), nn.ELU(), nn.Linear(5, 3))", 23, Activation.ELU,
        [Node("Elu", "/1/Elu", ["/0/Gemm_output_0"], "/1/Elu_output_0", FloatAttribute("alpha", 1f))], "/1/Elu_output_0");

    private static TorchForm Gelu() => Activated(
        "GELU", "nn.Sequential(nn.Linear(6, 5), nn.GELU(), nn.Linear(5, 3))", 25, Activation.GELU,
        [
            Scalar("/1/Constant_output_0", 1.4142135f),
            Node("Div", "/1/Div", ["/0/Gemm_output_0", "/1/Constant_output_0"], "/1/Div_output_0"),
            Node("Erf", "/1/Erf", ["/1/Div_output_0"], "/1/Erf_output_0"),
            Scalar("/1/Constant_1_output_0", 1f),
            Node("Add", "/1/Add", ["/1/Erf_output_0", "/1/Constant_1_output_0"], "/1/Add_output_0"),
            Node("Mul", "/1/Mul", ["/0/Gemm_output_0", "/1/Add_output_0"], "/1/Mul_output_0"),
            Scalar("/1/Constant_2_output_0", 0.5f),
            Node("Mul", "/1/Mul_1", ["/1/Mul_output_0", "/1/Constant_2_output_0"], "/1/Mul_1_output_0"),
        ], "/1/Mul_1_output_0");

    /// <summary><c>z * 0.5 * (1 + torch.erf(z * 0.7071067811865476))</c> written out: the 0.5 first, a Mul by 1/sqrt 2,
    /// here with the constants as initializers and each commutative operation's operands swapped.</summary>
    private static TorchForm GeluWrittenOut() => Activated(
        "GELU written out", "z = fc1(x); z * 0.5 * (1 + torch.erf(z * 0.7071067811865476)), operands swapped", 27, Activation.GELU,
        [
            Node("Mul", "/Mul", ["half", "/0/Gemm_output_0"], "/Mul_output_0"),
            Node("Mul", "/Mul_1", ["/0/Gemm_output_0", "rsqrt2"], "/Mul_1_output_0"),
            Node("Erf", "/Erf", ["/Mul_1_output_0"], "/Erf_output_0"),
            Node("Add", "/Add", ["one", "/Erf_output_0"], "/Add_output_0"),
            Node("Mul", "/Mul_2", ["/Add_output_0", "/Mul_output_0"], "/Mul_2_output_0"),
        ], "/Mul_2_output_0",
        initializers: [Floats("half", [], [0.5f]), Floats("rsqrt2", [], [0.70710677f]), Floats("one", [1], [1f])]);

    private static TorchForm SiLU() => Activated(
        "SiLU", "nn.Sequential(nn.Linear(6, 5), nn.SiLU(), nn.Linear(5, 3))", 29, Activation.SiLU,
        [
            Node("Sigmoid", "/1/Sigmoid", ["/0/Gemm_output_0"], "/1/Sigmoid_output_0"),
            Node("Mul", "/1/Mul", ["/0/Gemm_output_0", "/1/Sigmoid_output_0"], "/1/Mul_output_0"),
        ], "/1/Mul_output_0");

    private static TorchForm LogSoftmax() => Activated(
        "LogSoftmax", "nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3), nn.LogSoftmax(dim=1))", 31, Activation.ReLU,
        [Node("Relu", "/1/Relu", ["/0/Gemm_output_0"], "/1/Relu_output_0")], "/1/Relu_output_0",
        Node("LogSoftmax", "/3/LogSoftmax", ["/2/Gemm_output_0"], "output", IntAttribute("axis", 1)), Activation.LogSoftmax, CostFunction.LogLikelihood);

    /// <summary>Dropout as identity: at opset 13 with training_mode a Constant false (the inference form); at opset 11,
    /// where Dropout has no mode (a training-mode export writes it so), with its unused mask output.</summary>
    private static TorchForm Dropout(long opset) => Activated(
        $"Dropout at opset {opset}", $"nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Dropout(0.5), nn.Linear(5, 3)), opset {opset}", 33, Activation.ReLU,
        [
            Node("Relu", "/1/Relu", ["/0/Gemm_output_0"], "/1/Relu_output_0"),
            .. opset >= 12
                ? new[] { Scalar("/2/Constant_output_0", 0.5f), BoolScalar("/2/Constant_1_output_0", false),
                   Node("Dropout", "/2/Dropout", ["/1/Relu_output_0", "/2/Constant_output_0", "/2/Constant_1_output_0"], "/2/Dropout_output_0") }
                : new[] { Node("Dropout", "/2/Dropout", ["/1/Relu_output_0"], "/2/Dropout_output_0", FloatAttribute("ratio", 0.5f)).String(S.Node.Output, "/2/Dropout_output_1") },
        ], "/2/Dropout_output_0", opset: opset);

    /// <summary>Elementwise maps between a layer's product and its activation, and between the activation and the next layer.</summary>
    private static TorchForm AffineAroundActivation()
    {
        (float[] w1, float[] b1) = Linear(6, 5, 35);
        (float[] w2, float[] b2) = Linear(5, 3, 36);
        ProtoMessage[] nodes =
        [
            Gemm("fc1", "input", "/fc1/Gemm_output_0"),
            Scalar("/Constant_output_0", 2f),
            Node("Mul", "/Mul", ["/fc1/Gemm_output_0", "/Constant_output_0"], "/Mul_output_0"),
            Scalar("/Constant_1_output_0", 1f),
            Node("Add", "/Add", ["/Mul_output_0", "/Constant_1_output_0"], "/Add_output_0"),
            Node("Tanh", "/Tanh", ["/Add_output_0"], "/Tanh_output_0"),
            Scalar("/Constant_2_output_0", 4f),
            Node("Div", "/Div", ["/Tanh_output_0", "/Constant_2_output_0"], "/Div_output_0"),
            Scalar("/Constant_3_output_0", 0.25f),
            Node("Sub", "/Sub", ["/Constant_3_output_0", "/Div_output_0"], "/Sub_output_0"),
            Gemm("fc2", "/Sub_output_0", "/fc2/Gemm_output_0"),
            Node("Softmax", "/Softmax", ["/fc2/Gemm_output_0"], "output", IntAttribute("axis", 1)),
        ];
        ProtoMessage[] initializers = [Floats("fc1.weight", [5, 6], w1), Floats("fc1.bias", [5], b1), Floats("fc2.weight", [3, 5], w2), Floats("fc2.bias", [3], b2)];
        // Layer 1: 2 (W x + b) + 1. Layer 2 takes 0.25 - a / 4: weights -W / 4, biases b + 0.25 sum W.
        return new TorchForm(
            "elementwise maps around an activation", "fc2(0.25 - torch.tanh(fc1(x) * 2 + 1) / 4).softmax(dim=1), opset 13",
            Build(13, nodes, initializers, ["N", 6L], 3), [6], [6, 5, 3], [Activation.Tanh, Activation.Softmax], CostFunction.LogLikelihood,
            [([.. w1.Select(v => v * 2.0)], [.. b1.Select(v => (v * 2.0) + 1)]), ([.. w2.Select(v => -v / 4.0)], [.. Enumerable.Range(0, 3).Select(j => b2[j] + Enumerable.Range(0, 5).Sum(k => w2[(j * 5) + k] * 0.25))])],
            x => new GraphReference(x).Linear(w1, b1, 5).Elementwise('*', [2f]).Elementwise('+', [1f]).Activate(Activation.Tanh)
                .Elementwise('/', [4f]).Elementwise('-', [0.25f], constantFirst: true).Linear(w2, b2, 3).Activate(Activation.Softmax));
    }
}
