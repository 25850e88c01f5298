using Backprop.Simd.Onnx.Protobuf;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Onnx;

/// <summary>A dimension of a declared shape: a fixed size, a symbolic name, or neither (unknown).</summary>
internal readonly record struct OnnxDim(long? Value, string? Param);

/// <summary>A graph input or output as declared (<c>ValueInfoProto</c>).</summary>
/// <param name="Name">The value's name.</param>
/// <param name="Path">Where it is in the model, for messages.</param>
/// <param name="ElemType">The tensor element type; 0 if there is no type.</param>
/// <param name="Shape">The declared dimensions, or null when no shape is declared.</param>
/// <param name="NotATensor">The type is a sequence, map, optional or sparse tensor.</param>
internal sealed record OnnxValueInfo(string Name, string Path, int ElemType, OnnxDim[]? Shape, bool NotATensor);

/// <summary>An attribute of a node: its float, int, tensor, floats and ints values are kept; any other kind of value
/// (strings, graphs, type protos, sparse tensors, references) is only noted.</summary>
internal sealed record OnnxAttribute(string Name, string Path, int Type, float? F, long? I, OnnxTensor? T, float[]? Floats, long[]? Ints, bool HasOtherValue);

/// <summary>A node of the graph (<c>NodeProto</c>).</summary>
internal sealed record OnnxNode(string Path, string Name, string OpType, string Domain, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes)
{
    /// <summary>How messages name the node: <c>graph.node[2] 'fc1' (Gemm)</c>.</summary>
    public string Describe => Name.Length > 0 ? $"{Path} '{Name}' ({OpType})" : $"{Path} ({OpType})";
}

/// <summary>An initializer or a tensor attribute (<c>TensorProto</c>); raw data stays in the file's bytes until it is
/// used. The typed fields are kept as read: <c>float_data</c>, <c>double_data</c>, <c>int32_data</c> (which also
/// holds BOOL values) and <c>int64_data</c>; <paramref name="HasOtherData"/> notes <c>string_data</c> or
/// <c>uint64_data</c>.</summary>
internal sealed record OnnxTensor(
    string Path,
    string Name,
    long[] Dims,
    int DataType,
    (int Start, int Length)? RawData,
    List<float>? FloatData,
    List<double>? DoubleData,
    List<long>? Int32Data,
    List<long>? Int64Data,
    bool HasOtherData)
{
    public string Describe => $"{Path} '{Name}'";
}

/// <summary>The parts of a <c>GraphProto</c> the importer looks at.</summary>
internal sealed class OnnxGraph
{
    public List<OnnxNode> Nodes { get; } = [];

    public List<OnnxTensor> Initializers { get; } = [];

    public List<OnnxValueInfo> Inputs { get; } = [];

    public List<OnnxValueInfo> Outputs { get; } = [];

    public int SparseInitializers { get; set; }
}

/// <summary>The parts of a <c>ModelProto</c> the importer looks at, and the bytes they came from.</summary>
internal sealed class OnnxModelProto(byte[] data, string source)
{
    public byte[] Data { get; } = data;

    public string Source { get; } = source;

    public long IrVersion { get; set; }

    public List<(string Domain, long Version)> Opsets { get; } = [];

    public List<(string Key, string Value)> Metadata { get; } = [];

    /// <summary>The model-local functions (<c>functions</c>), by domain and name.</summary>
    public List<(string Domain, string Name)> Functions { get; } = [];

    public string ProducerName { get; set; } = "";

    public OnnxGraph? Graph { get; set; }
}

/// <summary>
/// Decodes the messages of onnx.proto that the importer needs from untrusted bytes into <see cref="OnnxModelProto"/>.
/// Fields it does not need are skipped by wire type without being decoded (so subgraphs in attributes, the bodies of
/// functions, training info and the like are never followed; of a model-local function only its name and domain are
/// read). Lengths are validated by <see cref="ProtoReader"/>; counts of
/// repeated entries are capped so a file of tiny entries cannot make it allocate far more than the file's size.
/// </summary>
internal static class OnnxProtoParser
{
    /// <summary>Most nodes, initializers, graph inputs or outputs a graph may have.</summary>
    public const int MaxEntries = 100_000;

    /// <summary>Most inputs, outputs or attributes a node may have, dimensions a tensor or shape may have,
    /// and opset imports or metadata entries a model may have.</summary>
    public const int MaxSmallList = 1_024;

    public static OnnxModelProto Parse(byte[] data, string source)
    {
        var model = new OnnxModelProto(data, source);
        var reader = new ProtoReader(data, source, "model");
        bool seenGraph = false;
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case S.Model.IrVersion:
                    model.IrVersion = reader.Int64("ir_version");
                    break;
                case S.Model.ProducerName:
                    model.ProducerName = reader.String("producer_name");
                    break;
                case S.Model.OpsetImport:
                    Cap(ref reader, model.Opsets.Count, MaxSmallList, "opset_import");
                    model.Opsets.Add(ParseOpset(reader.Message("opset_import", $"model.opset_import[{model.Opsets.Count}]")));
                    break;
                case S.Model.MetadataProps:
                    Cap(ref reader, model.Metadata.Count, MaxSmallList, "metadata_props");
                    model.Metadata.Add(ParseEntry(reader.Message("metadata_props", $"model.metadata_props[{model.Metadata.Count}]")));
                    break;
                case S.Model.Functions:
                    Cap(ref reader, model.Functions.Count, MaxSmallList, "functions");
                    model.Functions.Add(ParseFunction(reader.Message("functions", $"model.functions[{model.Functions.Count}]")));
                    break;
                case S.Model.Graph:
                    if (seenGraph)
                    {
                        throw reader.Error("the graph field appears twice, expected one graph");
                    }

                    seenGraph = true;
                    model.Graph = ParseGraph(reader.Message("graph", "graph"));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return model;
    }

    private static (string Domain, long Version) ParseOpset(ProtoReader reader)
    {
        string domain = "";
        long version = 0;
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case S.OperatorSetId.Domain:
                    domain = reader.String("domain");
                    break;
                case S.OperatorSetId.Version:
                    version = reader.Int64("version");
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return (domain, version);
    }

    private static (string Domain, string Name) ParseFunction(ProtoReader reader)
    {
        string domain = "", name = "";
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case S.Function.Domain:
                    domain = reader.String("domain");
                    break;
                case S.Function.Name:
                    name = reader.String("name");
                    break;
                default:
                    reader.Skip(); // its nodes are never read
                    break;
            }
        }

        return (domain, name);
    }

    private static (string Key, string Value) ParseEntry(ProtoReader reader)
    {
        string key = "", value = "";
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case S.StringStringEntry.Key:
                    key = reader.String("key");
                    break;
                case S.StringStringEntry.Value:
                    value = reader.String("value");
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return (key, value);
    }

    private static OnnxGraph ParseGraph(ProtoReader reader)
    {
        var graph = new OnnxGraph();
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case S.Graph.Node:
                    Cap(ref reader, graph.Nodes.Count, MaxEntries, "node");
                    string nodePath = $"graph.node[{graph.Nodes.Count}]";
                    graph.Nodes.Add(ParseNode(reader.Message("node", nodePath), nodePath));
                    break;
                case S.Graph.Initializer:
                    Cap(ref reader, graph.Initializers.Count, MaxEntries, "initializer");
                    string tensorPath = $"graph.initializer[{graph.Initializers.Count}]";
                    graph.Initializers.Add(ParseTensor(reader.Message("initializer", tensorPath), tensorPath));
                    break;
                case S.Graph.Input:
                    Cap(ref reader, graph.Inputs.Count, MaxEntries, "input");
                    string inputPath = $"graph.input[{graph.Inputs.Count}]";
                    graph.Inputs.Add(ParseValueInfo(reader.Message("input", inputPath), inputPath));
                    break;
                case S.Graph.Output:
                    Cap(ref reader, graph.Outputs.Count, MaxEntries, "output");
                    string outputPath = $"graph.output[{graph.Outputs.Count}]";
                    graph.Outputs.Add(ParseValueInfo(reader.Message("output", outputPath), outputPath));
                    break;
                case S.Graph.SparseInitializer:
                    reader.Skip();
                    graph.SparseInitializers++;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return graph;
    }

    private static OnnxNode ParseNode(ProtoReader reader, string path)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new List<OnnxAttribute>();
        string name = "", op = "", domain = "";
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case S.Node.Input:
                    Cap(ref reader, inputs.Count, MaxSmallList, "input");
                    inputs.Add(reader.String("input"));
                    break;
                case S.Node.Output:
                    Cap(ref reader, outputs.Count, MaxSmallList, "output");
                    outputs.Add(reader.String("output"));
                    break;
                case S.Node.Name:
                    name = reader.String("name");
                    break;
                case S.Node.OpType:
                    op = reader.String("op_type");
                    break;
                case S.Node.Domain:
                    domain = reader.String("domain");
                    break;
                case S.Node.Attribute:
                    Cap(ref reader, attributes.Count, MaxSmallList, "attribute");
                    string attributePath = $"{path}.attribute[{attributes.Count}]";
                    attributes.Add(ParseAttribute(reader.Message("attribute", attributePath), attributePath));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new OnnxNode(path, name, op, domain, [.. inputs], [.. outputs], [.. attributes]);
    }

    private static OnnxAttribute ParseAttribute(ProtoReader reader, string path)
    {
        string name = "";
        int type = S.AttributeType.Undefined;
        float? f = null;
        long? i = null;
        OnnxTensor? t = null;
        List<float>? floats = null;
        List<long>? ints = null;
        bool other = false;
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case S.Attribute.Name:
                    name = reader.String("name");
                    break;
                case S.Attribute.Type:
                    type = reader.Int32("type");
                    break;
                case S.Attribute.F:
                    f = reader.Float("f");
                    break;
                case S.Attribute.I:
                    i = reader.Int64("i");
                    break;
                case S.Attribute.T:
                    if (t is not null)
                    {
                        throw reader.Error("the t field appears twice, expected one tensor");
                    }

                    t = ParseTensor(reader.Message("t", $"{path}.t"), $"{path}.t");
                    break;
                case S.Attribute.Floats:
                    reader.Floats("floats", floats ??= []);
                    break;
                case S.Attribute.Ints:
                    reader.Int64s("ints", ints ??= []);
                    if (ints.Count > MaxEntries)
                    {
                        throw reader.Error($"ints has more than {MaxEntries} entries, more than the importer accepts");
                    }

                    break;
                case S.Attribute.S or S.Attribute.G or S.Attribute.Strings or S.Attribute.Tensors or S.Attribute.Graphs
                    or S.Attribute.Tp or S.Attribute.TypeProtos or S.Attribute.RefAttrName or S.Attribute.SparseTensor or S.Attribute.SparseTensors:
                    other = true;
                    reader.Skip();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new OnnxAttribute(name, path, type, f, i, t, floats?.ToArray(), ints?.ToArray(), other);
    }

    private static OnnxTensor ParseTensor(ProtoReader reader, string path)
    {
        var dims = new List<long>();
        int dataType = S.DataType.Undefined;
        string name = "";
        (int, int)? raw = null;
        List<float>? floats = null;
        List<double>? doubles = null;
        List<long>? int32s = null, int64s = null;
        bool other = false, external = false, segment = false;
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case S.Tensor.Dims:
                    reader.Int64s("dims", dims);
                    if (dims.Count > MaxSmallList)
                    {
                        throw reader.Error($"dims has more than {MaxSmallList} entries");
                    }

                    break;
                case S.Tensor.DataType:
                    dataType = reader.Int32("data_type");
                    break;
                case S.Tensor.Name:
                    name = reader.String("name");
                    break;
                case S.Tensor.RawData:
                    raw = reader.Bytes("raw_data");
                    break;
                case S.Tensor.FloatData:
                    reader.Floats("float_data", floats ??= []);
                    break;
                case S.Tensor.ExternalData:
                    external = true;
                    reader.Skip();
                    break;
                case S.Tensor.DataLocation:
                    external |= reader.Int32("data_location") == S.DataLocation.External;
                    break;
                case S.Tensor.Segment:
                    segment = true;
                    reader.Skip();
                    break;
                case S.Tensor.DoubleData:
                    reader.Doubles("double_data", doubles ??= []);
                    break;
                case S.Tensor.Int32Data:
                    Integers(ref reader, "int32_data", int32s ??= []);
                    break;
                case S.Tensor.Int64Data:
                    Integers(ref reader, "int64_data", int64s ??= []);
                    break;
                case S.Tensor.StringData or S.Tensor.Uint64Data:
                    other = true;
                    reader.Skip();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        string described = name.Length > 0 ? $"{path} '{name}'" : path;
        if (external)
        {
            throw new InvalidDataException(MessageText.Printable($"{reader.Source}: {described}: the tensor's data is stored outside the model file (data_location=EXTERNAL / external_data), which is not supported: save the model with its weights inside the file."));
        }

        if (segment)
        {
            throw new InvalidDataException(MessageText.Printable($"{reader.Source}: {described}: the tensor is split into segments (segment), which is not supported."));
        }

        return new OnnxTensor(path, name, [.. dims], dataType, raw, floats, doubles, int32s, int64s, other);
    }

    // Integer data: each value takes at least one byte but eight in memory, so the count is capped.
    private static void Integers(ref ProtoReader reader, string name, List<long> into)
    {
        reader.Int64s(name, into);
        if (into.Count > MaxEntries)
        {
            throw reader.Error($"{name} has more than {MaxEntries} entries, more than the importer accepts");
        }
    }

    private static OnnxValueInfo ParseValueInfo(ProtoReader reader, string path)
    {
        string name = "";
        int elemType = 0;
        OnnxDim[]? shape = null;
        bool notTensor = false, seenType = false;
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case S.ValueInfo.Name:
                    name = reader.String("name");
                    break;
                case S.ValueInfo.Type:
                    if (seenType)
                    {
                        throw reader.Error("the type field appears twice, expected one");
                    }

                    seenType = true;
                    ProtoReader type = reader.Message("type", $"{path}.type");
                    while (type.Next())
                    {
                        if (type.Field == S.Type.TensorType)
                        {
                            (elemType, shape) = ParseTensorType(type.Message("tensor_type", $"{path}.type.tensor_type"));
                        }
                        else if (type.Field == S.Type.Denotation)
                        {
                            type.Skip();
                        }
                        else
                        {
                            notTensor = true; // sequence_type, map_type, sparse_tensor_type, optional_type
                            type.Skip();
                        }
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new OnnxValueInfo(name, path, elemType, shape, notTensor);
    }

    private static (int ElemType, OnnxDim[]? Shape) ParseTensorType(ProtoReader reader)
    {
        int elemType = 0;
        List<OnnxDim>? dims = null;
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case S.TensorType.ElemType:
                    elemType = reader.Int32("elem_type");
                    break;
                case S.TensorType.Shape:
                    if (dims is not null)
                    {
                        throw reader.Error("the shape field appears twice, expected one");
                    }

                    dims = [];
                    ProtoReader shape = reader.Message("shape", $"{reader.Path}.shape");
                    while (shape.Next())
                    {
                        if (shape.Field != S.TensorShape.Dim)
                        {
                            shape.Skip();
                            continue;
                        }

                        Cap(ref shape, dims.Count, MaxSmallList, "dim");
                        ProtoReader dim = shape.Message("dim", $"{shape.Path}.dim[{dims.Count}]");
                        long? value = null;
                        string? param = null;
                        while (dim.Next())
                        {
                            switch (dim.Field)
                            {
                                case S.Dimension.DimValue:
                                    value = dim.Int64("dim_value");
                                    param = null;
                                    break;
                                case S.Dimension.DimParam:
                                    param = dim.String("dim_param");
                                    value = null;
                                    break;
                                default:
                                    dim.Skip();
                                    break;
                            }
                        }

                        dims.Add(new OnnxDim(value, param));
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return (elemType, dims?.ToArray());
    }

    private static void Cap(ref ProtoReader reader, int count, int max, string name)
    {
        if (count >= max)
        {
            throw reader.Error($"{name} has more than {max} entries, more than the importer accepts");
        }
    }
}
