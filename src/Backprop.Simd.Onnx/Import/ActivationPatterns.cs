namespace Backprop.Simd.Onnx.Import;

/// <summary>One node of a GELU or SiLU: its constant operand, if it has one, and whether it gives the activation.</summary>
/// <param name="Activation">The activation the pattern computes.</param>
/// <param name="Constant">The value the node's constant operand must have, or null if it has none.</param>
/// <param name="Last">Whether this node's output is the activation.</param>
internal sealed record PatternStep(Activation Activation, double? Constant, bool Last);

/// <summary>
/// Finds the activations that read a layer's output twice, by the wiring of the nodes that read it:
/// SiLU, <c>Mul(z, Sigmoid(z))</c>, and GELU as PyTorch writes it, <c>Mul(Mul(z, Add(Erf(Div(z, sqrt 2)), 1)), 0.5)</c>,
/// with <c>Mul(z, 1/sqrt 2)</c> for the division, either operand order for <c>Add</c> and <c>Mul</c>, and the
/// factor 0.5 applied at any of the three places a product of three allows. The constants are checked when the
/// nodes are reached (they are computed by nodes that may come between these).
/// </summary>
internal sealed class ActivationPatterns(List<OnnxNode> nodes, Dictionary<string, List<int>> readers)
{
    public static readonly double Sqrt2 = Math.Sqrt(2);

    /// <summary>The steps of the GELU or SiLU of <paramref name="z"/> by node index, or null if its readers are not one.</summary>
    public Dictionary<int, PatternStep>? Match(string z)
    {
        if (!readers.TryGetValue(z, out List<int>? r) || r.Count != 2 || r[0] == r[1])
        {
            return null;
        }

        return SiLU(z, r[0], r[1]) ?? SiLU(z, r[1], r[0]) ?? Gelu(z, r[0], r[1]) ?? Gelu(z, r[1], r[0]);
    }

    private Dictionary<int, PatternStep>? SiLU(string z, int s, int m)
    {
        if (!Is(s, "Sigmoid", 1) || nodes[s].Inputs[0] != z || !Is(m, "Mul", 2) || OnlyReader(Out(s)) != m || !Reads(m, z, Out(s)))
        {
            return null;
        }

        return new() { [s] = new(Activation.SiLU, null, false), [m] = new(Activation.SiLU, null, true) };
    }

    private Dictionary<int, PatternStep>? Gelu(string z, int d, int m)
    {
        double scale;
        if (Is(d, "Div", 2) && In(d, 0) == z && In(d, 1) != z)
        {
            scale = Sqrt2;
        }
        else if (Is(d, "Mul", 2) && Other(d, z) is not null)
        {
            scale = 1 / Sqrt2;
        }
        else
        {
            return null;
        }

        if (OnlyReader(Out(d)) is not int e || !Is(e, "Erf", 1) || OnlyReader(Out(e)) is not int a || !Is(a, "Add", 2)
            || Other(a, Out(e)) is null || OnlyReader(Out(a)) is not int x || !Is(m, "Mul", 2))
        {
            return null;
        }

        PatternStep Step(double? constant, bool last = false) => new(Activation.GELU, constant, last);
        var steps = new Dictionary<int, PatternStep> { [d] = Step(scale), [e] = Step(null), [a] = Step(1) };
        if (x == m && Reads(m, z, Out(a)) && OnlyReader(Out(m)) is int h && Is(h, "Mul", 2) && Other(h, Out(m)) is not null)
        {
            steps[m] = Step(null); // (z * (1 + erf)) * 0.5: PyTorch's order
            steps[h] = Step(0.5, last: true);
            return steps;
        }

        if (x != m && Is(x, "Mul", 2) && Other(x, Out(a)) is not null && OnlyReader(Out(x)) == m && Reads(m, z, Out(x)))
        {
            steps[x] = Step(0.5); // z * ((1 + erf) * 0.5)
            steps[m] = Step(null, last: true);
            return steps;
        }

        if (Other(m, z) is string k && k != Out(a) && OnlyReader(Out(m)) == x && Is(x, "Mul", 2) && Reads(x, Out(m), Out(a)))
        {
            steps[m] = Step(0.5); // (z * 0.5) * (1 + erf)
            steps[x] = Step(null, last: true);
            return steps;
        }

        return null;
    }

    private bool Is(int i, string op, int inputs) => nodes[i].OpType == op && nodes[i].Inputs.Length == inputs && nodes[i].Outputs.Length == 1;

    private string In(int i, int input) => nodes[i].Inputs[input];

    private string Out(int i) => nodes[i].Outputs[0];

    private int? OnlyReader(string value) => readers.TryGetValue(value, out List<int>? r) && r.Count == 1 ? r[0] : null;

    private bool Reads(int i, string a, string b) => (In(i, 0) == a && In(i, 1) == b) || (In(i, 0) == b && In(i, 1) == a);

    /// <summary>The other operand of binary node <paramref name="i"/>, which reads <paramref name="value"/> once; null otherwise.</summary>
    private string? Other(int i, string value) =>
        In(i, 0) == value && In(i, 1) != value ? In(i, 1) : In(i, 1) == value && In(i, 0) != value ? In(i, 0) : null;
}
