using System.Globalization;
using System.Runtime.InteropServices;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Onnx.Import;

/// <summary>
/// Turns a decoded model into a <see cref="Network"/>. The nodes are visited in order. A node whose inputs are all
/// constants is computed by <see cref="ConstantEvaluator"/> (an error only if its value is used and cannot be
/// computed); <c>Shape</c> may read any value; every other node must continue the chain of values computed from the
/// graph input, which is read by one node at a time except inside a GELU or SiLU (<see cref="ActivationPatterns"/>).
/// Along the chain, <c>Gemm</c> and <c>MatMul</c> start layers, elementwise operations by constants and
/// <c>BatchNormalization</c> fold into the layer before their activation or after it (<see cref="Affine"/>), and the
/// activation ends the layer. Everything it does not understand is an <see cref="InvalidDataException"/> naming the
/// source and the node, initializer or field.
/// </summary>
internal sealed partial class OnnxImporter
{
    /// <summary>Oldest default-domain opset accepted: 7 (ONNX 1.2), where Gemm lost its <c>broadcast</c> attribute.</summary>
    public const long MinOpset = 7;

    private readonly OnnxModelProto _model;
    private readonly OnnxGraph _graph;
    private readonly Failures _fail;
    private readonly Constants _constants;
    private readonly ConstantEvaluator _evaluator;
    private readonly Dictionary<string, DataShape> _data = new(StringComparer.Ordinal); // values computed from the input
    private readonly Dictionary<string, List<int>> _readers = new(StringComparer.Ordinal); // the non-Shape nodes reading each name
    private readonly Dictionary<int, PatternStep> _steps = [];
    private readonly List<PendingLayer> _layers = [];
    private readonly long _opset;
    private OnnxValueInfo _input = null!;
    private string _current = ""; // the value at the end of the chain so far
    private Affine? _pending; // an elementwise map after the last activation (or on the input), for the next layer

    private OnnxImporter(OnnxModelProto model)
    {
        _model = model;
        _fail = new Failures(model.Source);
        _graph = model.Graph ?? throw _fail.At("model", "has no graph (field 7), expected a graph of fully connected layers");
        _opset = Opset();
        _constants = new Constants(model, _fail);
        _evaluator = new ConstantEvaluator(_constants, _fail, _opset);
    }

    /// <summary>Builds the network the model describes.</summary>
    public static Network Import(OnnxModelProto model) => new OnnxImporter(model).Build();

    private Network Build()
    {
        for (int i = 0; i < _graph.Initializers.Count; i++)
        {
            OnnxTensor tensor = _graph.Initializers[i];
            if (tensor.Name.Length == 0)
            {
                throw _fail.At(tensor.Path, "has no name, expected every initializer to be named");
            }

            if (_constants.Contains(tensor.Name))
            {
                throw _fail.At(tensor.Describe, $"has the same name as {_constants.SourceOf(tensor.Name)!.Path}, expected unique initializer names");
            }

            _constants.AddInitializer(tensor);
        }

        if (_graph.SparseInitializers > 0)
        {
            throw _fail.At("graph", "has sparse_initializer entries, which are not supported (expected dense float initializers)");
        }

        _input = GraphInput();
        OnnxValueInfo output = GraphOutput();
        _data[_input.Name] = InputShape(_input);
        _current = _input.Name;
        for (int i = 0; i < _graph.Nodes.Count; i++)
        {
            OnnxNode node = _graph.Nodes[i];
            foreach (string name in node.OpType == "Shape" ? [] : node.Inputs.Where(n => n.Length > 0))
            {
                (CollectionsMarshal.GetValueRefOrAddDefault(_readers, name, out _) ??= []).Add(i);
            }
        }

        for (int i = 0; i < _graph.Nodes.Count; i++)
        {
            Visit(i, _graph.Nodes[i]);
        }

        return Finish(output);
    }

    private long Opset()
    {
        if (_model.IrVersion < 3)
        {
            throw _fail.At("model.ir_version", $"is {_model.IrVersion}, expected 3 or later (a model with opset_import)");
        }

        long opset = 0;
        foreach ((string domain, long version) in _model.Opsets)
        {
            if (domain is "" or "ai.onnx")
            {
                opset = version;
            }
        }

        if (opset == 0)
        {
            throw _fail.At("model.opset_import", "does not import the default ONNX operator set (domain \"\"), expected e.g. version 13 or later");
        }

        return opset >= MinOpset ? opset : throw _fail.At("model.opset_import", $"imports ONNX opset {opset}, expected {MinOpset} or later");
    }

    private OnnxValueInfo GraphInput()
    {
        // Initializers may also be listed as graph inputs (PyTorch's keep_initializers_as_inputs): those are weights.
        OnnxValueInfo[] inputs = [.. _graph.Inputs.Where(v => _constants.SourceOf(v.Name) is null)];
        if (inputs.Length != 1)
        {
            throw _fail.At("graph.input", $"declares {inputs.Length} inputs besides the initializers ({Names(inputs)}), expected exactly one: the network's input [N, n_in]");
        }

        OnnxValueInfo input = inputs[0];
        CheckFloatTensor(input);
        if (input.Name.Length == 0)
        {
            throw _fail.At(input.Path, "has the name '', expected a unique, non-empty name");
        }

        return input;
    }

    private OnnxValueInfo GraphOutput()
    {
        if (_graph.Outputs.Count != 1)
        {
            throw _fail.At("graph.output", $"declares {_graph.Outputs.Count} outputs ({Names(_graph.Outputs)}), expected exactly one: the network's output [N, n_out]");
        }

        OnnxValueInfo output = _graph.Outputs[0];
        CheckFloatTensor(output);
        return output;
    }

    private void CheckFloatTensor(OnnxValueInfo value)
    {
        if (value.NotATensor)
        {
            throw _fail.At(value.Path, $"'{value.Name}' is not a tensor (a sequence, map, optional or sparse type), expected a float tensor");
        }

        if (value.ElemType != S.DataType.Float && value.ElemType != S.DataType.Undefined)
        {
            throw _fail.At(value.Path, $"'{value.Name}' has elem_type {S.DataType.Describe(value.ElemType)}, expected 1 (FLOAT)");
        }
    }

    private DataShape InputShape(OnnxValueInfo input)
    {
        if (input.Shape is not { } dims)
        {
            return new DataShape(ConstTensor.Batch, null, "(no shape declared)");
        }

        string text = $"[{string.Join(", ", dims.Select(d => d.Value?.ToString(CultureInfo.InvariantCulture) ?? d.Param ?? "?"))}]";
        if (dims.Length < 2)
        {
            throw _fail.At(input.Path, $"'{input.Name}' has shape {text}, expected [N, n_in], or [N, d1, d2, ...] to flatten");
        }

        long batch = dims[0].Value is long b and >= 1 ? b : ConstTensor.Batch;
        return new DataShape(batch, [.. dims[1..].Select(d => d.Value is long v and >= 1 ? v : -1)], text);
    }

    private void Visit(int index, OnnxNode node)
    {
        CheckNode(node);
        if (_steps.Remove(index, out PatternStep? step))
        {
            Step(node, step);
            return;
        }

        bool readsData = false;
        string? undefined = null;
        foreach (string name in node.Inputs.Where(n => n.Length > 0))
        {
            if (_data.ContainsKey(name))
            {
                readsData = true;
            }
            else if (!_constants.Contains(name))
            {
                undefined ??= name;
            }
        }

        if (readsData && node.OpType != "Shape" && !IsChainOperator(node.OpType))
        {
            throw Unsupported(node);
        }

        if (undefined is not null)
        {
            throw _fail.At(node.Describe, $"reads '{undefined}', which is not defined before it (not an initializer, the graph input or an earlier node's output)");
        }

        if (!readsData)
        {
            _evaluator.Run(node);
        }
        else if (node.OpType == "Shape" && node.Inputs.Length == 1)
        {
            string of = node.Inputs[0];
            if (_data[of].Dims is { } dims)
            {
                _constants.Define(node.Outputs[0], ConstantEvaluator.ShapeOf(node, _fail, dims));
            }
            else
            {
                _constants.Unknown(node.Outputs[0], $"{node.Describe} takes from the shape of '{of}', which is {_data[of].Text}, not fully known");
            }
        }
        else
        {
            DataNode(index, node);
        }
    }

    private void CheckNode(OnnxNode node)
    {
        if (node.Domain is not ("" or "ai.onnx"))
        {
            throw _model.Functions.Contains((node.Domain, node.OpType))
                ? _fail.At(node.Describe, $"calls the model's local function '{node.OpType}' of domain '{node.Domain}' (a module exported with export_modules_as_functions), which is not supported: export the model without it")
                : _fail.At(node.Describe, $"is in operator domain '{node.Domain}', expected the default ONNX domain");
        }

        bool outputsMay = node.OpType is "Dropout" or "BatchNormalization";
        if (node.Outputs.Length == 0 || node.Outputs[0].Length == 0 || (node.Outputs.Length > 1 && !outputsMay))
        {
            throw _fail.At(node.Describe, $"has {node.Outputs.Length} outputs{(node.Outputs.Length == 1 ? " (unnamed)" : "")}, expected exactly one named output");
        }

        for (int i = 0; i < node.Outputs.Length; i++)
        {
            string output = node.Outputs[i];
            if (output.Length > 0 && (_data.ContainsKey(output) || _constants.Contains(output) || output == _input.Name || Array.IndexOf(node.Outputs, output) < i))
            {
                throw _fail.At(node.Describe, $"writes '{output}', which is already defined, expected a new name (each value is defined once)");
            }
        }
    }

    private Network Finish(OnnxValueInfo output)
    {
        if (_layers.Count == 0)
        {
            throw _fail.At("graph", $"has no Gemm or MatMul node among its {_graph.Nodes.Count} nodes, expected at least one fully connected layer");
        }

        if (_current != output.Name)
        {
            throw _fail.At(output.Path, $"is '{output.Name}', but the chain of nodes ends in '{_current}': the graph is not a simple chain from input to output");
        }

        if (_pending is { Changed: true })
        {
            throw _fail.At(_pending.First!, "comes after the output layer's activation, which is not supported: an elementwise operation by constants is folded into a fully connected layer, and none follows");
        }

        PendingLayer last = _layers[^1];
        if (output.Shape is { } shape)
        {
            if (shape.Length != 2)
            {
                throw _fail.At(output.Path, $"'{output.Name}' has rank {shape.Length}, expected rank 2: [N, {last.Outputs}]");
            }

            if (shape[1].Value is long declared && declared != last.Outputs)
            {
                throw _fail.At(output.Path, $"'{output.Name}' has shape [{string.Join(", ", shape.Select(d => d.Value?.ToString(CultureInfo.InvariantCulture) ?? d.Param ?? "?"))}], but the last layer's weights give {last.Outputs} values per sample");
            }
        }

        return Assemble();
    }

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
            throw _fail.At("graph", $"describes {parameterCount} parameters, more than one array can hold");
        }

        var parameters = new float[parameterCount];
        var activations = new Activation[_layers.Count];
        int offset = 0;
        for (int l = 0; l < _layers.Count; l++)
        {
            PendingLayer layer = _layers[l];
            int weights = layer.Inputs * layer.Outputs;
            layer.WriteTo(parameters.AsSpan(offset, weights), parameters.AsSpan(offset + weights, layer.Outputs));
            offset += weights + layer.Outputs;
            activations[l] = layer.Activation ?? Activation.Identity;
        }

        return new Network(sizes, parameters, activations, Cost(activations));
    }

    // The cost recorded by our exporter if present; otherwise the only one that can be inferred.
    private CostFunction Cost(Activation[] activations)
    {
        CostFunction inferred = activations[^1].IsOutputOnly ? CostFunction.LogLikelihood : CostFunction.Quadratic;
        for (int i = 0; i < _model.Metadata.Count; i++)
        {
            (string key, string value) = _model.Metadata[i];
            if (key != OnnxModel.CostMetadataKey)
            {
                continue;
            }

            if (!Serialization.Names.OnnxCosts.TryParse(value, out CostFunction cost))
            {
                throw _fail.At($"model.metadata_props[{i}]", $"'{key}' is '{value}', expected {string.Join(", ", Serialization.Names.OnnxCosts.All)}");
            }

            try
            {
                Network.CheckArchitecture(activations, cost);
            }
            catch (ArgumentException e)
            {
                throw _fail.At($"model.metadata_props[{i}]", $"'{key}' is '{value}', which does not fit the layers' activations: {e.Message.Split(" (Parameter")[0]}");
            }

            return cost;
        }

        return inferred;
    }

    private static string Names(IEnumerable<OnnxValueInfo> values) => string.Join(", ", values.Select(v => $"'{v.Name}'"));
}
