using Backprop.Simd.Onnx;
using Backprop.Simd.Onnx.Protobuf;
using static Backprop.Simd.Tests.Onnx.OnnxFixtures;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Tests.Onnx;

/// <summary>Corrupt and unsupported models are rejected with an <see cref="InvalidDataException"/> naming the source
/// and the place, never another exception, a hang or an allocation the bytes do not justify.</summary>
public partial class OnnxRejectionTests
{
    private const string Name = "bad.onnx";

    private static readonly float[] W1 = Values(5 * 6, 1), B1 = Values(5, 2), W2 = Values(3 * 5, 3), B2 = Values(3, 4);

    /// <summary>A valid [6, 5, 3] chain (Gemm, Relu, Gemm, Sigmoid) with one part replaced.</summary>
    private static byte[] Chain(
        ProtoMessage[]? nodes = null,
        ProtoMessage[]? initializers = null,
        ProtoMessage[]? inputs = null,
        ProtoMessage[]? outputs = null,
        long opset = 17)
    {
        nodes ??=
        [
            Node("Gemm", "fc1", ["x", "W1", "b1"], "h1", IntAttribute("transB", 1)),
            Node("Relu", "relu1", ["h1"], "a1"),
            Node("Gemm", "fc2", ["a1", "W2", "b2"], "h2", IntAttribute("transB", 1)),
            Node("Sigmoid", "sigmoid2", ["h2"], "y"),
        ];
        initializers ??= [Floats("W1", [5, 6], W1), Floats("b1", [5], B1), Floats("W2", [3, 5], W2), Floats("b2", [3], B2)];
        inputs ??= [FloatValue("x", "N", 6L)];
        outputs ??= [FloatValue("y", "N", 3L)];
        return Model(Graph(nodes, initializers, inputs, outputs), opset).ToArray();
    }

    private static ProtoMessage Gemm1(params ProtoMessage[] attributes) => Node("Gemm", "fc1", ["x", "W1", "b1"], "h1", attributes);

    private static readonly ProtoMessage TransB = IntAttribute("transB", 1);

    private static ProtoMessage[] WithFirst(ProtoMessage first, params ProtoMessage[] rest) =>
    [
        first, .. rest.Length > 0 ? rest :
        [
            Node("Relu", "relu1", ["h1"], "a1"),
            Node("Gemm", "fc2", ["a1", "W2", "b2"], "h2", TransB),
            Node("Sigmoid", "sigmoid2", ["h2"], "y"),
        ],
    ];

    private static ProtoMessage Tensor(string name, long[] dims, int dataType, Action<ProtoMessage> data)
    {
        var tensor = new ProtoMessage();
        foreach (long dim in dims)
        {
            tensor.Int64(S.Tensor.Dims, dim);
        }

        tensor.Int64(S.Tensor.DataType, dataType).String(S.Tensor.Name, name);
        data(tensor);
        return tensor;
    }

    private static readonly Dictionary<string, Func<byte[]>> Models = new()
    {
        ["valid"] = () => Chain(),
        ["conv"] = () => Chain(nodes: WithFirst(Node("Conv", "conv1", ["x", "W1", "b1"], "h1"))),
        ["int64 weights"] = () => Chain(initializers: [Tensor("W1", [5, 6], 7, t => t.Bytes(S.Tensor.RawData, new byte[5 * 6 * 8])), Floats("b1", [5], B1), Floats("W2", [3, 5], W2), Floats("b2", [3], B2)]),
        ["external data"] = () => Chain(initializers:
        [
            Tensor("W1", [5, 6], 1, t => t
                .Message(S.Tensor.ExternalData, new ProtoMessage().String(1, "location").String(2, "weights.bin"))
                .Int64(S.Tensor.DataLocation, S.DataLocation.External)),
            Floats("b1", [5], B1), Floats("W2", [3, 5], W2), Floats("b2", [3], B2),
        ]),
        ["gemm alpha 2"] = () => Chain(nodes: WithFirst(Gemm1(FloatAttribute("alpha", 2f), TransB))),
        ["gemm beta 0.5"] = () => Chain(nodes: WithFirst(Gemm1(FloatAttribute("beta", 0.5f), TransB))),
        ["gemm transA"] = () => Chain(nodes: WithFirst(Gemm1(IntAttribute("transA", 1), TransB))),
        ["gemm unknown attribute"] = () => Chain(nodes: WithFirst(Gemm1(TransB, IntAttribute("broadcast", 1)))),
        ["gemm alpha as int"] = () => Chain(nodes: WithFirst(Gemm1(IntAttribute("alpha", 1), TransB))),
        ["leaky 1.5"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("LeakyRelu", "leaky1", ["h1"], "a1", FloatAttribute("alpha", 1.5f)), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB))),
        ["softmax not last"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Softmax", "sm1", ["h1"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB))),
        ["softmax axis 0"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Relu", "r", ["h1"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "h2", TransB), Node("Softmax", "sm", ["h2"], "y", IntAttribute("axis", 0)))),
        ["log softmax hidden"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("LogSoftmax", "lsm", ["h1"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB))),
        ["reshape merging samples"] = () => Chain(
            nodes: WithFirst(Node("Reshape", "view", ["x", "shape"], "x2"), Node("Gemm", "fc1", ["x2", "W1", "b1"], "h1", TransB), Node("Gemm", "fc2", ["h1", "W2", "b2"], "y", TransB)),
            initializers: [.. Weights, TorchNodes.Tensor("shape", [2], S.DataType.Int64, TorchNodes.Int64Bytes(2, -1))]),
        ["reshape rank 3"] = () => Chain(
            nodes: WithFirst(Node("Reshape", "view", ["x", "shape"], "x2"), Node("Gemm", "fc1", ["x2", "W1", "b1"], "h1", TransB), Node("Gemm", "fc2", ["h1", "W2", "b2"], "y", TransB)),
            initializers: [.. Weights, TorchNodes.Tensor("shape", [3], S.DataType.Int64, TorchNodes.Int64Bytes(-1, 2, 3))]),
        ["two activations"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Relu", "r", ["h1"], "a0"), Node("Tanh", "t", ["a0"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB))),
        ["activation first"] = () => Chain(nodes: WithFirst(Node("Relu", "r0", ["x"], "x1"), Node("Gemm", "fc1", ["x1", "W1", "b1"], "h1", TransB), Node("Gemm", "fc2", ["h1", "W2", "b2"], "y", TransB))),
        ["branch"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Relu", "r", ["h1"], "a1"), Node("Gemm", "fc2", ["x", "W2", "b2"], "y", TransB))),
        ["weights from a value"] = () => Chain(nodes: WithFirst(Node("Gemm", "fc1", ["x", "x", "b1"], "h1", TransB))),
        ["two outputs"] = () => Chain(nodes: WithFirst(Node("Gemm", "fc1", ["x", "W1", "b1"], "h1", TransB).String(S.Node.Output, "extra"))),
        ["redefined value"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Relu", "r", ["h1"], "h1"))),
        ["custom domain"] = () => Chain(nodes: WithFirst(Gemm1(TransB).String(S.Node.Domain, "com.microsoft"))),
        ["sizes do not chain"] = () => Chain(initializers: [Floats("W1", [5, 6], W1), Floats("b1", [5], B1), Floats("W2", [3, 4], W2[..12]), Floats("b2", [3], B2)]),
        ["bias size"] = () => Chain(initializers: [Floats("W1", [5, 6], W1), Floats("b1", [4], B1[..4]), Floats("W2", [3, 5], W2), Floats("b2", [3], B2)]),
        ["weights rank 3"] = () => Chain(initializers: [Floats("W1", [5, 6, 1], W1), Floats("b1", [5], B1), Floats("W2", [3, 5], W2), Floats("b2", [3], B2)]),
        ["raw data too short"] = () => Chain(initializers: [Floats("W1", [5, 6], W1[..29]), Floats("b1", [5], B1), Floats("W2", [3, 5], W2), Floats("b2", [3], B2)]),
        ["float data too long"] = () => Chain(initializers: [Floats("W1", [5, 6], W1), Floats("b1", [5], [.. B1, 1f], raw: false), Floats("W2", [3, 5], W2), Floats("b2", [3], B2)]),
        ["huge dims, few bytes"] = () => Chain(initializers: [Floats("W1", [10_000, 10_000], W1), Floats("b1", [5], B1), Floats("W2", [3, 5], W2), Floats("b2", [3], B2)]),
        ["absurd dims"] = () => Chain(initializers: [Floats("W1", [1L << 40, 1L << 40], W1), Floats("b1", [5], B1), Floats("W2", [3, 5], W2), Floats("b2", [3], B2)]),
        ["duplicate initializer"] = () => Chain(initializers: [Floats("W1", [5, 6], W1), Floats("b1", [5], B1), Floats("W2", [3, 5], W2), Floats("b2", [3], B2), Floats("b2", [3], B2)]),
        ["input width"] = () => Chain(inputs: [FloatValue("x", "N", 7L)]),
        ["input rank 3"] = () => Chain(inputs: [FloatValue("x", "N", 2L, 3L)]),
        ["double input"] = () => Chain(inputs: [Value("x", 11, "N", 6L)]),
        ["two inputs"] = () => Chain(inputs: [FloatValue("x", "N", 6L), FloatValue("mask", "N", 6L)]),
        ["two outputs declared"] = () => Chain(outputs: [FloatValue("y", "N", 3L), FloatValue("h1", "N", 5L)]),
        ["output width"] = () => Chain(outputs: [FloatValue("y", "N", 4L)]),
        ["output not the end"] = () => Chain(outputs: [FloatValue("h2", "N", 3L)]),
        ["opset 6"] = () => Chain(opset: 6),
        ["no default opset"] = () => new ProtoMessage()
            .Int64(S.Model.IrVersion, 8)
            .Message(S.Model.Graph, new ProtoMessage())
            .Message(S.Model.OpsetImport, new ProtoMessage().String(S.OperatorSetId.Domain, "ai.onnx.ml").Int64(S.OperatorSetId.Version, 3)).ToArray(),
        ["no ir version"] = () => new ProtoMessage().Message(S.Model.Graph, new ProtoMessage()).ToArray(),
        ["no graph"] = () => new ProtoMessage().Int64(S.Model.IrVersion, 8).ToArray(),
        ["no layers"] = () => Chain(nodes: [Node("Identity", "id", ["x"], "y")], outputs: [FloatValue("y", "N", 6L)]),
        ["graph twice"] = () => [.. Chain(), 0x3A, 0x00],
        ["cost metadata unknown"] = () => [.. Chain(), .. new ProtoMessage().Message(S.Model.MetadataProps, new ProtoMessage().String(1, OnnxModel.CostMetadataKey).String(2, "Hinge")).ToArray()],
        ["cost metadata misfit"] = () => [.. Chain(), .. new ProtoMessage().Message(S.Model.MetadataProps, new ProtoMessage().String(1, OnnxModel.CostMetadataKey).String(2, "LogLikelihood")).ToArray()],
        ["flatten axis 2"] = () => Chain(nodes: WithFirst(Node("Flatten", "f", ["x"], "x1", IntAttribute("axis", 2)), Node("Gemm", "fc1", ["x1", "W1", "b1"], "h1", TransB), Node("Gemm", "fc2", ["h1", "W2", "b2"], "y", TransB)), inputs: [FloatValue("x", "N", 2L, 3L)]),
        ["flatten unknown shape"] = () => Chain(nodes: WithFirst(Node("Flatten", "f", ["x"], "x1"), Node("Gemm", "fc1", ["x1", "W1", "b1"], "h1", TransB), Node("Gemm", "fc2", ["h1", "W2", "b2"], "y", TransB)), inputs: [FloatValue("x", "N", "C", 6L)]),
    };

    private static InvalidDataException Rejects(byte[] model, params string[] mentions)
    {
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => OnnxModel.Parse(model, Name));
        Assert.StartsWith(Name + ": ", error.Message);
        foreach (string mention in mentions)
        {
            Assert.Contains(mention, error.Message);
        }

        return error;
    }

    [Fact]
    public void The_base_model_of_these_tests_is_valid()
    {
        Network network = OnnxModel.Parse(Models["valid"](), Name);
        Assert.Equal([6, 5, 3], network.Sizes.ToArray());
        Assert.Equal([Activation.ReLU, Activation.Sigmoid], network.Activations.ToArray());
    }

    [Theory]
    [InlineData("conv", "graph.node[0] 'conv1' (Conv)", "'Conv' node, which is not supported")]
    [InlineData("int64 weights", "graph.initializer[0] 'W1'", "data_type 7 (INT64), expected 1 (FLOAT)", "graph.node[0] 'fc1' (Gemm)")]
    [InlineData("external data", "graph.initializer[0] 'W1'", "data_location=EXTERNAL")]
    [InlineData("gemm alpha 2", "graph.node[0] 'fc1' (Gemm)", "alpha=2 and beta=1", "only alpha = beta = 1")]
    [InlineData("gemm beta 0.5", "graph.node[0] 'fc1' (Gemm)", "beta=0.5")]
    [InlineData("gemm transA", "graph.node[0] 'fc1' (Gemm)", "transA=1")]
    [InlineData("gemm unknown attribute", "graph.node[0].attribute[1]", "'broadcast'", "not supported")]
    [InlineData("gemm alpha as int", "graph.node[0].attribute[0]", "'alpha'", "expected a FLOAT attribute")]
    [InlineData("leaky 1.5", "graph.node[1] 'leaky1' (LeakyRelu)", "alpha=1.5", "from -1 to 1")]
    [InlineData("softmax not last", "graph.node[2] 'fc2' (Gemm)", "follows a Softmax", "only allowed on the output layer")]
    [InlineData("softmax axis 0", "graph.node[3] 'sm' (Softmax)", "axis=0")]
    [InlineData("log softmax hidden", "graph.node[2] 'fc2' (Gemm)", "follows a LogSoftmax", "only allowed on the output layer")]
    [InlineData("reshape merging samples", "graph.node[0] 'view' (Reshape)", "reshapes 'x' of shape [N, 6] to [2, -1]", "only to [N, 6]")]
    [InlineData("reshape rank 3", "graph.node[0] 'view' (Reshape)", "to [-1, 2, 3]", "only to [N, 6]")]
    [InlineData("two activations", "graph.node[2] 't' (Tanh)", "follows the Relu of the same layer")]
    [InlineData("activation first", "graph.node[0] 'r0' (Relu)", "comes before any Gemm or MatMul")]
    [InlineData("branch", "graph.node[0] 'fc1' (Gemm)", "reads 'x', which 2 nodes read (graph.node[0] 'fc1' (Gemm), graph.node[2] 'fc2' (Gemm))", "one chain")]
    [InlineData("weights from a value", "graph.node[0] 'fc1' (Gemm)", "takes B (the weights) from 'x', which is computed from the graph input")]
    [InlineData("two outputs", "graph.node[0] 'fc1' (Gemm)", "has 2 outputs")]
    [InlineData("redefined value", "graph.node[1] 'r' (Relu)", "writes 'h1', which is already defined")]
    [InlineData("custom domain", "graph.node[0] 'fc1' (Gemm)", "domain 'com.microsoft'")]
    [InlineData("sizes do not chain", "graph.node[2] 'fc2' (Gemm)", "takes 4 values per sample, but the value before it has 5")]
    [InlineData("bias size", "graph.initializer[1] 'b1'", "dims [4], expected [5] or [1, 5]")]
    [InlineData("weights rank 3", "graph.initializer[0] 'W1'", "dims [5, 6, 1], expected a matrix")]
    [InlineData("raw data too short", "graph.initializer[0] 'W1'", "(30 floats, 120 bytes), but its raw_data holds 116 bytes")]
    [InlineData("float data too long", "graph.initializer[1] 'b1'", "(5 floats), but it holds 6 values")]
    [InlineData("huge dims, few bytes", "graph.initializer[0] 'W1'", "dims [10000, 10000] (100000000 floats", "raw_data holds 120 bytes")]
    [InlineData("absurd dims", "graph.initializer[0] 'W1'", "more values than the importer accepts")]
    [InlineData("duplicate initializer", "graph.initializer[4] 'b2'", "same name as graph.initializer[3]")]
    [InlineData("input width", "graph.input[0]", "'x' has shape [N, 7], but the first layer's weights take 6 values per sample")]
    [InlineData("input rank 3", "graph.input[0]", "rank 3, expected rank 2")]
    [InlineData("double input", "graph.input[0]", "elem_type 11 (DOUBLE), expected 1 (FLOAT)")]
    [InlineData("two inputs", "graph.input", "declares 2 inputs besides the initializers ('x', 'mask')")]
    [InlineData("two outputs declared", "graph.output", "declares 2 outputs")]
    [InlineData("output width", "graph.output[0]", "'y' has shape [N, 4], but the last layer's weights give 3")]
    [InlineData("output not the end", "graph.output[0]", "is 'h2', but the chain of nodes ends in 'y'")]
    [InlineData("opset 6", "model.opset_import", "opset 6, expected 7 or later")]
    [InlineData("no default opset", "model.opset_import", "does not import the default ONNX operator set")]
    [InlineData("no ir version", "model.ir_version", "is 0, expected 3 or later")]
    [InlineData("no graph", "model", "has no graph")]
    [InlineData("no layers", "graph", "has no Gemm or MatMul node")]
    [InlineData("graph twice", "model", "the graph field appears twice")]
    [InlineData("cost metadata unknown", "model.metadata_props[0]", "'backprop_simd.cost' is 'Hinge', expected Quadratic, CrossEntropy, LogLikelihood")]
    [InlineData("cost metadata misfit", "model.metadata_props[0]", "'LogLikelihood', which does not fit", "needs a softmax or log-softmax output layer")]
    [InlineData("flatten axis 2", "graph.node[0] 'f' (Flatten)", "has axis=2", "only axis=1")]
    [InlineData("flatten unknown shape", "graph.node[0] 'f' (Flatten)", "[N, C, 6]", "expected fixed sizes")]
    public void Unsupported_models_are_rejected_naming_the_place(string model, params string[] mentions) => Rejects(Models[model](), mentions);

    [Fact]
    public void A_sparse_initializer_is_rejected()
    {
        byte[] model = Model(Graph([], [], [], []).Message(S.Graph.SparseInitializer, new ProtoMessage().Int64(1, 1))).ToArray();
        Rejects(model, "graph:", "sparse_initializer");
    }

    [Fact]
    public void A_huge_weight_declaration_is_rejected_before_allocating()
    {
        byte[] model = Models["huge dims, few bytes"]();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataException>(() => OnnxModel.Parse(model, Name));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1 << 20, $"rejecting a 400 MB declaration allocated {allocated:N0} bytes");
    }

    public static TheoryData<byte[], string[]> CorruptBytes => new()
    {
        { [], ["the data is empty"] },
        { [0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], ["model:", "field 7 (graph) at byte 0 declares 4294967295 bytes, but only 0 remain"] },
        { [0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00], ["declares 9223372036854775807 bytes, but only 1 remain"] },
        { [0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], ["declares 18446744073709551615 bytes"] },
        { [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], ["more than 64 bits"] },
        { [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00], ["more than 64 bits"] },
        { [0x08, 0x80], ["cut off by the end of the message"] },
        { [0x0B, 0x00], ["wire type 3 (a group, which ONNX does not use)"] },
        { [0x0F, 0x00], ["wire type 7 (not a protobuf wire type)"] },
        { [0x00, 0x00], ["field number 0"] },
        { [0x08, 0x08, 0x12, 0x02, 0xC3, 0x28], ["field 2 (producer_name) is not valid UTF-8"] },
        { [0x0A, 0x05, 0x00], ["field 1 (ir_version) has wire type 2 (LengthDelimited), expected 0 (Varint)"] },
        { [0x9D, 0x06, 0x00, 0x00], ["field 99 at byte 0 needs 4 bytes, but only 2 remain"] }, // unknown fixed32 field, cut short
        { [0x7B, 0x22, 0x73, 0x69, 0x7A, 0x65, 0x73, 0x22], ["model:", "group"] }, // a JSON model file: {"sizes"
    };

    [Theory]
    [MemberData(nameof(CorruptBytes))]
    public void Corrupt_bytes_are_rejected_with_what_is_wrong(byte[] model, string[] mentions) => Rejects(model, mentions);

    [Fact]
    public void A_nested_length_beyond_its_parent_is_rejected()
    {
        byte[] model = HandAssembled();
        Assert.Equal([0x3A, 0x9B, 0x01, 0x0A, 0x21], model[8..13]);
        model[12] = 0x7F; // the first node claims 127 bytes inside its graph: fine; now make the graph claim more than the file
        model[9] = 0xFF;
        model[10] = 0x7F;
        Rejects(model, "model:", "field 7 (graph) at byte 8 declares 16383 bytes, but only");

        model = HandAssembled();
        model[12] = 0xFF; // the first node: 2-byte varint 0xFF 0x0A = 1407 bytes, more than its graph holds
        Rejects(model, "graph:", "field 1 (node) at byte 11 declares");
    }

    [Fact]
    public void Deeply_nested_unknown_fields_are_skipped_without_recursion()
    {
        // 100,000 levels of field 99 inside field 99 ... in the graph: skipped as one length-delimited field.
        byte[] inner = [];
        for (int depth = 0; depth < 100_000; depth++)
        {
            inner = [.. new ProtoMessage().Bytes(99, inner).ToArray()];
        }

        ProtoMessage graph = Graph([Node("Gemm", "fc", ["x", "W", "b"], "y", TransB)], [Floats("W", [2, 3], Values(6, 1)), Floats("b", [2], Values(2, 2))], [FloatValue("x", "N", 3L)], [FloatValue("y", "N", 2L)]);
        graph.Bytes(99, inner);
        Network network = OnnxModel.Parse(Model(graph).ToArray(), Name);
        Assert.Equal([3, 2], network.Sizes.ToArray());
    }

    [Fact]
    public void Every_truncation_is_rejected_or_only_drops_trailing_optional_fields()
    {
        var network = new Network([5, 4, 3], seed: 2, new NetworkOptions { HiddenActivation = Activation.Tanh, Cost = CostFunction.LogLikelihood });
        byte[] model = OnnxModel.ToBytes(network);
        int accepted = 0;
        for (int length = 0; length < model.Length; length++)
        {
            Network? back = ParseOrReject(model[..length], $"truncated to {length} bytes");
            if (back is not null)
            {
                // Only a cut right after opset_import (dropping the metadata, whose cost is then inferred the same) can be valid.
                accepted++;
                Assert.Equal(network.Parameters.ToArray(), back.Parameters.ToArray());
                Assert.Equal(network.Activations.ToArray(), back.Activations.ToArray());
                Assert.Equal(network.Cost, back.Cost);
            }
        }

        Assert.Equal(1, accepted);
    }

    [Fact]
    public void Flipped_bytes_are_rejected_or_read_as_some_valid_model_never_another_exception()
    {
        byte[] model = OnnxModel.ToBytes(new Network([4, 3, 2], seed: 3, new NetworkOptions { HiddenActivation = Activation.LeakyReLU, OutputActivation = Activation.Softmax, Cost = CostFunction.LogLikelihood }));
        foreach (byte mask in new byte[] { 0x01, 0x02, 0x10, 0x40, 0x80, 0xFF })
        {
            for (int i = 0; i < model.Length; i++)
            {
                byte[] flipped = (byte[])model.Clone();
                flipped[i] ^= mask;
                ParseOrReject(flipped, $"byte {i} xor 0x{mask:X2}");
            }
        }
    }

    [Fact]
    public void Random_bytes_are_rejected_never_another_exception()
    {
        var random = new SeededRandom(99);
        byte[] valid = HandAssembled();
        for (int trial = 0; trial < 20_000; trial++)
        {
            byte[] data = new byte[1 + random.NextInt(200)];
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (byte)random.NextInt(256);
            }

            if (trial % 2 == 1)
            {
                // Splice random bytes into a valid model, so the damage starts deep inside real structure.
                int at = random.NextInt(valid.Length);
                data = [.. valid[..at], .. data, .. valid[Math.Min(valid.Length, at + data.Length)..]];
            }

            ParseOrReject(data, $"trial {trial}");
        }
    }

    private static Network? ParseOrReject(byte[] data, string what)
    {
        try
        {
            return OnnxModel.Parse(data, Name);
        }
        catch (InvalidDataException e)
        {
            Assert.StartsWith(Name + ": ", e.Message);
            return null;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of InvalidDataException: {e}");
            return null;
        }
    }
}
