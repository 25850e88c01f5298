namespace Backprop.Simd.Onnx.Import;

/// <summary>
/// The shape of a value computed from the graph input: the batch dimension (<see cref="ConstTensor.Batch"/> when
/// symbolic, or the fixed size the model declares) and the dimensions of one sample (-1 where unknown; null when not
/// even the rank is known), with <paramref name="Text"/> describing it for messages (<c>[N, 1, 28, 28]</c>).
/// </summary>
internal sealed record DataShape(long Batch, long[]? Sample, string Text)
{
    /// <summary>The values per sample, or -1 when a dimension is unknown.</summary>
    public long Width => Sample is null || Sample.Any(d => d < 0) ? -1 : ConstTensor.CountOf(Sample);

    /// <summary>A value [batch, width], such as a layer's output.</summary>
    public static DataShape Rows(long batch, long width) => new(batch, [width], $"[{Failures.Dim(batch)}, {width}]");

    /// <summary>The dims for <c>Shape</c>, or null when some are unknown.</summary>
    public long[]? Dims => Width < 0 ? null : [Batch, .. Sample!];

    /// <summary>
    /// The constant <paramref name="c"/> as the operand of an elementwise operation with a value of this shape: one
    /// value (when it is the same for every feature) or one per feature, row-major over the sample's dimensions.
    /// Returns null when it does not broadcast that way (it would differ between samples, or change the value's shape).
    /// A value whose shape is not declared takes its width from a constant of [n] or [1, n], through
    /// <paramref name="shape"/>.
    /// </summary>
    public float[]? PerSample(ConstTensor c, out DataShape shape)
    {
        shape = this;
        float[] values = c.Floats!;
        long[] dims = c.Dims;
        int rank = Sample is null ? 2 : Sample.Length + 1;
        if (dims.Length > rank || (dims.Length == rank && dims[0] != 1))
        {
            return null; // a constant of higher rank, or one that varies along the batch dimension
        }

        long[] own = dims.Length == rank ? dims[1..] : dims; // the constant's dims aligned with the sample's
        if (Sample is null)
        {
            if (values.Length == 1)
            {
                return values;
            }

            if (own.Length != 1)
            {
                return null;
            }

            shape = Rows(Batch, own[0]);
            return values;
        }

        for (int i = 1; i <= own.Length; i++)
        {
            if (own[^i] != 1 && own[^i] != Sample[^i])
            {
                return null;
            }
        }

        if (values.Length == 1)
        {
            return values;
        }

        if (Width < 0)
        {
            return null;
        }

        int[] sources = TensorMath.SourceIndices(own, Sample);
        var expanded = new float[sources.Length];
        for (int i = 0; i < sources.Length; i++)
        {
            expanded[i] = values[sources[i]];
        }

        return expanded;
    }
}
