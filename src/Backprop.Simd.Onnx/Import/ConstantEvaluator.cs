using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Onnx.Import;

/// <summary>
/// Computes the nodes whose inputs are all constants, the way PyTorch's exports need it: <c>Constant</c> (any of its
/// value attributes but strings and sparse tensors), <c>Identity</c>, <c>Cast</c>, 2-D <c>Transpose</c> (a weight used
/// as <c>W.T</c>), and the shape arithmetic of <c>x.view(x.size(0), -1)</c>: <c>Shape</c>, <c>Gather</c>,
/// <c>Unsqueeze</c>, <c>Squeeze</c>, <c>Concat</c>, <c>Reshape</c>, and <c>Add</c>, <c>Sub</c>, <c>Mul</c>,
/// <c>Div</c> with broadcasting. Integer tensors may hold the batch size N (<see cref="ConstTensor.Batch"/>), which
/// these pass along but never compute with. A node it cannot compute is not an error until its value is used.
/// </summary>
internal sealed class ConstantEvaluator(Constants constants, Failures fail, long opset)
{
    /// <summary>Computes <paramref name="node"/>'s outputs into the constants, or records why it cannot.</summary>
    public void Run(OnnxNode node)
    {
        if (node.OpType == "Identity" && node.Inputs is [{ Length: > 0 } source] && node.Outputs.Length == 1)
        {
            new NodeAttributes(node, fail);
            constants.Alias(node.Outputs[0], source);
            return;
        }

        ConstTensor result;
        try
        {
            result = Compute(node);
        }
        catch (CannotEvaluateException e)
        {
            foreach (string output in node.Outputs.Where(o => o.Length > 0).Distinct())
            {
                constants.Unknown(output, $"{node.Describe} computes from constants in a way the importer cannot evaluate: {e.Message}");
            }

            return;
        }

        constants.Define(node.Outputs[0], result);
    }

    /// <summary>The <c>Shape</c> of a tensor of <paramref name="dims"/> (the batch size may be among them).</summary>
    public static ConstTensor ShapeOf(OnnxNode node, Failures fail, long[] dims)
    {
        var attributes = new NodeAttributes(node, fail, "start", "end");
        int rank = dims.Length;
        long start = Clamp(attributes.Int("start", 0), rank), end = Clamp(attributes.Int("end", rank), rank);
        long[] values = start < end ? dims[(int)start..(int)end] : [];
        return ConstTensor.OfIntegers(S.DataType.Int64, [values.Length], values, node.Describe);
    }

    private static long Clamp(long axis, int rank) => Math.Clamp(axis < 0 ? axis + rank : axis, 0, rank);

    private ConstTensor Input(OnnxNode node, int index, string what) => constants.Get(node.Inputs[index], node, what);

    private ConstTensor Compute(OnnxNode node)
    {
        int inputs = node.Inputs.Length;
        if (node.Outputs.Length != 1)
        {
            throw new CannotEvaluateException($"it has {node.Outputs.Length} outputs");
        }

        (int min, int max) = node.OpType switch
        {
            "Constant" => (0, 0),
            "Cast" or "Transpose" or "Shape" or "Identity" => (1, 1),
            "Gather" or "Add" or "Sub" or "Mul" or "Div" or "Reshape" => (2, 2),
            "Unsqueeze" => opset >= 13 ? (2, 2) : (1, 1),
            "Squeeze" => opset >= 13 ? (1, 2) : (1, 1),
            "Concat" => (1, OnnxProtoParser.MaxSmallList),
            _ => throw new CannotEvaluateException($"the importer does not compute '{node.OpType}' nodes"),
        };
        if (inputs < min || inputs > max || node.Inputs.Any(i => i.Length == 0))
        {
            throw new CannotEvaluateException($"it has {inputs} inputs, expected {(min == max ? $"{min}" : $"{min} to {max}")}");
        }

        return node.OpType switch
        {
            "Constant" => Constant(node),
            "Cast" => TensorMath.Cast(Input(node, 0, "the input"), (int)new NodeAttributes(node, fail, "to", "saturate").Int("to", 0), node.Describe, constants),
            "Transpose" => Transpose(node),
            "Shape" => ShapeOf(node, fail, Input(node, 0, "the input").Dims),
            "Gather" => Gather(node),
            "Unsqueeze" or "Squeeze" => Squeeze(node),
            "Concat" => TensorMath.Concat([.. node.Inputs.Select((_, i) => Input(node, i, $"input {i}"))], new NodeAttributes(node, fail, "axis").Int("axis", 0), node.Describe, constants),
            "Reshape" => Reshape(node),
            _ => Arithmetic(node),
        };
    }

    private ConstTensor Constant(OnnxNode node)
    {
        var attributes = new NodeAttributes(node, fail, "value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings", "sparse_value");
        if (node.Attributes.Length != 1)
        {
            throw new CannotEvaluateException($"it has {node.Attributes.Length} attributes, expected one value");
        }

        OnnxAttribute value = node.Attributes[0];
        ConstTensor result = value.Name switch
        {
            "value" when value.T is { } t => ConstTensor.Read(t, constants.Data, fail).With(t.Dims, node.Describe),
            "value_float" => ConstTensor.OfFloats([], [attributes.Float("value_float", 0f)], node.Describe),
            "value_floats" when value.Floats is { } floats => ConstTensor.OfFloats([floats.Length], floats, node.Describe),
            "value_int" => ConstTensor.OfIntegers(S.DataType.Int64, [], [attributes.Int("value_int", 0)], node.Describe),
            "value_ints" => attributes.Ints("value_ints") is { } ints ? ConstTensor.OfIntegers(S.DataType.Int64, [ints.Length], ints, node.Describe) : throw new CannotEvaluateException("value_ints holds no ints"),
            "value" => throw fail.At(value.Path, $"'value' of {node.Describe} holds no tensor, expected a TENSOR attribute (type 4, field t)"),
            _ => throw new CannotEvaluateException($"it holds a {value.Name}, which the importer does not read"),
        };
        constants.Reserve(result.Count, node.Describe);
        return ConstTensor.CheckIntegers(result, fail);
    }

    private ConstTensor Transpose(OnnxNode node)
    {
        long[]? perm = new NodeAttributes(node, fail, "perm").Ints("perm");
        ConstTensor x = Input(node, 0, "the input");
        int rank = x.Dims.Length;
        if (rank > 2)
        {
            throw new CannotEvaluateException($"it transposes a tensor of rank {rank}, and the importer transposes matrices only");
        }

        bool swap = rank == 2 && (perm is null || perm.SequenceEqual([1L, 0L]));
        if (perm is not null && !swap && !perm.SequenceEqual(Enumerable.Range(0, rank).Select(i => (long)i)))
        {
            throw new CannotEvaluateException($"perm {Failures.Dims(perm)} does not fit a tensor of rank {rank}");
        }

        if (!swap)
        {
            return x.With(x.Dims, node.Describe);
        }

        constants.Reserve(x.Count, node.Describe);
        return TensorMath.Transpose(x, node.Describe);
    }

    private ConstTensor Gather(OnnxNode node)
    {
        long axis = new NodeAttributes(node, fail, "axis").Int("axis", 0);
        ConstTensor data = Input(node, 0, "the data"), indices = Input(node, 1, "the indices");
        if (data.Dims.Length != 1 || axis is not (0 or -1) || !indices.IsInteger || indices.Dims.Length > 1)
        {
            throw new CannotEvaluateException($"it gathers {Failures.Dims(indices.Dims)} indices from a tensor of dims {Failures.Dims(data.Dims)} along axis {axis}; the importer gathers from vectors only");
        }

        int n = data.Count;
        var picks = new int[indices.Count];
        for (int i = 0; i < picks.Length; i++)
        {
            long index = indices.Integers![i];
            if (index < -n || index >= n)
            {
                throw new CannotEvaluateException($"index {Failures.Dim(index)} is outside a vector of {n}");
            }

            picks[i] = (int)(index < 0 ? index + n : index);
        }

        constants.Reserve(picks.Length, node.Describe);
        return TensorMath.Pick(data, picks, indices.Dims, node.Describe);
    }

    private ConstTensor Squeeze(OnnxNode node)
    {
        bool unsqueeze = node.OpType == "Unsqueeze";
        ConstTensor x = Input(node, 0, "the input");
        long[]? axes = opset >= 13
            ? (node.Inputs.Length > 1 ? Integers(Input(node, 1, "the axes"), "the axes") : null)
            : new NodeAttributes(node, fail, "axes").Ints("axes");
        if (opset >= 13)
        {
            new NodeAttributes(node, fail);
        }

        var dims = x.Dims.ToList();
        if (unsqueeze)
        {
            int rank = dims.Count + (axes?.Length ?? 0);
            foreach (long axis in (axes ?? throw new CannotEvaluateException("it has no axes")).Select(a => a < 0 ? a + rank : a).Order())
            {
                if (axis < 0 || axis > dims.Count)
                {
                    throw new CannotEvaluateException($"axes {Failures.Dims(axes)} do not fit a result of rank {rank}");
                }

                dims.Insert((int)axis, 1);
            }
        }
        else
        {
            int rank = dims.Count;
            HashSet<long> remove = axes is null ? [.. Enumerable.Range(0, rank).Where(d => dims[d] == 1).Select(d => (long)d)] : [.. axes.Select(a => a < 0 ? a + rank : a)];
            if (remove.Any(a => a < 0 || a >= rank || dims[(int)a] != 1))
            {
                throw new CannotEvaluateException($"axes {Failures.Dims(axes ?? [])} are not dimensions of size 1 of {Failures.Dims(x.Dims)}");
            }

            dims = [.. dims.Where((_, d) => !remove.Contains(d))];
        }

        return x.With([.. dims], node.Describe);
    }

    private ConstTensor Reshape(OnnxNode node)
    {
        long allowZero = new NodeAttributes(node, fail, "allowzero").Int("allowzero", 0);
        ConstTensor x = Input(node, 0, "the data");
        long[] shape = Integers(Input(node, 1, "the shape"), "the shape");
        var dims = new long[shape.Length];
        int infer = -1;
        long known = 1;
        for (int d = 0; d < shape.Length; d++)
        {
            dims[d] = shape[d] == 0 && allowZero == 0 && d < x.Dims.Length ? x.Dims[d] : shape[d];
            if (dims[d] == -1 && infer < 0)
            {
                infer = d;
            }
            else if (dims[d] < 0 || (known = ConstTensor.CountOf([known, dims[d]])) < 0)
            {
                throw new CannotEvaluateException($"shape {Failures.Dims(shape)} does not fit dims {Failures.Dims(x.Dims)}");
            }
        }

        if (infer >= 0)
        {
            dims[infer] = known == 0 ? -1 : x.Count / known;
        }

        if (ConstTensor.CountOf(dims) != x.Count)
        {
            throw new CannotEvaluateException($"shape {Failures.Dims(shape)} does not fit dims {Failures.Dims(x.Dims)}");
        }

        return x.With(dims, node.Describe);
    }

    private ConstTensor Arithmetic(OnnxNode node)
    {
        new NodeAttributes(node, fail);
        ConstTensor a = Input(node, 0, "input 0"), b = Input(node, 1, "input 1");
        return TensorMath.Elementwise(node.OpType, a, b, node.Describe, constants);
    }

    private static long[] Integers(ConstTensor tensor, string what)
    {
        if (!tensor.IsInteger || tensor.Dims.Length > 1 || tensor.Integers!.Contains(ConstTensor.Batch))
        {
            throw new CannotEvaluateException($"{what} is not a vector of known integers");
        }

        return tensor.Integers!;
    }
}

/// <summary>Thrown inside <see cref="ConstantEvaluator"/> when a node cannot be computed; its message says why.</summary>
internal sealed class CannotEvaluateException(string message) : Exception(message);
