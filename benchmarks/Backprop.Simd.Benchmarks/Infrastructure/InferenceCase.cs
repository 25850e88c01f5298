namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>
/// The inference work of one sample of a network shape. Flops: the forward multiply-adds times 2, an int8 multiply-add
/// counted like a float one (GFLOP/s-equivalent). Bytes: every weight read once at the row's bytes per weight (float32
/// 4, int8 1; <see cref="WorkAttribute.BytesPerWeight"/>) plus the sample's float inputs (4 bytes each); biases, scales,
/// activations and outputs are not counted. A batch row reports the same bytes per sample although a blocked batch
/// reads its weights from cache once per block: there GB/s is a rate of weight bytes used, not memory traffic.
/// </summary>
/// <param name="Sizes">Neurons per layer, input first, as the fixtures spell them (<c>"784-30-10"</c>).</param>
public sealed record InferenceCase(string Sizes) : IInferenceWork
{
    /// <summary>Neurons per layer as numbers.</summary>
    public int[] Layers => Sizes.Split('-').Select(int.Parse).ToArray();

    /// <summary>The weights of all layers.</summary>
    public double Weights
    {
        get
        {
            int[] n = Layers;
            double weights = 0;
            for (int l = 1; l < n.Length; l++)
            {
                weights += (double)n[l] * n[l - 1];
            }

            return weights;
        }
    }

    /// <summary>Forward multiply-adds times 2.</summary>
    public double FlopsPerSample => 2 * Weights;

    /// <summary>Not one number for a shape: the rows give their bytes per weight (<see cref="BytesPerSampleAt"/>).</summary>
    public double BytesPerSample => 0;

    /// <inheritdoc/>
    public double BytesPerSampleAt(int bytesPerWeight) => (bytesPerWeight * Weights) + (sizeof(float) * Layers[0]);

    /// <inheritdoc/>
    public override string ToString() => Sizes;
}
