namespace Backprop.Simd.Onnx.Import;

/// <summary>
/// An elementwise affine map by constants, <c>v' = (Scale v + Offset) / Divisor</c> per feature, kept in double:
/// what <c>Add</c>, <c>Sub</c>, <c>Mul</c>, <c>Div</c> and an eval-mode <c>BatchNormalization</c> do to a value. One
/// after a layer's product (before its activation) is folded into that layer's weights and biases; one before a
/// layer (input normalisation) into the next layer's. A width of 1 is a map that is the same for every feature.
/// </summary>
internal sealed class Affine
{
    public Affine(int width, double[]? offset = null)
    {
        Scale = Ones(width);
        Offset = offset ?? new double[width];
        Divisor = Ones(width);
    }

    public double[] Scale { get; private set; }

    public double[] Offset { get; private set; }

    public double[] Divisor { get; private set; }

    public int Width => Scale.Length;

    /// <summary>Whether the map is the identity (nothing but a bias given at the start has been applied).</summary>
    public bool Changed { get; private set; }

    /// <summary>The node of the first operation, for messages.</summary>
    public string? First { get; private set; }

    /// <summary>Makes a map of width 1 one of <paramref name="width"/>, the same for every feature.</summary>
    public void Widen(int width)
    {
        if (Width == 1 && width != 1)
        {
            Scale = Repeat(Scale[0], width);
            Offset = Repeat(Offset[0], width);
            Divisor = Repeat(Divisor[0], width);
        }
    }

    /// <summary>
    /// Applies <paramref name="op"/> (<c>Add</c>, <c>Sub</c>, <c>Mul</c> or <c>Div</c>) with the constant
    /// <paramref name="c"/> (one value, or one per feature), which is the first operand when <paramref name="constantFirst"/>.
    /// The caller rejects <c>c / v</c>, which is not affine.
    /// </summary>
    public void Apply(string op, float[] c, bool constantFirst, string node)
    {
        Note(node, c.Length);
        for (int k = 0; k < Width; k++)
        {
            double value = c[c.Length == 1 ? 0 : k];
            switch (op)
            {
                case "Add":
                    Offset[k] += value * Divisor[k];
                    break;
                case "Sub" when constantFirst:
                    Scale[k] = -Scale[k];
                    Offset[k] = (value * Divisor[k]) - Offset[k];
                    break;
                case "Sub":
                    Offset[k] -= value * Divisor[k];
                    break;
                case "Mul":
                    Scale[k] *= value;
                    Offset[k] *= value;
                    break;
                default:
                    Divisor[k] *= value;
                    break;
            }
        }
    }

    /// <summary><c>v' = gamma (v - mean) / sqrt(var + epsilon) + beta</c>, with <paramref name="root"/> = sqrt(var + epsilon) per feature.</summary>
    public void BatchNorm(float[] gamma, float[] beta, float[] mean, double[] root, string node)
    {
        Note(node, gamma.Length);
        for (int k = 0; k < Width; k++)
        {
            int i = gamma.Length == 1 ? 0 : k;
            double g = gamma[i], s = root[i];
            Offset[k] = (g * Offset[k]) - (g * mean[i] * Divisor[k]) + (beta[i] * s * Divisor[k]);
            Scale[k] *= g;
            Divisor[k] *= s;
        }
    }

    private void Note(string node, int values)
    {
        Widen(values);
        First ??= node;
        Changed = true;
    }

    private static double[] Ones(int width) => Repeat(1.0, width);

    private static double[] Repeat(double value, int width)
    {
        var values = new double[width];
        Array.Fill(values, value);
        return values;
    }
}
