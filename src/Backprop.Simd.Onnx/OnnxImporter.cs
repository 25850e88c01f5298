using Backprop.Simd.Serialization;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Onnx;

/// <summary>
/// Turns a decoded model into a <see cref="Network"/>: walks the graph's nodes in order as one chain from the graph
/// input to the graph output, collecting fully connected layers (<c>Gemm</c>, or <c>MatMul</c> plus an optional
/// bias <c>Add</c>) and the activation after each. Everything it does not understand is an
/// <see cref="InvalidDataException"/> naming the source and the node, initializer or field.
/// </summary>
internal sealed class OnnxImporter
{
    /// <summary>Oldest default-domain opset accepted: 7 (ONNX 1.2), where Gemm lost its <c>broadcast</c> attribute.</summary>
    public const long MinOpset = 7;

    /// <summary>Most values one tensor may hold: what one float array can.</summary>
    private const long MaxFloats = 0x7FFF_FFC7 / sizeof(float);

    private readonly OnnxModelProto _model;
    private readonly OnnxGraph _graph;
    private readonly Dictionary<string, OnnxTensor> _initializers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _defined = new(StringComparer.Ordinal);
    private readonly List<PendingLayer> _layers = [];
    private long _opset;
    private int? _width; // the width of the value flowing along the chain, once known

    private OnnxImporter(OnnxModelProto model)
    {
        _model = model;
        _graph = model.Graph ?? throw Fail("model", "has no graph (field 7), expected a graph of fully connected layers");
    }

    /// <summary>Builds the network the model describes.</summary>
    public static Network Import(OnnxModelProto model) => new OnnxImporter(model).Build();

    private string Source => _model.Source;

    private Network Build()
    {
        CheckVersions();
        foreach (OnnxTensor tensor in _graph.Initializers)
        {
            if (tensor.Name.Length == 0)
            {
                throw Fail(tensor.Path, "has no name, expected every initializer to be named");
            }

            if (!_initializers.TryAdd(tensor.Name, tensor))
            {
                throw Fail(tensor.Describe, $"has the same name as {_initializers[tensor.Name].Path}, expected unique initializer names");
            }

            _defined.Add(tensor.Name);
        }

        if (_graph.SparseInitializers > 0)
        {
            throw Fail("graph", "has sparse_initializer entries, which are not supported (expected dense float initializers)");
        }

        OnnxValueInfo input = GraphInput();
        OnnxValueInfo output = GraphOutput();
        string current = input.Name;
        int? flattenedWidth = null;
        for (int i = 0; i < _graph.Nodes.Count; i++)
        {
            OnnxNode node = _graph.Nodes[i];
            if (node.Domain is not ("" or "ai.onnx"))
            {
                throw Fail(node.Describe, $"is in operator domain '{node.Domain}', expected the default ONNX domain");
            }

            if (node.Outputs.Length != 1 || node.Outputs[0].Length == 0)
            {
                throw Fail(node.Describe, $"has {node.Outputs.Length} outputs{(node.Outputs.Length == 1 ? " (unnamed)" : "")}, expected exactly one named output");
            }

            string result = node.Outputs[0];
            if (!_defined.Add(result))
            {
                throw Fail(node.Describe, $"writes '{result}', which is already defined, expected a new name (each value is defined once)");
            }

            switch (node.OpType)
            {
                case "Gemm":
                    Gemm(node, current);
                    break;
                case "MatMul":
                    MatMul(node, current);
                    break;
                case "Add":
                    Add(node, current);
                    break;
                case var op when ActivationOf(op) is Activation activation:
                    SetActivation(node, current, activation);
                    break;
                case "Identity":
                    DataInput(node, current, inputs: 1);
                    CheckAttributes(node);
                    break;
                case "Flatten":
                    flattenedWidth = Flatten(node, current, input);
                    break;
                default:
                    throw Fail(node.Describe, $"is a {(node.OpType.Length == 0 ? "node without op_type" : $"'{node.OpType}' node")}, which is not supported: " +
                        "the importer reads chains of Gemm (or MatMul + Add) layers with Sigmoid, Tanh, Relu, LeakyRelu (alpha 0.01), Softmax (last) or Identity activations, optionally after one Flatten");
            }

            current = result;
        }

        if (_layers.Count == 0)
        {
            throw Fail("graph", $"has no Gemm or MatMul node among its {_graph.Nodes.Count} nodes, expected at least one fully connected layer");
        }

        if (current != output.Name)
        {
            throw Fail(output.Path, $"is '{output.Name}', but the chain of nodes ends in '{current}': the graph is not a simple chain from input to output");
        }

        int inputWidth = _layers[0].Inputs;
        CheckDeclaredWidth(input, flattenedWidth is null ? inputWidth : null, "input");
        CheckDeclaredWidth(output, _layers[^1].Outputs, "output");
        return Assemble();
    }

    private void CheckVersions()
    {
        if (_model.IrVersion < 3)
        {
            throw Fail("model.ir_version", $"is {_model.IrVersion}, expected 3 or later (a model with opset_import)");
        }

        foreach ((string domain, long version) in _model.Opsets)
        {
            if (domain is "" or "ai.onnx")
            {
                _opset = version;
            }
        }

        if (_opset == 0)
        {
            throw Fail("model.opset_import", "does not import the default ONNX operator set (domain \"\"), expected e.g. version 13 or later");
        }

        if (_opset < MinOpset)
        {
            throw Fail("model.opset_import", $"imports ONNX opset {_opset}, expected {MinOpset} or later");
        }
    }

    private OnnxValueInfo GraphInput()
    {
        // Initializers may also be listed as graph inputs (PyTorch's keep_initializers_as_inputs): those are weights.
        OnnxValueInfo[] inputs = _graph.Inputs.Where(v => !_initializers.ContainsKey(v.Name)).ToArray();
        if (inputs.Length != 1)
        {
            throw Fail("graph.input", $"declares {inputs.Length} inputs besides the initializers ({Names(inputs)}), expected exactly one: the network's input [N, n_in]");
        }

        OnnxValueInfo input = inputs[0];
        CheckFloatTensor(input);
        if (input.Name.Length == 0 || !_defined.Add(input.Name))
        {
            throw Fail(input.Path, $"has the name '{input.Name}', expected a unique, non-empty name");
        }

        return input;
    }

    private OnnxValueInfo GraphOutput()
    {
        if (_graph.Outputs.Count != 1)
        {
            throw Fail("graph.output", $"declares {_graph.Outputs.Count} outputs ({Names(_graph.Outputs)}), expected exactly one: the network's output [N, n_out]");
        }

        OnnxValueInfo output = _graph.Outputs[0];
        CheckFloatTensor(output);
        return output;
    }

    private void CheckFloatTensor(OnnxValueInfo value)
    {
        if (value.NotATensor)
        {
            throw Fail(value.Path, $"'{value.Name}' is not a tensor (a sequence, map, optional or sparse type), expected a float tensor");
        }

        if (value.ElemType != S.DataType.Float && value.ElemType != S.DataType.Undefined)
        {
            throw Fail(value.Path, $"'{value.Name}' has elem_type {S.DataType.Describe(value.ElemType)}, expected 1 (FLOAT)");
        }
    }

    // The declared [N, width] of the graph's input or output, if a shape is declared, must agree with the weights.
    private void CheckDeclaredWidth(OnnxValueInfo value, int? width, string what)
    {
        if (value.Shape is not { } shape || width is null)
        {
            return;
        }

        if (shape.Length != 2)
        {
            throw Fail(value.Path, $"'{value.Name}' has rank {shape.Length}, expected rank 2: [N, {width}]{(what == "input" ? " (or a Flatten first)" : "")}");
        }

        if (shape[1].Value is long declared && declared != width)
        {
            throw Fail(value.Path, $"'{value.Name}' has shape [{DescribeShape(shape)}], but the {(what == "input" ? "first layer's weights take" : "last layer's weights give")} {width} values per sample");
        }
    }

    private void Gemm(OnnxNode node, string current)
    {
        DataInput(node, current, inputs: 3, min: 2, max: 3); // C is optional: absent or named ""
        float alpha = 1f, beta = 1f;
        long transA = 0, transB = 0;
        foreach (OnnxAttribute attribute in node.Attributes)
        {
            switch (attribute.Name)
            {
                case "alpha":
                    alpha = FloatValue(node, attribute);
                    break;
                case "beta":
                    beta = FloatValue(node, attribute);
                    break;
                case "transA":
                    transA = IntValue(node, attribute);
                    break;
                case "transB":
                    transB = IntValue(node, attribute);
                    break;
                default:
                    throw UnknownAttribute(node, attribute, "alpha, beta, transA, transB");
            }
        }

        if (alpha != 1f || beta != 1f)
        {
            throw Fail(node.Describe, $"has alpha={Format(alpha)} and beta={Format(beta)}, which is not supported: only alpha = beta = 1 (y = x W^T + b)");
        }

        if (transA != 0)
        {
            throw Fail(node.Describe, $"has transA={transA}, which is not supported: the data input must be [N, n_in] (transA=0)");
        }

        if (transB is not (0 or 1))
        {
            throw Fail(node.Describe, $"has transB={transB}, expected 0 or 1");
        }

        OnnxTensor b = Initializer(node, 1, "B (the weights)");
        long[] dims = Matrix(node, b, "B (the weights)");
        int outputs = (int)(transB == 1 ? dims[0] : dims[1]);
        int inputs = (int)(transB == 1 ? dims[1] : dims[0]);
        StartLayer(node, inputs, outputs, ReadMatrix(node, b, transposed: transB == 0));

        bool hasBias = node.Inputs.Length == 3 && node.Inputs[2].Length > 0;
        if (hasBias)
        {
            SetBias(node, 2, "C (the bias)");
        }
    }

    private void MatMul(OnnxNode node, string current)
    {
        DataInput(node, current, inputs: 2);
        CheckAttributes(node);
        OnnxTensor b = Initializer(node, 1, "B (the weights, [n_in, n_out])");
        long[] dims = Matrix(node, b, "B (the weights, [n_in, n_out])");
        StartLayer(node, (int)dims[0], (int)dims[1], ReadMatrix(node, b, transposed: true));
    }

    private void Add(OnnxNode node, string current)
    {
        CheckAttributes(node);
        if (node.Inputs.Length != 2)
        {
            throw Fail(node.Describe, $"has {node.Inputs.Length} inputs, expected 2");
        }

        int data = node.Inputs[0] == current ? 0 : node.Inputs[1] == current ? 1 : -1;
        if (data < 0)
        {
            throw NotChained(node, current);
        }

        PendingLayer? layer = _layers.Count > 0 ? _layers[^1] : null;
        if (layer is null || layer.Activation is not null || layer.Bias is not null)
        {
            throw Fail(node.Describe, "adds to something other than a bias-free MatMul or Gemm output, which is not supported: Add is only accepted as the bias of the layer right before it");
        }

        SetBias(node, 1 - data, "the bias");
    }

    /// <summary>The activation an ONNX operator computes (the inverse of <see cref="OnnxExporter.OperatorOf"/>); null for any other operator.</summary>
    private static Activation? ActivationOf(string op)
    {
        foreach (ActivationKind kind in (ActivationKind[])[ActivationKind.Sigmoid, ActivationKind.Tanh, ActivationKind.ReLU, ActivationKind.LeakyReLU, ActivationKind.Softmax])
        {
            Activation activation = Activation.Of(kind);
            if (OnnxExporter.OperatorOf(activation) == op)
            {
                return activation;
            }
        }

        return null;
    }

    private void SetActivation(OnnxNode node, string current, Activation activation)
    {
        DataInput(node, current, inputs: 1);
        foreach (OnnxAttribute attribute in node.Attributes)
        {
            switch ((activation.Kind, attribute.Name))
            {
                case (ActivationKind.LeakyReLU, "alpha"):
                    float alpha = FloatValue(node, attribute);
                    if (!(alpha >= -1f && alpha <= 1f))
                    {
                        throw Fail(node.Describe, $"has alpha={Format(alpha)}, which is not supported: the leaky ReLU's slope must be from -1 to 1");
                    }

                    activation = Activation.LeakyReLUWithSlope(alpha);
                    break;
                case (ActivationKind.Softmax, "axis"):
                    long axis = IntValue(node, attribute);
                    if (axis is not (1 or -1))
                    {
                        throw Fail(node.Describe, $"has axis={axis}, which is not supported: the softmax must run over each sample's outputs (axis 1 or -1 of [N, n_out])");
                    }

                    break;
                default:
                    throw UnknownAttribute(node, attribute, activation.Kind switch
                    {
                        ActivationKind.LeakyReLU => "alpha",
                        ActivationKind.Softmax => "axis",
                        _ => "none",
                    });
            }
        }

        PendingLayer layer = _layers.Count > 0 ? _layers[^1] : throw Fail(node.Describe, "comes before any Gemm or MatMul, which is not supported: an activation must follow a fully connected layer");
        if (layer.Activation is Activation previous)
        {
            throw Fail(node.Describe, $"follows the {OnnxExporter.OperatorOf(previous) ?? "Identity"} of the same layer, which is not supported: expected one activation per fully connected layer");
        }

        layer.Activation = activation;
    }

    private int Flatten(OnnxNode node, string current, OnnxValueInfo input)
    {
        DataInput(node, current, inputs: 1);
        long axis = 1;
        foreach (OnnxAttribute attribute in node.Attributes)
        {
            axis = attribute.Name == "axis" ? IntValue(node, attribute) : throw UnknownAttribute(node, attribute, "axis");
        }

        if (current != input.Name)
        {
            throw Fail(node.Describe, "is not applied to the graph input, which is not supported: Flatten is only accepted at the start of the graph");
        }

        if (input.Shape is not { Length: >= 2 } shape)
        {
            throw Fail(node.Describe, $"flattens {input.Path} '{input.Name}', which declares no shape of rank 2 or more, expected [N, d1, d2, ...] with fixed d1, d2, ...");
        }

        if (axis is not 1)
        {
            throw Fail(node.Describe, $"has axis={axis}, which is not supported: only axis=1 (keep the batch dimension, flatten the rest)");
        }

        long width = 1;
        for (int d = 1; d < shape.Length; d++)
        {
            if (shape[d].Value is not long size || size < 1)
            {
                throw Fail(node.Describe, $"flattens {input.Path} '{input.Name}' of shape [{DescribeShape(shape)}], expected fixed sizes of at least 1 after the batch dimension");
            }

            width *= size;
            if (width > Array.MaxLength)
            {
                throw Fail(input.Path, $"'{input.Name}' has shape [{DescribeShape(shape)}], more values per sample than the importer accepts");
            }
        }

        _width = (int)width;
        return (int)width;
    }

    private void StartLayer(OnnxNode node, int inputs, int outputs, float[] weights)
    {
        if (_layers.Count > 0 && _layers[^1].Activation == Activation.Softmax)
        {
            throw Fail(node.Describe, "follows a Softmax, which is not supported: softmax is only allowed on the output layer");
        }

        if (_width is int width && width != inputs)
        {
            throw Fail(node.Describe, $"takes {inputs} values per sample, but the value before it has {width}: the layer sizes do not chain");
        }

        _layers.Add(new PendingLayer(inputs, outputs, weights));
        _width = outputs;
    }

    private void SetBias(OnnxNode node, int index, string what)
    {
        PendingLayer layer = _layers[^1];
        OnnxTensor c = Initializer(node, index, what);
        bool fits = c.Dims switch
        {
            [long n] => n == layer.Outputs || n == 1,
            [1, long n] => n == layer.Outputs || n == 1,
            [] => true,
            _ => false,
        };
        if (!fits)
        {
            throw Fail(c.Describe, $"is {what} of {node.Describe} with dims [{string.Join(", ", c.Dims)}], expected [{layer.Outputs}] or [1, {layer.Outputs}] (one bias per output)");
        }

        float[] values = ReadFloats(node, c, what);
        float[] bias = values.Length == layer.Outputs ? values : Enumerable.Repeat(values[0], layer.Outputs).ToArray();
        layer.Bias = bias;
    }

    // Checks the node's data input is the chain's current value; every other input is then an initializer.
    private void DataInput(OnnxNode node, string current, int inputs, int? min = null, int? max = null)
    {
        if (node.Inputs.Length < (min ?? inputs) || node.Inputs.Length > (max ?? inputs))
        {
            string expected = min is null ? $"{inputs}" : $"{min} to {max}";
            throw Fail(node.Describe, $"has {node.Inputs.Length} inputs, expected {expected}");
        }

        if (node.Inputs[0] != current)
        {
            throw NotChained(node, current);
        }
    }

    private InvalidDataException NotChained(OnnxNode node, string current) =>
        Fail(node.Describe, $"reads '{string.Join("', '", node.Inputs)}', but the value before it is '{current}': the graph is not a simple chain (each node must take the previous node's output)");

    private OnnxTensor Initializer(OnnxNode node, int index, string what)
    {
        string name = node.Inputs[index];
        if (!_initializers.TryGetValue(name, out OnnxTensor? tensor))
        {
            throw Fail(node.Describe, $"takes {what} from '{name}', which is not an initializer: expected constant weights stored in the graph");
        }

        if (tensor.DataType != S.DataType.Float)
        {
            throw Fail(tensor.Describe, $"is {what} of {node.Describe} with data_type {S.DataType.Describe(tensor.DataType)}, expected 1 (FLOAT)");
        }

        return tensor;
    }

    private long[] Matrix(OnnxNode node, OnnxTensor tensor, string what)
    {
        if (tensor.Dims.Length != 2 || tensor.Dims[0] < 1 || tensor.Dims[1] < 1)
        {
            throw Fail(tensor.Describe, $"is {what} of {node.Describe} with dims [{string.Join(", ", tensor.Dims)}], expected a matrix of two sizes of at least 1");
        }

        ElementCount(tensor);
        return tensor.Dims;
    }

    // The product of the dims, checked step by step so it cannot overflow; at most what one float array can hold.
    private long ElementCount(OnnxTensor tensor)
    {
        long count = 1;
        foreach (long dim in tensor.Dims)
        {
            if (dim < 0)
            {
                throw Fail(tensor.Describe, $"has a negative dimension in [{string.Join(", ", tensor.Dims)}]");
            }

            if (dim > 0 && count > MaxFloats / dim)
            {
                throw Fail(tensor.Describe, $"has dims [{string.Join(", ", tensor.Dims)}], more values than the importer accepts ({MaxFloats})");
            }

            count *= dim;
        }

        return count;
    }

    private float[] ReadMatrix(OnnxNode node, OnnxTensor tensor, bool transposed)
    {
        float[] values = ReadFloats(node, tensor, "the weights");
        if (!transposed)
        {
            return values;
        }

        // [rows, cols] stored row-major; we want [cols, rows] row-major.
        int rows = (int)tensor.Dims[0], cols = (int)tensor.Dims[1];
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

    // The tensor's values; the element count must match the data exactly, which is checked before allocating.
    private float[] ReadFloats(OnnxNode node, OnnxTensor tensor, string what)
    {
        long count = ElementCount(tensor);
        if (tensor.HasOtherData)
        {
            throw Fail(tensor.Describe, $"holds its values in a field for another data type (int32_data, int64_data, double_data, ...), but data_type is FLOAT");
        }

        if (tensor.RawData is (int start, int length))
        {
            if (tensor.FloatData is not null)
            {
                throw Fail(tensor.Describe, "holds both raw_data and float_data, expected one of them");
            }

            if (length != count * sizeof(float))
            {
                throw Fail(tensor.Describe, $"is {what} of {node.Describe} with dims [{string.Join(", ", tensor.Dims)}] ({count} floats, {count * sizeof(float)} bytes), but its raw_data holds {length} bytes");
            }

            var values = new float[count];
            ReadOnlySpan<byte> bytes = _model.Data.AsSpan(start, length);
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values);
            }
            else
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * sizeof(float), sizeof(float)));
                }
            }

            return values;
        }

        int have = tensor.FloatData?.Count ?? 0;
        if (have != count)
        {
            throw Fail(tensor.Describe, $"is {what} of {node.Describe} with dims [{string.Join(", ", tensor.Dims)}] ({count} floats), but it holds {have} values (raw_data absent, float_data has {have})");
        }

        return tensor.FloatData is null ? [] : [.. tensor.FloatData];
    }

    private float FloatValue(OnnxNode node, OnnxAttribute attribute)
    {
        if (attribute.F is float value && attribute.Type is S.AttributeType.Float or S.AttributeType.Undefined)
        {
            return value;
        }

        throw Fail(attribute.Path, $"'{attribute.Name}' of {node.Describe} has type {attribute.Type}{(attribute.F is null ? " and no float value" : "")}, expected a FLOAT attribute (type 1, field f)");
    }

    private long IntValue(OnnxNode node, OnnxAttribute attribute)
    {
        if (attribute.I is long value && attribute.Type is S.AttributeType.Int or S.AttributeType.Undefined)
        {
            return value;
        }

        throw Fail(attribute.Path, $"'{attribute.Name}' of {node.Describe} has type {attribute.Type}{(attribute.I is null ? " and no int value" : "")}, expected an INT attribute (type 2, field i)");
    }

    private void CheckAttributes(OnnxNode node)
    {
        if (node.Attributes.Length > 0)
        {
            throw UnknownAttribute(node, node.Attributes[0], "none");
        }
    }

    private InvalidDataException UnknownAttribute(OnnxNode node, OnnxAttribute attribute, string known) =>
        Fail(attribute.Path, $"'{attribute.Name}' of {node.Describe} is not supported (the importer knows: {known})");

    private Network Assemble()
    {
        var sizes = new int[_layers.Count + 1];
        sizes[0] = _layers[0].Inputs;
        long parameterCount = 0;
        for (int l = 0; l < _layers.Count; l++)
        {
            sizes[l + 1] = _layers[l].Outputs;
            parameterCount += ((long)_layers[l].Inputs * _layers[l].Outputs) + _layers[l].Outputs;
        }

        if (parameterCount > Array.MaxLength)
        {
            throw Fail("graph", $"describes {parameterCount} parameters, more than one array can hold");
        }

        var parameters = new float[parameterCount];
        var activations = new Activation[_layers.Count];
        int offset = 0;
        for (int l = 0; l < _layers.Count; l++)
        {
            PendingLayer layer = _layers[l];
            layer.Weights.CopyTo(parameters, offset);
            offset += layer.Weights.Length;
            layer.Bias?.CopyTo(parameters, offset); // no bias: zeros
            offset += layer.Outputs;
            activations[l] = layer.Activation ?? Activation.Identity;
        }

        CostFunction cost = Cost(activations);
        return new Network(sizes, parameters, activations, cost);
    }

    // The cost recorded by our exporter if present; otherwise the only one that can be inferred.
    private CostFunction Cost(Activation[] activations)
    {
        CostFunction inferred = activations[^1] == Activation.Softmax ? CostFunction.LogLikelihood : CostFunction.Quadratic;
        for (int i = 0; i < _model.Metadata.Count; i++)
        {
            (string key, string value) = _model.Metadata[i];
            if (key != OnnxModel.CostMetadataKey)
            {
                continue;
            }

            if (!Serialization.Names.OnnxCosts.TryParse(value, out CostFunction cost))
            {
                throw Fail($"model.metadata_props[{i}]", $"'{key}' is '{value}', expected {string.Join(", ", Serialization.Names.OnnxCosts.All)}");
            }

            try
            {
                Network.CheckArchitecture(activations, cost);
            }
            catch (ArgumentException e)
            {
                throw Fail($"model.metadata_props[{i}]", $"'{key}' is '{value}', which does not fit the layers' activations: {e.Message.Split(" (Parameter")[0]}");
            }

            return cost;
        }

        return inferred;
    }

    private InvalidDataException Fail(string where, string message) => new(MessageText.Printable($"{Source}: {where}: {message}."));

    private static string Names(IEnumerable<OnnxValueInfo> values) => string.Join(", ", values.Select(v => $"'{v.Name}'"));

    private static string DescribeShape(OnnxDim[] shape) =>
        string.Join(", ", shape.Select(d => d.Value?.ToString(CultureInfo.InvariantCulture) ?? d.Param ?? "?"));

    private static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    private sealed class PendingLayer(int inputs, int outputs, float[] weights)
    {
        public int Inputs { get; } = inputs;

        public int Outputs { get; } = outputs;

        /// <summary>Row-major [Outputs, Inputs], our layout.</summary>
        public float[] Weights { get; } = weights;

        public float[]? Bias { get; set; }

        public Activation? Activation { get; set; }
    }
}
