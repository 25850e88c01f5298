namespace Backprop.Simd.Onnx.Import;

/// <summary>The nodes along the chain other than layers and elementwise maps: dispatch, activations (with GELU and
/// SiLU), reshaping, <c>Identity</c> and <c>Dropout</c>.</summary>
internal sealed partial class OnnxImporter
{
    private const string Accepted = "the importer reads fully connected layers (Gemm, or MatMul and Add), each with one activation " +
        "(Sigmoid, Tanh, Relu, LeakyRelu, Elu, GELU, SiLU; Softmax or LogSoftmax last), elementwise Add, Sub, Mul and Div by constants, " +
        "BatchNormalization, Flatten, Reshape, Identity and inference-mode Dropout";

    private void DataNode(int index, OnnxNode node)
    {
        string[] data = [.. node.Inputs.Where(_data.ContainsKey)];
        if (data.Any(d => d != _current))
        {
            throw _fail.At(node.Describe, $"reads '{string.Join("', '", node.Inputs)}', but the value before it is '{_current}': the graph is not a simple chain (each node must take the previous node's output)");
        }

        if (data.Length > 1 && node.OpType is not ("Gemm" or "MatMul"))
        {
            throw _fail.At(node.Describe, $"reads '{_current}' {data.Length} times, which is not supported: the graph must be one chain from input to output (only GELU and SiLU read a value twice)");
        }

        if (_readers[_current].Distinct().Count() > 1)
        {
            Dictionary<int, PatternStep> steps = new ActivationPatterns(_graph.Nodes, _readers).Match(_current) ?? throw Branches(node);
            if (_layers.Count == 0 || _layers[^1].Activation is not null)
            {
                throw _fail.At(node.Describe, $"starts a {Name(steps.Values.First().Activation)} of '{_current}', which does not come right after a Gemm or MatMul: an activation must follow a fully connected layer");
            }

            foreach ((int at, PatternStep step) in steps)
            {
                _steps[at] = step;
            }

            _steps.Remove(index);
            Step(node, steps[index]);
            return;
        }

        DataShape shape = _data[_current];
        DataShape result = node.OpType switch
        {
            "Gemm" => Gemm(node),
            "MatMul" => MatMul(node),
            "Add" or "Sub" or "Mul" or "Div" => Elementwise(node, shape),
            "BatchNormalization" => BatchNormalization(node, shape),
            "Flatten" => Flatten(node, shape),
            "Reshape" => Reshape(node, shape),
            "Identity" => PassThrough(node, shape),
            "Dropout" => Dropout(node, shape),
            "Sigmoid" or "Tanh" or "Relu" or "LeakyRelu" or "Elu" or "Softmax" or "LogSoftmax" => Activate(node, shape),
            _ => throw Unsupported(node),
        };
        Advance(node, result);
    }

    private InvalidDataException Unsupported(OnnxNode node)
    {
        string hint = node.OpType switch
        {
            "Erf" => " outside the pattern of GELU, x * 0.5 * (1 + erf(x / sqrt 2)), right after a layer",
            "Clip" => " (ReLU6 and Hardtanh export as Clip)",
            "PRelu" => " (PReLU's slopes are parameters: use LeakyReLU)",
            _ => "",
        };
        return _fail.At(node.Describe, $"is {(node.OpType.Length == 0 ? "a node without op_type" : $"{("AEIOU".Contains(node.OpType[0], StringComparison.Ordinal) ? "an" : "a")} '{node.OpType}' node")}{hint}, which is not supported: {Accepted}");
    }

    private static bool IsChainOperator(string op) => op is "Gemm" or "MatMul" or "Add" or "Sub" or "Mul" or "Div" or "BatchNormalization"
        or "Flatten" or "Reshape" or "Identity" or "Dropout" or "Sigmoid" or "Tanh" or "Relu" or "LeakyRelu" or "Elu" or "Softmax" or "LogSoftmax";

    private void Advance(OnnxNode node, DataShape shape)
    {
        _current = node.Outputs[0];
        _data[_current] = shape;
    }

    private InvalidDataException Branches(OnnxNode node)
    {
        string readers = string.Join(", ", _readers[_current].Select(i => _graph.Nodes[i].Describe));
        return _fail.At(node.Describe, $"reads '{_current}', which {_readers[_current].Count} nodes read ({readers}), which is not supported: the graph must be one chain from input to output (only GELU and SiLU read a value twice)");
    }

    private DataShape PassThrough(OnnxNode node, DataShape shape)
    {
        if (node.Inputs.Length != 1)
        {
            throw _fail.At(node.Describe, $"has {node.Inputs.Length} inputs, expected 1");
        }

        new NodeAttributes(node, _fail);
        return shape;
    }

    private DataShape Activate(OnnxNode node, DataShape shape)
    {
        Activation activation;
        switch (node.OpType)
        {
            case "LeakyRelu":
                float alpha = new NodeAttributes(node, _fail, "alpha").Float("alpha", Activation.DefaultLeakySlope);
                if (!(alpha >= -1f && alpha <= 1f))
                {
                    throw _fail.At(node.Describe, $"has alpha={Failures.Format(alpha)}, which is not supported: the leaky ReLU's slope must be from -1 to 1");
                }

                activation = Activation.LeakyReLUWithSlope(alpha);
                break;
            case "Elu":
                float eluAlpha = new NodeAttributes(node, _fail, "alpha").Float("alpha", 1f);
                activation = eluAlpha == 1f ? Activation.ELU : throw _fail.At(node.Describe, $"has alpha={Failures.Format(eluAlpha)}, which is not supported: only the ELU with alpha 1 (nn.ELU())");
                break;
            case "Softmax" or "LogSoftmax":
                long axis = new NodeAttributes(node, _fail, "axis").Int("axis", _opset >= 13 ? -1 : 1);
                if (axis is not (1 or -1))
                {
                    throw _fail.At(node.Describe, $"has axis={axis}, which is not supported: the {(node.OpType == "Softmax" ? "softmax" : "log-softmax")} must run over each sample's outputs (axis 1 or -1 of [N, n_out])");
                }

                activation = node.OpType == "Softmax" ? Activation.Softmax : Activation.LogSoftmax;
                break;
            default:
                new NodeAttributes(node, _fail);
                activation = node.OpType switch { "Sigmoid" => Activation.Sigmoid, "Tanh" => Activation.Tanh, _ => Activation.ReLU };
                break;
        }

        if (node.Inputs.Length != 1)
        {
            throw _fail.At(node.Describe, $"has {node.Inputs.Length} inputs, expected 1");
        }

        SetActivation(node, activation);
        return shape;
    }

    private void SetActivation(OnnxNode node, Activation activation)
    {
        PendingLayer layer = _layers.Count > 0 ? _layers[^1] : throw _fail.At(node.Describe, "comes before any Gemm or MatMul, which is not supported: an activation must follow a fully connected layer");
        if (layer.Activation is Activation previous)
        {
            throw _pending is { First: { } first }
                ? _fail.At(node.Describe, $"comes after {first}, which follows the {Name(previous)} of a layer, which is not supported: an activation must follow a fully connected layer")
                : _fail.At(node.Describe, $"follows the {Name(previous)} of the same layer, which is not supported: expected one activation per fully connected layer");
        }

        layer.Activation = activation;
    }

    /// <summary>How messages name an activation: its ONNX operator where it has one.</summary>
    private static string Name(Activation activation) => activation.Kind switch
    {
        ActivationKind.ReLU => "Relu",
        ActivationKind.LeakyReLU => "LeakyRelu",
        ActivationKind.ELU => "Elu",
        _ => activation.Kind.ToString(),
    };

    // A node of a GELU or SiLU: its constant operand is checked, and the last one sets the layer's activation.
    private void Step(OnnxNode node, PatternStep step)
    {
        new NodeAttributes(node, _fail);
        if (node.OpType == "Erf" && _opset < 9)
        {
            throw _fail.At(node.Describe, $"is an 'Erf' node (of a GELU), which needs opset 9 or later, but the model imports opset {_opset}");
        }

        string[] constants = [.. node.Inputs.Where(i => !_data.ContainsKey(i))];
        if (step.Constant is double expected)
        {
            ConstTensor c = _constants.Get(constants.Single(), node, $"the constant of a {Name(step.Activation)}");
            double value = c.Floats is { Length: 1 } f ? f[0] : double.NaN;
            if (!(Math.Abs(value - expected) <= 1e-6 * expected))
            {
                throw _fail.At(node.Describe, $"has the constant {(double.IsNaN(value) ? $"{c.Origin} of dims {Failures.Dims(c.Dims)}" : Failures.Format(value))} where {Name(step.Activation)}, x * 0.5 * (1 + erf(x / sqrt 2)), has {Failures.Format(expected)}, which is not supported");
            }
        }
        else if (constants.Length > 0)
        {
            throw _fail.At(node.Describe, $"reads '{constants[0]}', which is not computed from the input, where a {Name(step.Activation)} reads its own values only");
        }

        _data[node.Outputs[0]] = _data[_current];
        if (step.Last)
        {
            SetActivation(node, step.Activation);
            Advance(node, _data[_current]);
        }
    }

    private DataShape Dropout(OnnxNode node, DataShape shape)
    {
        new NodeAttributes(node, _fail, "ratio", "seed");
        if (node.Inputs.Length is < 1 or > 3 || node.Inputs[0] != _current || node.Outputs.Length > 2)
        {
            throw _fail.At(node.Describe, $"has {node.Inputs.Length} inputs and {node.Outputs.Length} outputs, expected the data, an optional ratio and training_mode, and the output with an optional mask");
        }

        if (node.Outputs.Length == 2 && node.Outputs[1].Length > 0 && _readers.ContainsKey(node.Outputs[1]))
        {
            throw _fail.At(node.Describe, $"gives its mask '{node.Outputs[1]}' to another node, which is not supported: Dropout is read as the identity");
        }

        if (node.Inputs.Length == 3 && node.Inputs[2].Length > 0)
        {
            ConstTensor mode = _constants.Get(node.Inputs[2], node, "training_mode");
            if (mode.Count != 1 || mode.Real(0) != 0)
            {
                throw _fail.At(node.Describe, "is a training-mode Dropout (its training_mode is true), which is not supported: export the model in eval mode (model.eval(), and no training=TrainingMode.TRAINING)");
            }
        }

        return shape;
    }

    private DataShape Flatten(OnnxNode node, DataShape shape)
    {
        if (node.Inputs.Length != 1)
        {
            throw _fail.At(node.Describe, $"has {node.Inputs.Length} inputs, expected 1");
        }

        long axis = new NodeAttributes(node, _fail, "axis").Int("axis", 1);
        long width = KnownWidth(node, shape, "flattens");
        if (axis != 1 && axis + shape.Sample!.Length + 1 != 1)
        {
            throw _fail.At(node.Describe, $"has axis={axis}, which is not supported: only axis=1 (keep the batch dimension, flatten the rest)");
        }

        return DataShape.Rows(shape.Batch, width);
    }

    private DataShape Reshape(OnnxNode node, DataShape shape)
    {
        long allowZero = new NodeAttributes(node, _fail, "allowzero").Int("allowzero", 0);
        if (node.Inputs.Length != 2 || node.Inputs[0] != _current)
        {
            throw _fail.At(node.Describe, $"has inputs '{string.Join("', '", node.Inputs)}', expected the data '{_current}' and a shape");
        }

        ConstTensor target = _constants.Get(node.Inputs[1], node, "its shape");
        long width = KnownWidth(node, shape, "reshapes");
        if (target.Integers is [long first, long second])
        {
            bool keepsBatch = first == ConstTensor.Batch || first == shape.Batch || (first == 0 && allowZero == 0)
                || (first == 1 && shape.Batch == ConstTensor.Batch); // a traced len(x): the model runs on batches of 1 only
            if ((first == -1 && second == width) || (keepsBatch && (second == -1 || second == width)))
            {
                return DataShape.Rows(shape.Batch, width);
            }
        }

        string to = target.Integers is { } values ? Failures.Dims(values) : $"a {target.Dims.Length}-D tensor of data_type {target.Type}";
        throw _fail.At(node.Describe, $"reshapes '{_current}' of shape {shape.Text} to {to}, which is not supported: only to [N, {width}] (the batch dimension kept, the rest flattened), e.g. x.view(x.size(0), -1) or x.view(-1, {width})");
    }

    private long KnownWidth(OnnxNode node, DataShape shape, string verb)
    {
        long width = shape.Width;
        if (width < 1)
        {
            throw _fail.At(node.Describe, $"{verb} '{_current}' of shape {shape.Text}, expected fixed sizes of at least 1 after the batch dimension");
        }

        return width;
    }
}
