using Backprop.Simd.Onnx.Protobuf;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Tests.Onnx;

/// <summary>
/// Builds ONNX models field by field with the library's protobuf encoder, in the shapes other producers write
/// (PyTorch's naming and attribute habits), and with any defect a test needs.
/// </summary>
internal static class OnnxFixtures
{
    public static ProtoMessage Model(ProtoMessage graph, long opset = 17, long irVersion = 8, string producer = "pytorch") => new ProtoMessage()
        .Int64(S.Model.IrVersion, irVersion)
        .String(S.Model.ProducerName, producer)
        .String(S.Model.ProducerVersion, "2.5.1")
        .Message(S.Model.Graph, graph)
        .Message(S.Model.OpsetImport, new ProtoMessage().String(S.OperatorSetId.Domain, "").Int64(S.OperatorSetId.Version, opset));

    public static ProtoMessage Graph(ProtoMessage[] nodes, ProtoMessage[] initializers, ProtoMessage[] inputs, ProtoMessage[] outputs)
    {
        var graph = new ProtoMessage();
        foreach (ProtoMessage node in nodes)
        {
            graph.Message(S.Graph.Node, node);
        }

        graph.String(S.Graph.Name, "main_graph");
        foreach (ProtoMessage tensor in initializers)
        {
            graph.Message(S.Graph.Initializer, tensor);
        }

        foreach (ProtoMessage input in inputs)
        {
            graph.Message(S.Graph.Input, input);
        }

        foreach (ProtoMessage output in outputs)
        {
            graph.Message(S.Graph.Output, output);
        }

        return graph;
    }

    public static ProtoMessage Node(string op, string name, string[] inputs, string output, params ProtoMessage[] attributes)
    {
        var node = new ProtoMessage();
        foreach (string input in inputs)
        {
            node.String(S.Node.Input, input);
        }

        node.String(S.Node.Output, output).String(S.Node.Name, name).String(S.Node.OpType, op);
        foreach (ProtoMessage attribute in attributes)
        {
            node.Message(S.Node.Attribute, attribute);
        }

        return node;
    }

    public static ProtoMessage IntAttribute(string name, long value) => new ProtoMessage()
        .String(S.Attribute.Name, name).Int64(S.Attribute.I, value).Int64(S.Attribute.Type, S.AttributeType.Int);

    public static ProtoMessage FloatAttribute(string name, float value) => new ProtoMessage()
        .String(S.Attribute.Name, name).Float(S.Attribute.F, value).Int64(S.Attribute.Type, S.AttributeType.Float);

    /// <summary>A float tensor, its values as raw_data (PyTorch's habit) or as packed float_data.</summary>
    public static ProtoMessage Floats(string name, long[] dims, float[] values, bool raw = true)
    {
        var tensor = new ProtoMessage();
        foreach (long dim in dims)
        {
            tensor.Int64(S.Tensor.Dims, dim);
        }

        tensor.Int64(S.Tensor.DataType, S.DataType.Float).String(S.Tensor.Name, name);
        return raw ? tensor.Floats(S.Tensor.RawData, values) : tensor.Floats(S.Tensor.FloatData, values);
    }

    /// <summary>A tensor value [dims...]; a string is a symbolic dimension, a long a fixed one.</summary>
    public static ProtoMessage Value(string name, int elemType, params object[] dims)
    {
        var shape = new ProtoMessage();
        foreach (object dim in dims)
        {
            shape.Message(S.TensorShape.Dim, dim is string param
                ? new ProtoMessage().String(S.Dimension.DimParam, param)
                : new ProtoMessage().Int64(S.Dimension.DimValue, Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture)));
        }

        var tensorType = new ProtoMessage().Int64(S.TensorType.ElemType, elemType).Message(S.TensorType.Shape, shape);
        return new ProtoMessage().String(S.ValueInfo.Name, name).Message(S.ValueInfo.Type, new ProtoMessage().Message(S.Type.TensorType, tensorType));
    }

    public static ProtoMessage FloatValue(string name, params object[] dims) => Value(name, S.DataType.Float, dims);

    /// <summary>Deterministic weights in [-1, 1].</summary>
    public static float[] Values(int count, ulong seed)
    {
        var random = new SeededRandom(seed);
        return TestData.Uniform(count, ref random);
    }

    /// <summary>[rows, cols] row-major transposed to [cols, rows].</summary>
    public static float[] Transpose(float[] values, int rows, int cols)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                result[(c * rows) + r] = values[(r * cols) + c];
            }
        }

        return result;
    }

    /// <summary>
    /// What torch.onnx.export writes for <c>nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.Tanh(),
    /// nn.Linear(4, 3), nn.Softmax(dim=1))</c>: Gemm nodes with explicit alpha, beta and transB=1, weights
    /// <c>[out, in]</c> named after the module, values named <c>/0/Gemm_output_0</c>, a fixed batch of 1 unless
    /// dynamic axes were asked for. Returns the model and the weights it holds.
    /// </summary>
    public static (byte[] Model, float[][] Weights, float[][] Biases) PyTorchGemm(bool initializersAsInputs = false, object? batch = null)
    {
        int[] sizes = [6, 5, 4, 3];
        (float[][] w, float[][] b) = Parameters(sizes, seed: 11);
        var initializers = new List<ProtoMessage>();
        for (int l = 0; l < 3; l++)
        {
            initializers.Add(Floats($"{2 * l}.weight", [sizes[l + 1], sizes[l]], w[l]));
            initializers.Add(Floats($"{2 * l}.bias", [sizes[l + 1]], b[l]));
        }

        ProtoMessage[] gemmAttributes = [FloatAttribute("alpha", 1f), FloatAttribute("beta", 1f), IntAttribute("transB", 1)];
        ProtoMessage[] nodes =
        [
            Node("Gemm", "/0/Gemm", ["input", "0.weight", "0.bias"], "/0/Gemm_output_0", gemmAttributes),
            Node("Relu", "/1/Relu", ["/0/Gemm_output_0"], "/1/Relu_output_0"),
            Node("Gemm", "/2/Gemm", ["/1/Relu_output_0", "2.weight", "2.bias"], "/2/Gemm_output_0", gemmAttributes),
            Node("Tanh", "/3/Tanh", ["/2/Gemm_output_0"], "/3/Tanh_output_0"),
            Node("Gemm", "/4/Gemm", ["/3/Tanh_output_0", "4.weight", "4.bias"], "/4/Gemm_output_0", gemmAttributes),
            Node("Softmax", "/5/Softmax", ["/4/Gemm_output_0"], "output", IntAttribute("axis", 1)),
        ];
        var inputs = new List<ProtoMessage> { FloatValue("input", batch ?? 1L, 6L) };
        if (initializersAsInputs)
        {
            for (int l = 0; l < 3; l++)
            {
                inputs.Add(FloatValue($"{2 * l}.weight", (long)sizes[l + 1], (long)sizes[l]));
                inputs.Add(FloatValue($"{2 * l}.bias", (long)sizes[l + 1]));
            }
        }

        byte[] model = Model(Graph(nodes, [.. initializers], [.. inputs], [FloatValue("output", batch ?? 1L, 3L)])).ToArray();
        return (model, w, b);
    }

    /// <summary>
    /// The other form PyTorch uses for a Linear layer: <c>MatMul</c> with the weight pre-transposed to
    /// <c>[in, out]</c> (an <c>onnx::MatMul_N</c> initializer), then <c>Add</c> with the bias as its FIRST input,
    /// here for [4, 7, 3] with sigmoid and leaky ReLU (alpha 0.01), an Identity node in between, and a
    /// <c>Flatten</c> of a [N, 1, 2, 2] input in front.
    /// </summary>
    public static (byte[] Model, float[][] Weights, float[][] Biases) PyTorchMatMul()
    {
        int[] sizes = [4, 7, 3];
        (float[][] w, float[][] b) = Parameters(sizes, seed: 12);
        ProtoMessage[] initializers =
        [
            Floats("0.bias", [7], b[0]),
            Floats("2.bias", [3], b[1]),
            Floats("onnx::MatMul_13", [4, 7], Transpose(w[0], 7, 4)),
            Floats("onnx::MatMul_14", [7, 3], Transpose(w[1], 3, 7)),
        ];
        ProtoMessage[] nodes =
        [
            Node("Flatten", "/flatten/Flatten", ["x"], "/flatten/Flatten_output_0", IntAttribute("axis", 1)),
            Node("MatMul", "/0/MatMul", ["/flatten/Flatten_output_0", "onnx::MatMul_13"], "/0/MatMul_output_0"),
            Node("Add", "/0/Add", ["0.bias", "/0/MatMul_output_0"], "/0/Add_output_0"),
            Node("Sigmoid", "/1/Sigmoid", ["/0/Add_output_0"], "/1/Sigmoid_output_0"),
            Node("Identity", "/1/Identity", ["/1/Sigmoid_output_0"], "/1/Identity_output_0"),
            Node("MatMul", "/2/MatMul", ["/1/Identity_output_0", "onnx::MatMul_14"], "/2/MatMul_output_0"),
            Node("Add", "/2/Add", ["/2/MatMul_output_0", "2.bias"], "/2/Add_output_0"),
            Node("LeakyRelu", "/3/LeakyRelu", ["/2/Add_output_0"], "y", FloatAttribute("alpha", 0.01f)),
        ];
        byte[] model = Model(Graph(nodes, initializers, [FloatValue("x", "batch_size", 1L, 2L, 2L)], [FloatValue("y", "batch_size", 3L)]), opset: 13, irVersion: 7).ToArray();
        return (model, w, b);
    }

    private static (float[][] W, float[][] B) Parameters(int[] sizes, ulong seed)
    {
        var w = new float[sizes.Length - 1][];
        var b = new float[sizes.Length - 1][];
        for (int l = 0; l < w.Length; l++)
        {
            w[l] = Values(sizes[l + 1] * sizes[l], seed + (ulong)(2 * l));
            b[l] = Values(sizes[l + 1], seed + (ulong)(2 * l) + 1);
        }

        return (w, b);
    }

    /// <summary>
    /// A [3, 2] sigmoid layer assembled by hand, byte by byte, independently of the encoder: IR 7, opset 13, input
    /// <c>x [N, 3]</c>, <c>Gemm(x, W, b)</c> with transB=1 into <c>h</c>, <c>Sigmoid(h)</c> into <c>y [N, 2]</c>;
    /// W = [[1, 2, 3], [-1, 0.5, 0.25]] as raw_data, b = [0.5, -2] as packed float_data.
    /// </summary>
    public static byte[] HandAssembled() =>
    [
        0x08, 0x07,                                     // ModelProto.ir_version (1, varint) = 7
        0x12, 0x04, (byte)'h', (byte)'a', (byte)'n', (byte)'d', // producer_name (2) = "hand"
        0x3A, 0x9B, 0x01,                               // graph (7), 155 bytes:
        0x0A, 0x21,                                     //   node (1), 33 bytes:
        0x0A, 0x01, (byte)'x',                          //     input (1) = "x"
        0x0A, 0x01, (byte)'W',                          //     input = "W"
        0x0A, 0x01, (byte)'b',                          //     input = "b"
        0x12, 0x01, (byte)'h',                          //     output (2) = "h"
        0x22, 0x04, (byte)'G', (byte)'e', (byte)'m', (byte)'m', // op_type (4) = "Gemm"
        0x2A, 0x0D,                                     //     attribute (5), 13 bytes:
        0x0A, 0x06, (byte)'t', (byte)'r', (byte)'a', (byte)'n', (byte)'s', (byte)'B', // name (1) = "transB"
        0x18, 0x01,                                     //       i (3) = 1
        0xA0, 0x01, 0x02,                               //       type (20: tag 0xA0 0x01) = INT (2)
        0x0A, 0x0F,                                     //   node (1), 15 bytes:
        0x0A, 0x01, (byte)'h',                          //     input = "h"
        0x12, 0x01, (byte)'y',                          //     output = "y"
        0x22, 0x07, (byte)'S', (byte)'i', (byte)'g', (byte)'m', (byte)'o', (byte)'i', (byte)'d', // op_type = "Sigmoid"
        0x12, 0x01, (byte)'g',                          //   name (2) = "g"
        0x2A, 0x23,                                     //   initializer (5), TensorProto, 35 bytes:
        0x08, 0x02, 0x08, 0x03,                         //     dims (1) = 2, dims = 3
        0x10, 0x01,                                     //     data_type (2) = FLOAT (1)
        0x42, 0x01, (byte)'W',                          //     name (8) = "W"
        0x4A, 0x18,                                     //     raw_data (9), 24 bytes, little-endian float32:
        0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, //  1, 2, 3
        0x00, 0x00, 0x80, 0xBF, 0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x80, 0x3E, // -1, 0.5, 0.25
        0x2A, 0x11,                                     //   initializer (5), 17 bytes:
        0x08, 0x02,                                     //     dims = 2
        0x10, 0x01,                                     //     data_type = FLOAT
        0x22, 0x08,                                     //     float_data (4), packed, 8 bytes:
        0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x00, 0xC0, //       0.5, -2
        0x42, 0x01, (byte)'b',                          //     name = "b"
        0x5A, 0x14,                                     //   input (11), ValueInfoProto, 20 bytes:
        0x0A, 0x01, (byte)'x',                          //     name (1) = "x"
        0x12, 0x0F,                                     //     type (2), TypeProto, 15 bytes:
        0x0A, 0x0D,                                     //       tensor_type (1), 13 bytes:
        0x08, 0x01,                                     //         elem_type (1) = FLOAT
        0x12, 0x09,                                     //         shape (2), 9 bytes:
        0x0A, 0x03, 0x12, 0x01, (byte)'N',              //           dim (1): dim_param (2) = "N"
        0x0A, 0x02, 0x08, 0x03,                         //           dim (1): dim_value (1) = 3
        0x62, 0x14,                                     //   output (12), 20 bytes:
        0x0A, 0x01, (byte)'y',                          //     name = "y"
        0x12, 0x0F, 0x0A, 0x0D, 0x08, 0x01, 0x12, 0x09, //     type: tensor_type: elem_type FLOAT, shape:
        0x0A, 0x03, 0x12, 0x01, (byte)'N',              //           dim_param "N"
        0x0A, 0x02, 0x08, 0x02,                         //           dim_value 2
        0x42, 0x04,                                     // opset_import (8), 4 bytes:
        0x0A, 0x00,                                     //   domain (1) = ""
        0x10, 0x0D,                                     //   version (2) = 13
    ];
}
