using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Onnx.Import;

/// <summary>The nodes that make and change layers: <c>Gemm</c>, <c>MatMul</c>, elementwise operations by constants
/// and <c>BatchNormalization</c>, which fold into the layer before their activation or into the next one.</summary>
internal sealed partial class OnnxImporter
{
    private DataShape Gemm(OnnxNode node)
    {
        if (node.Inputs.Length is < 2 or > 3)
        {
            throw _fail.At(node.Describe, $"has {node.Inputs.Length} inputs, expected 2 to 3");
        }

        var attributes = new NodeAttributes(node, _fail, "alpha", "beta", "transA", "transB");
        float alpha = attributes.Float("alpha", 1f), beta = attributes.Float("beta", 1f);
        long transA = attributes.Int("transA", 0), transB = attributes.Int("transB", 0);
        if (alpha != 1f || beta != 1f)
        {
            throw _fail.At(node.Describe, $"has alpha={Failures.Format(alpha)} and beta={Failures.Format(beta)}, which is not supported: only alpha = beta = 1 (y = x W^T + b)");
        }

        if (transA != 0)
        {
            throw _fail.At(node.Describe, $"has transA={transA}, which is not supported: the data input must be [N, n_in] (transA=0)");
        }

        if (transB is not (0 or 1))
        {
            throw _fail.At(node.Describe, $"has transB={transB}, expected 0 or 1");
        }

        ConstTensor b = Weights(node, 1, "B (the weights)");
        int outputs = (int)b.Dims[transB == 1 ? 0 : 1], inputs = (int)b.Dims[transB == 1 ? 1 : 0];
        float[]? bias = null;
        if (node.Inputs.Length == 3 && node.Inputs[2].Length > 0)
        {
            ConstTensor c = Constant(node, 2, "C (the bias)");
            bias = DataShape.Rows(ConstTensor.Batch, outputs).PerSample(c, out _)
                ?? throw _fail.At(c.Origin, $"is C (the bias) of {node.Describe} with dims {Failures.Dims(c.Dims)}, expected [{outputs}] or [1, {outputs}] (one bias per output)");
        }

        return StartLayer(node, inputs, outputs, transB == 1 ? b.Floats! : TensorMath.Transpose(b, b.Origin).Floats!, bias);
    }

    private DataShape MatMul(OnnxNode node)
    {
        if (node.Inputs.Length != 2)
        {
            throw _fail.At(node.Describe, $"has {node.Inputs.Length} inputs, expected 2");
        }

        new NodeAttributes(node, _fail);
        ConstTensor b = Weights(node, 1, "B (the weights, [n_in, n_out])");
        return StartLayer(node, (int)b.Dims[0], (int)b.Dims[1], TensorMath.Transpose(b, b.Origin).Floats!, null);
    }

    private DataShape StartLayer(OnnxNode node, int inputs, int outputs, float[] weights, float[]? bias)
    {
        if (node.Inputs[0] != _current)
        {
            throw _fail.At(node.Describe, $"reads '{string.Join("', '", node.Inputs)}', but the value before it is '{_current}': the graph is not a simple chain (each node must take the previous node's output)");
        }

        if (_layers.Count > 0 && _layers[^1].Activation is { IsOutputOnly: true } last)
        {
            throw _fail.At(node.Describe, $"follows a {Name(last)}, which is not supported: {(last == Activation.Softmax ? "softmax" : "log-softmax")} is only allowed on the output layer");
        }

        DataShape shape = _data[_current];
        bool isInput = _current == _input.Name;
        if (shape.Sample is { } sample)
        {
            if (sample.Length != 1)
            {
                throw isInput
                    ? _fail.At(_input.Path, $"'{_input.Name}' has rank {sample.Length + 1}, expected rank 2: [N, {inputs}] (or a Flatten first)")
                    : _fail.At(node.Describe, $"takes '{_current}' of shape {shape.Text}, expected [N, {inputs}] (flatten it first)");
            }

            if (sample[0] >= 0 && sample[0] != inputs)
            {
                throw isInput
                    ? _fail.At(_input.Path, $"'{_input.Name}' has shape {shape.Text}, but the first layer's weights take {inputs} values per sample")
                    : _fail.At(node.Describe, $"takes {inputs} values per sample, but the value before it has {sample[0]}: the layer sizes do not chain");
            }
        }

        if (_pending is { Width: > 1 } pending && pending.Width != inputs)
        {
            throw _fail.At(node.Describe, $"takes {inputs} values per sample, but {pending.First} works on {pending.Width}");
        }

        _layers.Add(new PendingLayer(inputs, outputs, weights, bias, _pending));
        _pending = null;
        return DataShape.Rows(shape.Batch, outputs);
    }

    // A float matrix of two sizes of at least 1, constant: the weights of a layer.
    private ConstTensor Weights(OnnxNode node, int index, string what)
    {
        if (_data.ContainsKey(node.Inputs[index]))
        {
            throw _fail.At(node.Describe, $"takes {what} from '{node.Inputs[index]}', which is computed from the graph input: expected constant weights (an initializer or a Constant)");
        }

        ConstTensor b = Constant(node, index, what);
        if (b.Dims.Length != 2 || b.Dims[0] < 1 || b.Dims[1] < 1)
        {
            throw _fail.At(b.Origin, $"is {what} of {node.Describe} with dims {Failures.Dims(b.Dims)}, expected a matrix of two sizes of at least 1");
        }

        return b;
    }

    // A constant FLOAT input of the node (the type of the data the chain carries).
    private ConstTensor Constant(OnnxNode node, int index, string what)
    {
        ConstTensor c = _constants.Get(node.Inputs[index], node, what);
        if (c.Floats is null)
        {
            throw _fail.At(c.Origin, $"is {what} of {node.Describe} with data_type {S.DataType.Describe(c.Type)}, expected 1 (FLOAT)");
        }

        return c;
    }

    // Add, Sub, Mul or Div of the chain's value and a constant: folded into the layer before the activation, or the next layer.
    private DataShape Elementwise(OnnxNode node, DataShape shape)
    {
        new NodeAttributes(node, _fail);
        if (node.Inputs.Length != 2)
        {
            throw _fail.At(node.Describe, $"has {node.Inputs.Length} inputs, expected 2");
        }

        int constant = node.Inputs[0] == _current ? 1 : 0;
        if (node.OpType == "Div" && constant == 0)
        {
            throw _fail.At(node.Describe, $"divides a constant by '{_current}', which is not supported: only a division by a constant is folded into a layer");
        }

        ConstTensor c = Constant(node, constant, "the constant operand");
        bool afterLayer = _layers.Count > 0 && _layers[^1].Activation is null;
        DataShape target = afterLayer ? DataShape.Rows(shape.Batch, _layers[^1].Outputs) : shape;
        if (target.Width > _model.Data.Length)
        {
            throw _fail.At(node.Describe, $"works on '{_current}' of shape {shape.Text}, more values per sample than the model's weights could take");
        }

        float[] values = target.PerSample(c, out DataShape result)
            ?? throw _fail.At(c.Origin, $"is the constant operand of {node.Describe} with dims {Failures.Dims(c.Dims)}, which does not broadcast to one value per feature of '{_current}' of shape {shape.Text}: expected one value, or one per feature");
        if (node.OpType == "Div" && Array.IndexOf(values, 0f) >= 0)
        {
            throw _fail.At(node.Describe, "divides by zero, which is not supported");
        }

        Affine map = afterLayer ? _layers[^1].Output : (_pending ??= new Affine(1));
        map.Apply(node.OpType, values, constantFirst: constant == 0, node.Describe);
        return afterLayer ? shape : result;
    }

    // An eval-mode BatchNormalization: folded like Sub, Div, Mul and Add by its per-channel constants.
    private DataShape BatchNormalization(OnnxNode node, DataShape shape)
    {
        var attributes = new NodeAttributes(node, _fail, "epsilon", "momentum", "spatial", "training_mode");
        attributes.Float("momentum", 0.9f); // the running averages' update, which inference does not do
        double epsilon = attributes.Float("epsilon", 1e-5f);
        bool training = attributes.Int("training_mode", 0) != 0 || node.Outputs.Skip(1).Any(o => o.Length > 0);
        if (training)
        {
            throw _fail.At(node.Describe, "is a training-mode BatchNormalization (training_mode=1, or the running mean and variance as outputs), which is not supported: export the model in eval mode (model.eval(), and no training=TrainingMode.TRAINING)");
        }

        if (attributes.Int("spatial", 1) != 1)
        {
            throw _fail.At(node.Describe, "has spatial=0, which is not supported: one mean and variance per channel (spatial=1)");
        }

        if (node.Inputs.Length != 5)
        {
            throw _fail.At(node.Describe, $"has {node.Inputs.Length} inputs, expected 5: the data, scale, bias, mean and variance");
        }

        bool afterLayer = _layers.Count > 0 && _layers[^1].Activation is null;
        long[]? sample = afterLayer ? [_layers[^1].Outputs] : shape.Sample;
        if (sample is null || shape.Width < 0 || shape.Width > _model.Data.Length)
        {
            throw _fail.At(node.Describe, $"normalises '{_current}' of shape {shape.Text}, expected fixed sizes after the batch dimension");
        }

        long channels = sample[0], spread = ConstTensor.CountOf(sample) / channels; // values per channel in one sample
        float[][] parameters = new float[4][];
        string[] names = ["scale", "bias", "mean", "variance"];
        for (int p = 0; p < 4; p++)
        {
            ConstTensor c = Constant(node, p + 1, $"the {names[p]}");
            if (c.Count != channels || c.Dims.Length != 1)
            {
                throw _fail.At(c.Origin, $"is the {names[p]} of {node.Describe} with dims {Failures.Dims(c.Dims)}, expected [{channels}] (one per channel of {shape.Text})");
            }

            parameters[p] = spread == 1 ? c.Floats! : [.. c.Floats!.SelectMany(v => Enumerable.Repeat(v, (int)spread))];
        }

        var root = new double[parameters[3].Length];
        for (int k = 0; k < root.Length; k++)
        {
            root[k] = Math.Sqrt(parameters[3][k] + epsilon);
            if (!(root[k] > 0 && double.IsFinite(root[k])))
            {
                throw _fail.At(node.Describe, $"has variance {Failures.Format(parameters[3][k])} and epsilon {Failures.Format(epsilon)} for feature {k}, whose sum is not positive and finite");
            }
        }

        Affine map = afterLayer ? _layers[^1].Output : (_pending ??= new Affine(1));
        map.BatchNorm(parameters[0], parameters[1], parameters[2], root, node.Describe);
        return shape;
    }
}
