using System.Buffers.Binary;
using Backprop.Simd.Onnx.Protobuf;
using static Backprop.Simd.Tests.Onnx.OnnxFixtures;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Tests.Onnx;

/// <summary>
/// One graph form PyTorch writes, rebuilt node for node as <c>torch.onnx.export</c> (1.13) wrote it for the module
/// in <see cref="Source"/> (names, order, attributes and constants as exported, sizes made small), with what
/// importing it must give: the layers' exact parameters (in double: the graph's weights with every elementwise
/// operation and BatchNormalization folded in exactly) and the exact forward pass of the graph as written.
/// </summary>
internal sealed record TorchForm(
    string Name,
    string Source,
    byte[] Model,
    long[] SampleShape,
    int[] Sizes,
    Activation[] Activations,
    CostFunction Cost,
    (double[] W, double[] B)[] Layers,
    Func<float[], GraphReference> Reference)
{
    public override string ToString() => Name;

    /// <summary>Whether the model's input has a fixed batch of 1 (torch.onnx.export without dynamic_axes).</summary>
    public bool FixedBatch { get; init; }
}

/// <summary>Node-building helpers for <see cref="TorchForms"/>: <c>Constant</c> nodes and typed tensors as PyTorch writes them.</summary>
internal static class TorchNodes
{
    public static ProtoMessage Tensor(string name, long[] dims, int type, byte[] raw)
    {
        var tensor = new ProtoMessage();
        foreach (long dim in dims)
        {
            tensor.Int64(S.Tensor.Dims, dim);
        }

        tensor.Int64(S.Tensor.DataType, type);
        if (name.Length > 0)
        {
            tensor.String(S.Tensor.Name, name);
        }

        return tensor.Bytes(S.Tensor.RawData, raw);
    }

    public static byte[] Int64Bytes(params long[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        }

        return bytes;
    }

    public static byte[] FloatBytes(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    /// <summary>A <c>Constant</c> node whose <c>value</c> is the tensor <paramref name="value"/> (no name), as PyTorch writes it.</summary>
    public static ProtoMessage Constant(string output, ProtoMessage value) =>
        Node("Constant", output.Replace("_output_0", "", StringComparison.Ordinal), [], output, new ProtoMessage()
            .String(S.Attribute.Name, "value").Message(S.Attribute.T, value).Int64(S.Attribute.Type, S.AttributeType.Tensor));

    public static ProtoMessage Scalar(string output, float value) => Constant(output, Tensor("", [], S.DataType.Float, FloatBytes(value)));

    public static ProtoMessage Ints(string output, long[] dims, params long[] values) => Constant(output, Tensor("", dims, S.DataType.Int64, Int64Bytes(values)));

    public static ProtoMessage DoubleScalar(string output, double value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, value);
        return Constant(output, Tensor("", [], S.DataType.Double, bytes));
    }

    public static ProtoMessage BoolScalar(string output, bool value) => Constant(output, Tensor("", [], S.DataType.Bool, [value ? (byte)1 : (byte)0]));

    public static ProtoMessage IntsAttribute(string name, params long[] values)
    {
        var attribute = new ProtoMessage().String(S.Attribute.Name, name);
        foreach (long value in values)
        {
            attribute.Int64(S.Attribute.Ints, value);
        }

        return attribute.Int64(S.Attribute.Type, S.AttributeType.Ints);
    }

    public static ProtoMessage Gemm(string module, string input, string output, string? weight = null, string? bias = null, string? name = null) =>
        Node("Gemm", name ?? $"/{module}/Gemm", [input, weight ?? $"{module}.weight", bias ?? $"{module}.bias"], output,
            FloatAttribute("alpha", 1f), FloatAttribute("beta", 1f), IntAttribute("transB", 1));

    public static (float[] W, float[] B) Linear(int inputs, int outputs, ulong seed) =>
        (Values(outputs * inputs, seed), Values(outputs, seed + 100));

    public static (double[] W, double[] B) Exact(float[] w, float[]? b, int outputs) =>
        ([.. w.Select(v => (double)v)], b is null ? new double[outputs] : [.. b.Select(v => (double)v)]);
}
