using Backprop.Simd.Serialization;
using System.Globalization;
using Backprop.Simd.Onnx.Protobuf;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Onnx;

/// <summary>
/// Builds the <c>ModelProto</c> of a network: per layer one <c>Gemm</c> (transB=1) and its activation, one node, or
/// for SiLU and GELU the nodes PyTorch 1.13 writes for them at opset 17 (no such operators before opset 20).
/// </summary>
internal static class OnnxExporter
{
    public static ProtoMessage Build(Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var graph = new ProtoMessage();
        int layers = network.OutputLayer;
        string previous = OnnxModel.InputName;
        for (int l = 1; l <= layers; l++)
        {
            Activation activation = network.Activations[l - 1];
            string layerOutput = l == layers ? OnnxModel.OutputName : $"layer{l}.a";
            string gemmOutput = activation == Activation.Identity ? layerOutput : $"layer{l}.z";
            string weight = $"layer{l}.weight", bias = $"layer{l}.bias";

            // y = x W^T + b: Gemm with transB=1 takes our row-major n_l x n_{l-1} W as it is, like PyTorch's Linear.
            graph.Message(S.Graph.Node, Node($"layer{l}.gemm", "Gemm", [previous, weight, bias], gemmOutput)
                .Message(S.Node.Attribute, IntAttribute("transB", 1)));
            AddActivation(graph, l, activation, gemmOutput, layerOutput);
            previous = layerOutput;
        }

        graph.String(S.Graph.Name, "backprop_simd_network");

        // A snapshot of the arena (per layer: W row-major, then b), sliced per initializer and written as raw_data.
        float[] parameters = network.Parameters.ToArray();
        int offset = 0;
        for (int l = 1; l <= layers; l++)
        {
            int rows = network.Sizes[l], cols = network.Sizes[l - 1];
            graph.Message(S.Graph.Initializer, FloatTensor($"layer{l}.weight", [rows, cols], parameters.AsMemory(offset, rows * cols)));
            offset += rows * cols;
            graph.Message(S.Graph.Initializer, FloatTensor($"layer{l}.bias", [rows], parameters.AsMemory(offset, rows)));
            offset += rows;
            if (network.Activations[l - 1] == Activation.GELU)
            {
                // GELU's constants, as PyTorch writes them: float32 scalars (dims []).
                graph.Message(S.Graph.Initializer, FloatTensor($"layer{l}.gelu.sqrt2", [], new[] { GeluSqrt2 }));
                graph.Message(S.Graph.Initializer, FloatTensor($"layer{l}.gelu.one", [], new[] { 1f }));
                graph.Message(S.Graph.Initializer, FloatTensor($"layer{l}.gelu.half", [], new[] { 0.5f }));
            }
        }

        return ModelOf(graph, Describe(network), network.InputSize, network.OutputSize, network.Cost);
    }

    /// <summary>Ends <paramref name="graph"/> (its description, the [N, inputs] input and [N, outputs] output) and wraps
    /// it in the model message: IR version, producer, opset and the cost in the metadata.</summary>
    internal static ProtoMessage ModelOf(ProtoMessage graph, string description, int inputSize, int outputSize, CostFunction cost)
    {
        graph.String(S.Graph.DocString, description);
        graph.Message(S.Graph.Input, BatchOf(OnnxModel.InputName, inputSize));
        graph.Message(S.Graph.Output, BatchOf(OnnxModel.OutputName, outputSize));
        return new ProtoMessage()
            .Int64(S.Model.IrVersion, OnnxModel.IrVersion)
            .String(S.Model.ProducerName, OnnxModel.ProducerName)
            .String(S.Model.ProducerVersion, OnnxModel.ProducerVersion)
            .Int64(S.Model.ModelVersion, 1)
            .String(S.Model.DocString, description)
            .Message(S.Model.Graph, graph)
            .Message(S.Model.OpsetImport, new ProtoMessage()
                .String(S.OperatorSetId.Domain, "")
                .Int64(S.OperatorSetId.Version, OnnxModel.OpsetVersion))
            .Message(S.Model.MetadataProps, new ProtoMessage()
                .String(S.StringStringEntry.Key, OnnxModel.CostMetadataKey)
                .String(S.StringStringEntry.Value, Names.OnnxCosts.Of(cost)));
    }

    /// <summary>sqrt 2 rounded to float, the divisor of PyTorch's GELU export (1.4142135381698608).</summary>
    internal const float GeluSqrt2 = 1.4142135f;

    /// <summary>
    /// The ONNX operator of an activation written as one node; null for <see cref="Activation.Identity"/>, which needs
    /// no node. SiLU and GELU take several nodes (see <see cref="AddActivation"/>) and have none.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="activation"/> is SiLU, GELU or not a known kind.</exception>
    internal static string? OperatorOf(Activation activation) => activation.Kind switch
    {
        ActivationKind.Sigmoid => "Sigmoid",
        ActivationKind.Tanh => "Tanh",
        ActivationKind.ReLU => "Relu",
        ActivationKind.LeakyReLU => "LeakyRelu",
        ActivationKind.Softmax => "Softmax",
        ActivationKind.ELU => "Elu",
        ActivationKind.LogSoftmax => "LogSoftmax",
        ActivationKind.Identity => null,
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "not an activation of one ONNX operator"),
    };

    /// <summary>
    /// The nodes of layer <paramref name="l"/>'s activation, from <paramref name="z"/> to <paramref name="a"/>:
    /// <list type="bullet">
    /// <item>SiLU: <c>Sigmoid(z)</c>, then <c>Mul(z, sigmoid)</c>.</item>
    /// <item>GELU: <c>Div(z, sqrt2) -> Erf -> Add(., one) -> Mul(z, .) -> Mul(., half)</c>, z/2 (1 + erf(z / sqrt 2)),
    /// with the scalar initializers <c>layer{l}.gelu.sqrt2</c>, <c>.one</c> and <c>.half</c>.</item>
    /// <item>Any other: its one operator (<see cref="OperatorOf"/>), with LeakyRelu's <c>alpha</c> (the slope), Elu's
    /// <c>alpha</c> (1.0, written out) and the <c>axis</c> (-1) of Softmax and LogSoftmax; Identity: no node.</item>
    /// </list>
    /// </summary>
    internal static void AddActivation(ProtoMessage graph, int l, Activation activation, string z, string a)
    {
        switch (activation.Kind)
        {
            case ActivationKind.Identity:
                return;
            case ActivationKind.SiLU:
                string sigmoid = $"layer{l}.silu.sigmoid";
                graph.Message(S.Graph.Node, Node(sigmoid, "Sigmoid", [z], sigmoid));
                graph.Message(S.Graph.Node, Node($"layer{l}.silu.mul", "Mul", [z, sigmoid], a));
                return;
            case ActivationKind.GELU:
                string gelu = $"layer{l}.gelu";
                graph.Message(S.Graph.Node, Node($"{gelu}.div", "Div", [z, $"{gelu}.sqrt2"], $"{gelu}.div"));
                graph.Message(S.Graph.Node, Node($"{gelu}.erf", "Erf", [$"{gelu}.div"], $"{gelu}.erf"));
                graph.Message(S.Graph.Node, Node($"{gelu}.add", "Add", [$"{gelu}.erf", $"{gelu}.one"], $"{gelu}.add"));
                graph.Message(S.Graph.Node, Node($"{gelu}.mul", "Mul", [z, $"{gelu}.add"], $"{gelu}.mul"));
                graph.Message(S.Graph.Node, Node($"{gelu}.mul_half", "Mul", [$"{gelu}.mul", $"{gelu}.half"], a));
                return;
        }

        string op = OperatorOf(activation)!;
        ProtoMessage node = Node($"layer{l}.{op.ToLowerInvariant()}", op, [z], a);
        switch (activation.Kind)
        {
            case ActivationKind.LeakyReLU:
                node.Message(S.Node.Attribute, FloatAttribute("alpha", activation.Slope));
                break;
            case ActivationKind.ELU:
                node.Message(S.Node.Attribute, FloatAttribute("alpha", 1f));
                break;
            case ActivationKind.Softmax or ActivationKind.LogSoftmax:
                node.Message(S.Node.Attribute, IntAttribute("axis", -1));
                break;
        }

        graph.Message(S.Graph.Node, node);
    }

    private static string Describe(Network network) => string.Create(CultureInfo.InvariantCulture,
        $"Fully connected network [{string.Join(", ", network.Sizes.ToArray())}] exported by {OnnxModel.ProducerName}: " +
        $"per layer y = x W^T + b (Gemm, transB=1, W stored [n_out, n_in]) then its activation " +
        $"({Names.Of(network.Activations)}); trained with the {Names.Of(network.Cost)} cost. " +
        $"Input '{OnnxModel.InputName}' [N, {network.InputSize}], output '{OnnxModel.OutputName}' [N, {network.OutputSize}], float32.");

    internal static ProtoMessage Node(string name, string op, string[] inputs, string output)
    {
        var node = new ProtoMessage();
        foreach (string input in inputs)
        {
            node.String(S.Node.Input, input);
        }

        return node.String(S.Node.Output, output).String(S.Node.Name, name).String(S.Node.OpType, op);
    }

    internal static ProtoMessage IntAttribute(string name, long value) => new ProtoMessage()
        .String(S.Attribute.Name, name)
        .Int64(S.Attribute.I, value)
        .Int64(S.Attribute.Type, S.AttributeType.Int);

    private static ProtoMessage FloatAttribute(string name, float value) => new ProtoMessage()
        .String(S.Attribute.Name, name)
        .Float(S.Attribute.F, value)
        .Int64(S.Attribute.Type, S.AttributeType.Float);

    internal static ProtoMessage FloatTensor(string name, long[] dims, ReadOnlyMemory<float> values)
    {
        var tensor = new ProtoMessage();
        foreach (long dim in dims)
        {
            tensor.Int64(S.Tensor.Dims, dim);
        }

        return tensor
            .Int64(S.Tensor.DataType, S.DataType.Float)
            .String(S.Tensor.Name, name)
            .Floats(S.Tensor.RawData, values);
    }

    internal static ProtoMessage BatchOf(string name, int width)
    {
        var shape = new ProtoMessage()
            .Message(S.TensorShape.Dim, new ProtoMessage().String(S.Dimension.DimParam, OnnxModel.BatchDimension))
            .Message(S.TensorShape.Dim, new ProtoMessage().Int64(S.Dimension.DimValue, width));
        var tensorType = new ProtoMessage()
            .Int64(S.TensorType.ElemType, S.DataType.Float)
            .Message(S.TensorType.Shape, shape);
        return new ProtoMessage()
            .String(S.ValueInfo.Name, name)
            .Message(S.ValueInfo.Type, new ProtoMessage().Message(S.Type.TensorType, tensorType));
    }
}
