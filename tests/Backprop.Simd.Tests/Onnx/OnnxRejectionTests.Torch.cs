using Backprop.Simd.Onnx.Protobuf;
using static Backprop.Simd.Tests.Onnx.OnnxFixtures;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Tests.Onnx;

/// <summary>The forms of PyTorch exports and graph shapes the importer rejects, each with a message naming the operator
/// and the node, and the cap on the constants a model may make the importer compute.</summary>
public partial class OnnxRejectionTests
{
    private static readonly Dictionary<string, Func<byte[]>> TorchModels = new()
    {
        ["add after the output"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Relu", "relu1", ["h1"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "h2", TransB), Node("Sigmoid", "s", ["h2"], "s2"), Node("Add", "add", ["s2", "b2"], "y"))),
        ["batchnorm after the output"] = () => Chain(
            nodes: WithFirst(Gemm1(TransB), Node("Relu", "relu1", ["h1"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "h2", TransB), Node("Sigmoid", "s", ["h2"], "s2"), Node("BatchNormalization", "bn", ["s2", "g", "b2", "b2", "g"], "y")),
            initializers: [.. Weights, Floats("g", [3], [1, 1, 1])]),
        ["add of two values"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Relu", "relu1", ["h1"], "a1"), Node("Add", "add", ["a1", "a1"], "a2"), Node("Gemm", "fc2", ["a2", "W2", "b2"], "y", TransB))),
        ["add per sample"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Add", "add", ["h1", "c"], "h1b"), Node("Relu", "relu1", ["h1b"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB)),
            initializers: [.. Weights, Floats("c", [2, 5], Values(10, 5))]),
        ["divide a constant"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Div", "div", ["b1", "h1"], "h1b"), Node("Relu", "relu1", ["h1b"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB))),
        ["divide by zero"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Div", "div", ["h1", "zero"], "h1b"), Node("Relu", "relu1", ["h1b"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB)),
            initializers: [.. Weights, Floats("zero", [], [0f])]),
        ["relu6"] = () => Chain(nodes: WithFirst(
            Gemm1(TransB), TorchNodes.Scalar("/1/Constant_output_0", 0f), TorchNodes.Scalar("/1/Constant_1_output_0", 6f),
            Node("Clip", "/1/Clip", ["h1", "/1/Constant_output_0", "/1/Constant_1_output_0"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB))),
        ["relu6 at opset 7"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Clip", "/1/Clip", ["h1"], "a1", FloatAttribute("max", 6f), FloatAttribute("min", 0f)), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB)), opset: 7),
        ["prelu"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("PRelu", "/1/PRelu", ["h1", "slope"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB)),
            initializers: [.. Weights, Floats("slope", [1], [0.25f])]),
        ["elu alpha 0.5"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Elu", "/1/Elu", ["h1"], "a1", FloatAttribute("alpha", 0.5f)), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB))),
        ["training dropout"] = () => Chain(nodes: WithFirst(
            Gemm1(TransB), Node("Relu", "/1/Relu", ["h1"], "a1"), TorchNodes.Scalar("/2/Constant_output_0", 0.5f), TorchNodes.BoolScalar("/2/Constant_1_output_0", true),
            Node("Dropout", "/2/Dropout", ["a1", "/2/Constant_output_0", "/2/Constant_1_output_0"], "d1").String(S.Node.Output, "mask"), Node("Gemm", "fc2", ["d1", "W2", "b2"], "y", TransB)), opset: 13),
        ["dropout mask used"] = () => Chain(nodes: WithFirst(
            Gemm1(TransB), Node("Dropout", "/1/Dropout", ["h1"], "d1", FloatAttribute("ratio", 0.5f)).String(S.Node.Output, "mask"), Node("Relu", "r", ["mask"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB)), opset: 11),
        ["training batchnorm"] = () => Chain(nodes: WithFirst(
            Gemm1(TransB), Node("BatchNormalization", "/1/BatchNormalization", ["h1", "b1", "b1", "b1", "b1"], "n1", FloatAttribute("epsilon", 1e-5f), IntAttribute("training_mode", 1)).String(S.Node.Output, "mean").String(S.Node.Output, "var"),
            Node("Relu", "r", ["n1"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB))),
        ["training batchnorm, 5 outputs"] = () => Chain(nodes: WithFirst(
            Gemm1(TransB), Node("BatchNormalization", "/1/BatchNormalization", ["h1", "b1", "b1", "b1", "b1"], "n1").String(S.Node.Output, "o1").String(S.Node.Output, "o2").String(S.Node.Output, "o3").String(S.Node.Output, "o4"),
            Node("Relu", "r", ["n1"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB)), opset: 13),
        ["gelu at opset 7"] = () => Chain(nodes: WithFirst(Gemm1(TransB), [.. GeluNodes("h1", "a1", 1.4142135f), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB)]), opset: 7),
        ["gelu with another constant"] = () => Chain(nodes: WithFirst(Gemm1(TransB), [.. GeluNodes("h1", "a1", 2f), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB)])),
        ["erf alone"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Erf", "/1/Erf", ["h1"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB))),
        ["gelu tanh"] = () => Chain(nodes: WithFirst(Gemm1(TransB), Node("Mul", "/1/Mul", ["h1", "h1"], "sq"), Node("Mul", "/1/Mul_1", ["h1", "sq"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "y", TransB))),
        ["double weights"] = () => Chain(initializers: [TorchNodes.Tensor("W1", [5, 6], S.DataType.Double, new byte[5 * 6 * 8]), Floats("b1", [5], B1), Floats("W2", [3, 5], W2), Floats("b2", [3], B2)]),
        ["module as a function"] = () =>
        [
            .. Chain(nodes: [Node("Sequential", "/2/Sequential", ["x", "W1", "b1", "W2", "b2"], "y").String(S.Node.Domain, "torch.nn.modules.container")], opset: 15),
            .. new ProtoMessage().Message(S.Model.Functions, new ProtoMessage().String(S.Function.Name, "Sequential").String(S.Function.Domain, "torch.nn.modules.container")).ToArray(),
        ],
        ["weights not computable"] = () => Chain(
            nodes: WithFirst(TorchNodes.Ints("dims", [2], 5, 6), Node("ConstantOfShape", "fill", ["dims"], "W1c"), Node("Gemm", "fc1", ["x", "W1c", "b1"], "h1", TransB), Node("Relu", "relu1", ["h1"], "a1"), Node("Gemm", "fc2", ["a1", "W2", "b2"], "h2", TransB), Node("Sigmoid", "sigmoid2", ["h2"], "y"))),
        ["undefined input"] = () => Chain(nodes: WithFirst(Node("Gemm", "fc1", ["x", "W9", "b1"], "h1", TransB))),
    };

    private static ProtoMessage[] Weights => [Floats("W1", [5, 6], W1), Floats("b1", [5], B1), Floats("W2", [3, 5], W2), Floats("b2", [3], B2)];

    // PyTorch's GELU of z into output, dividing by the given constant.
    private static ProtoMessage[] GeluNodes(string z, string output, float divisor) =>
    [
        TorchNodes.Scalar("/1/Constant_output_0", divisor),
        Node("Div", "/1/Div", [z, "/1/Constant_output_0"], "/1/Div_output_0"),
        Node("Erf", "/1/Erf", ["/1/Div_output_0"], "/1/Erf_output_0"),
        TorchNodes.Scalar("/1/Constant_1_output_0", 1f),
        Node("Add", "/1/Add", ["/1/Erf_output_0", "/1/Constant_1_output_0"], "/1/Add_output_0"),
        Node("Mul", "/1/Mul", [z, "/1/Add_output_0"], "/1/Mul_output_0"),
        TorchNodes.Scalar("/1/Constant_2_output_0", 0.5f),
        Node("Mul", "/1/Mul_1", ["/1/Mul_output_0", "/1/Constant_2_output_0"], output),
    ];

    [Theory]
    [InlineData("add after the output", "graph.node[4] 'add' (Add)", "comes after the output layer's activation")]
    [InlineData("batchnorm after the output", "graph.node[4] 'bn' (BatchNormalization)", "comes after the output layer's activation")]
    [InlineData("add of two values", "graph.node[2] 'add' (Add)", "reads 'a1' 2 times", "only GELU and SiLU read a value twice")]
    [InlineData("add per sample", "graph.initializer[4] 'c'", "the constant operand of graph.node[1] 'add' (Add) with dims [2, 5]", "does not broadcast")]
    [InlineData("divide a constant", "graph.node[1] 'div' (Div)", "divides a constant by 'h1'")]
    [InlineData("divide by zero", "graph.node[1] 'div' (Div)", "divides by zero")]
    [InlineData("relu6", "graph.node[3] '/1/Clip' (Clip)", "is a 'Clip' node (ReLU6")]
    [InlineData("relu6 at opset 7", "graph.node[1] '/1/Clip' (Clip)", "is a 'Clip' node (ReLU6")]
    [InlineData("prelu", "graph.node[1] '/1/PRelu' (PRelu)", "is a 'PRelu' node")]
    [InlineData("elu alpha 0.5", "graph.node[1] '/1/Elu' (Elu)", "has alpha=0.5", "only the ELU with alpha 1")]
    [InlineData("training dropout", "graph.node[4] '/2/Dropout' (Dropout)", "is a training-mode Dropout")]
    [InlineData("dropout mask used", "graph.node[1] '/1/Dropout' (Dropout)", "gives its mask 'mask' to another node")]
    [InlineData("training batchnorm", "graph.node[1] '/1/BatchNormalization' (BatchNormalization)", "is a training-mode BatchNormalization")]
    [InlineData("training batchnorm, 5 outputs", "graph.node[1] '/1/BatchNormalization' (BatchNormalization)", "is a training-mode BatchNormalization")]
    [InlineData("gelu at opset 7", "graph.node[3] '/1/Erf' (Erf)", "is an 'Erf' node (of a GELU), which needs opset 9 or later, but the model imports opset 7")]
    [InlineData("gelu with another constant", "graph.node[2] '/1/Div' (Div)", "has the constant 2 where GELU")]
    [InlineData("erf alone", "graph.node[1] '/1/Erf' (Erf)", "is an 'Erf' node outside the pattern of GELU")]
    [InlineData("gelu tanh", "graph.node[1] '/1/Mul' (Mul)", "reads 'h1' 2 times", "only GELU and SiLU read a value twice")]
    [InlineData("double weights", "graph.initializer[0] 'W1'", "data_type 11 (DOUBLE), expected 1 (FLOAT)", "graph.node[0] 'fc1' (Gemm)")]
    [InlineData("module as a function", "graph.node[0] '/2/Sequential' (Sequential)", "local function 'Sequential' of domain 'torch.nn.modules.container'", "export_modules_as_functions")]
    [InlineData("weights not computable", "graph.node[2] 'fc1' (Gemm)", "takes B (the weights) from 'W1c', which graph.node[1] 'fill' (ConstantOfShape) computes from constants in a way the importer cannot evaluate")]
    [InlineData("undefined input", "graph.node[0] 'fc1' (Gemm)", "reads 'W9', which is not defined before it")]
    public void Unsupported_forms_are_rejected_naming_the_operator_and_the_node(string model, params string[] mentions) => Rejects(TorchModels[model](), mentions);

    [Fact]
    public void Constants_computed_beyond_what_the_models_size_justifies_are_rejected_before_allocating()
    {
        // One 256 KB initializer joined to itself 1,000 times would be 256 MB of constants from a 256 KB file.
        float[] big = Values(1 << 16, 7);
        byte[] model = Chain(
            nodes: WithFirst(Node("Concat", "join", [.. Enumerable.Repeat("big", 1000)], "huge", IntAttribute("axis", 0))),
            initializers: [.. Weights, Floats("big", [1 << 16], big)]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        InvalidDataException error = Rejects(model, "graph.node[0] 'join' (Concat)", "more values than its", "bytes justify");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 8L << 20, $"rejecting {error.Message} allocated {allocated:N0} bytes");
    }
}
