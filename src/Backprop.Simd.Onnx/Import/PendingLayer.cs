namespace Backprop.Simd.Onnx.Import;

/// <summary>
/// A fully connected layer as read so far: its weights as stored, the affine maps folded into it (one on its input,
/// from normalisation before it; one on its output, from its bias, <c>Add</c>, <c>Mul</c>, <c>BatchNormalization</c>
/// and the like after its product), and its activation once one is seen.
/// </summary>
internal sealed class PendingLayer
{
    private readonly float[] _weights;
    private readonly float[]? _bias;
    private readonly Affine? _input;

    /// <param name="inputs">n_in.</param>
    /// <param name="outputs">n_out.</param>
    /// <param name="weights">Row-major [outputs, inputs], our layout.</param>
    /// <param name="bias">The bias of the <c>Gemm</c> (one value or one per output), or null.</param>
    /// <param name="input">The affine map on the layer's input, of width 1 or <paramref name="inputs"/>, or null.</param>
    public PendingLayer(int inputs, int outputs, float[] weights, float[]? bias, Affine? input)
    {
        Inputs = inputs;
        Outputs = outputs;
        _weights = weights;
        _bias = bias is { Length: 1 } && outputs != 1 ? Enumerable.Repeat(bias[0], outputs).ToArray() : bias;
        _input = input is { Changed: true } ? input : null;
        _input?.Widen(inputs);

        // z = W ((a x + t) / d) + b = (W a / d) x + (b + W t / d): the input map's offset joins the bias now, in double.
        var offset = new double[outputs];
        for (int j = 0; j < outputs; j++)
        {
            double sum = _bias?[j] ?? 0;
            if (_input is not null)
            {
                for (int k = 0; k < inputs; k++)
                {
                    sum += _weights[(j * inputs) + k] * (_input.Offset[k] / _input.Divisor[k]);
                }
            }

            offset[j] = sum;
        }

        Output = new Affine(outputs, offset);
    }

    public int Inputs { get; }

    public int Outputs { get; }

    /// <summary>The affine map applied to the layer's weighted input (its bias is its starting offset).</summary>
    public Affine Output { get; }

    public Activation? Activation { get; set; }

    /// <summary>The node that set <see cref="Activation"/> (the last node of GELU or SiLU), for messages.</summary>
    public string? ActivationNode { get; set; }

    /// <summary>
    /// Writes the layer's weights and biases with every affine map folded in: each value computed in double from the
    /// stored floats and rounded to float once. A layer with nothing folded keeps its stored floats bit for bit.
    /// </summary>
    public void WriteTo(Span<float> weights, Span<float> biases)
    {
        if (_input is null && !Output.Changed)
        {
            _weights.CopyTo(weights);
            if (_bias is null)
            {
                biases.Clear();
            }
            else
            {
                _bias.CopyTo(biases);
            }

            return;
        }

        Affine output = Output;
        for (int j = 0; j < Outputs; j++)
        {
            for (int k = 0; k < Inputs; k++)
            {
                double w = _weights[(j * Inputs) + k];
                double numerator = _input is null ? w * output.Scale[j] : w * _input.Scale[k] * output.Scale[j];
                double denominator = _input is null ? output.Divisor[j] : _input.Divisor[k] * output.Divisor[j];
                weights[(j * Inputs) + k] = (float)(numerator / denominator);
            }

            biases[j] = (float)(output.Offset[j] / output.Divisor[j]);
        }
    }
}
