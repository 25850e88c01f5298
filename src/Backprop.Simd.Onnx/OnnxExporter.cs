using Backprop.Simd.Serialization;
using System.Globalization;
using Backprop.Simd.Onnx.Protobuf;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Onnx;

/// <summary>Builds the <c>ModelProto</c> of a network: one <c>Gemm</c> (transB=1) and one activation node per layer.</summary>
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
            string? op = OperatorOf(activation);
            string layerOutput = l == layers ? OnnxModel.OutputName : $"layer{l}.a";
            string gemmOutput = op is null ? layerOutput : $"layer{l}.z";
            string weight = $"layer{l}.weight", bias = $"layer{l}.bias";

            // y = x W^T + b: Gemm with transB=1 takes our row-major n_l x n_{l-1} W as it is, like PyTorch's Linear.
            graph.Message(S.Graph.Node, Node($"layer{l}.gemm", "Gemm", [previous, weight, bias], gemmOutput)
                .Message(S.Node.Attribute, IntAttribute("transB", 1)));
            if (op is not null)
            {
                ProtoMessage node = Node($"layer{l}.{op.ToLowerInvariant()}", op, [gemmOutput], layerOutput);
                if (activation.Kind == ActivationKind.LeakyReLU)
                {
                    node.Message(S.Node.Attribute, FloatAttribute("alpha", activation.Slope));
                }
                else if (activation == Activation.Softmax)
                {
                    node.Message(S.Node.Attribute, IntAttribute("axis", -1));
                }

                graph.Message(S.Graph.Node, node);
            }

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
        }

        graph.String(S.Graph.DocString, Describe(network));
        graph.Message(S.Graph.Input, BatchOf(OnnxModel.InputName, network.InputSize));
        graph.Message(S.Graph.Output, BatchOf(OnnxModel.OutputName, network.OutputSize));

        var model = new ProtoMessage()
            .Int64(S.Model.IrVersion, OnnxModel.IrVersion)
            .String(S.Model.ProducerName, OnnxModel.ProducerName)
            .String(S.Model.ProducerVersion, OnnxModel.ProducerVersion)
            .Int64(S.Model.ModelVersion, 1)
            .String(S.Model.DocString, Describe(network))
            .Message(S.Model.Graph, graph)
            .Message(S.Model.OpsetImport, new ProtoMessage()
                .String(S.OperatorSetId.Domain, "")
                .Int64(S.OperatorSetId.Version, OnnxModel.OpsetVersion))
            .Message(S.Model.MetadataProps, new ProtoMessage()
                .String(S.StringStringEntry.Key, OnnxModel.CostMetadataKey)
                .String(S.StringStringEntry.Value, Names.OnnxCosts.Of(network.Cost)));
        return model;
    }

    /// <summary>The ONNX operator of an activation; null for <see cref="Activation.Identity"/>, which needs no node.</summary>
    internal static string? OperatorOf(Activation activation) => activation.Kind switch
    {
        ActivationKind.Sigmoid => "Sigmoid",
        ActivationKind.Tanh => "Tanh",
        ActivationKind.ReLU => "Relu",
        ActivationKind.LeakyReLU => "LeakyRelu",
        ActivationKind.Softmax => "Softmax",
        ActivationKind.Identity => null,
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };

    private static string Describe(Network network) => string.Create(CultureInfo.InvariantCulture,
        $"Fully connected network [{string.Join(", ", network.Sizes.ToArray())}] exported by {OnnxModel.ProducerName}: " +
        $"per layer y = x W^T + b (Gemm, transB=1, W stored [n_out, n_in]) then its activation " +
        $"({Names.Of(network.Activations)}); trained with the {Names.Of(network.Cost)} cost. " +
        $"Input '{OnnxModel.InputName}' [N, {network.InputSize}], output '{OnnxModel.OutputName}' [N, {network.OutputSize}], float32.");

    private static ProtoMessage Node(string name, string op, string[] inputs, string output)
    {
        var node = new ProtoMessage();
        foreach (string input in inputs)
        {
            node.String(S.Node.Input, input);
        }

        return node.String(S.Node.Output, output).String(S.Node.Name, name).String(S.Node.OpType, op);
    }

    private static ProtoMessage IntAttribute(string name, long value) => new ProtoMessage()
        .String(S.Attribute.Name, name)
        .Int64(S.Attribute.I, value)
        .Int64(S.Attribute.Type, S.AttributeType.Int);

    private static ProtoMessage FloatAttribute(string name, float value) => new ProtoMessage()
        .String(S.Attribute.Name, name)
        .Float(S.Attribute.F, value)
        .Int64(S.Attribute.Type, S.AttributeType.Float);

    private static ProtoMessage FloatTensor(string name, long[] dims, ReadOnlyMemory<float> values)
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

    private static ProtoMessage BatchOf(string name, int width)
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
