namespace Backprop.Simd;

/// <summary>
/// Where every layer's weights and biases live inside a parameter arena (and, with the same offsets, inside a
/// gradient arena). Layer 0 is the input; layer <c>l</c> in 1..L has an <c>n_l x n_{l-1}</c> row-major weight matrix
/// followed by its <c>n_l</c> biases.
/// </summary>
internal sealed class Layout
{
    private readonly int[] _sizes;
    private readonly int[] _weightOffsets; // indexed by layer, [0] unused
    private readonly int[] _neuronOffsets; // offset of layer l's neurons among layers 1..L, [0] unused

    public Layout(ReadOnlySpan<int> sizes)
    {
        if (sizes.Length < 2)
        {
            throw new ArgumentException($"sizes has {sizes.Length} layer(s), expected at least 2 (an input and an output layer).", nameof(sizes));
        }

        for (int l = 0; l < sizes.Length; l++)
        {
            if (sizes[l] < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(sizes), sizes[l], $"sizes[{l}] is {sizes[l]}, expected a layer size of at least 1.");
            }
        }

        _sizes = sizes.ToArray();
        _weightOffsets = new int[sizes.Length];
        _neuronOffsets = new int[sizes.Length];
        long parameters = 0, neurons = 0;
        for (int l = 1; l < sizes.Length; l++)
        {
            _weightOffsets[l] = (int)parameters;
            _neuronOffsets[l] = (int)neurons;
            parameters += ((long)sizes[l] * sizes[l - 1]) + sizes[l]; // at most 2^62 + 2^31: no overflow before the check
            neurons += sizes[l];
            if (parameters > Array.MaxLength)
            {
                // Checked per layer, so the offsets above always fit an int; the total is named exactly.
                Int128 total = 0;
                for (int k = 1; k < sizes.Length; k++)
                {
                    total += ((long)sizes[k] * sizes[k - 1]) + sizes[k];
                }

                throw new ArgumentOutOfRangeException(nameof(sizes), total,
                    $"sizes [{string.Join(", ", sizes.ToArray())}] describe {total:N0} parameters ({MemoryBudget.Describe(total * sizeof(float))} as floats), more than one array can hold ({Array.MaxLength:N0}).");
            }
        }

        ParameterCount = (int)parameters;
        NeuronCount = (int)neurons;
    }

    public ReadOnlySpan<int> Sizes => _sizes;

    /// <summary>L, the index of the output layer (the number of weight layers).</summary>
    public int OutputLayer => _sizes.Length - 1;

    public int ParameterCount { get; }

    /// <summary>Neurons in layers 1..L (the length of the zs, activations and deltas arenas).</summary>
    public int NeuronCount { get; }

    public int WeightOffset(int l) => _weightOffsets[l];

    public int BiasOffset(int l) => _weightOffsets[l] + _sizes[l] * _sizes[l - 1];

    public int NeuronOffset(int l) => _neuronOffsets[l];

    public void CheckLayer(int l, string paramName = "layer")
    {
        if ((uint)(l - 1) >= (uint)OutputLayer)
        {
            throw new ArgumentOutOfRangeException(paramName, l, $"{paramName} is {l}, expected a layer index from 1 to {OutputLayer} (layer 0 is the input).");
        }
    }

    public bool SameShape(Layout other) => ReferenceEquals(this, other) || _sizes.AsSpan().SequenceEqual(other._sizes);

    public string Describe() => "[" + string.Join(", ", _sizes) + "]";
}
