using System.Globalization;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Serialization;

/// <summary>
/// The one table of names for the library's enums, used by the model file (<see cref="ModelJson"/>),
/// the command line and the ONNX package. Users see one spelling everywhere: the lower-case, hyphenated one of the
/// command line (<c>log-likelihood</c>, <c>leaky-relu</c>, <c>scaled-normal</c>, <c>adam</c>). Two file formats keep
/// their own spellings of the cost, listed here beside it: the model file's network2.py class names
/// (<see cref="JsonCosts"/>) and the ONNX metadata entry (<see cref="OnnxCosts"/>).
/// </summary>
internal static class Names
{
    /// <summary>Every <see cref="ActivationKind"/>, as the command line and the model file's <c>activations</c> key spell
    /// it. A leaky ReLU of another slope than the default appends it: <c>leaky-relu:0.2</c> (<see cref="Of(Activation)"/>).</summary>
    public static NameTable<ActivationKind> Activations { get; } = new(
        (ActivationKind.Sigmoid, "sigmoid"),
        (ActivationKind.Tanh, "tanh"),
        (ActivationKind.ReLU, "relu"),
        (ActivationKind.LeakyReLU, "leaky-relu"),
        (ActivationKind.Identity, "identity"),
        (ActivationKind.Softmax, "softmax"),
        (ActivationKind.ELU, "elu"),
        (ActivationKind.GELU, "gelu"),
        (ActivationKind.SiLU, "silu"),
        (ActivationKind.LogSoftmax, "log-softmax"));

    /// <summary>How a leaky ReLU's slope is spelled after its name: <c>leaky-relu:0.2</c>.</summary>
    public const string SlopeSeparator = ":";

    /// <summary>Every <see cref="CostFunction"/>, as users see it.</summary>
    public static NameTable<CostFunction> Costs { get; } = new(
        (CostFunction.Quadratic, "quadratic"),
        (CostFunction.CrossEntropy, "cross-entropy"),
        (CostFunction.LogLikelihood, "log-likelihood"));

    /// <summary>The model file's <c>cost</c> values: network2.py's class names (a file format, never to change).</summary>
    public static NameTable<CostFunction> JsonCosts { get; } = new(
        (CostFunction.Quadratic, ModelJson.QuadraticCost),
        (CostFunction.CrossEntropy, ModelJson.CrossEntropyCost),
        (CostFunction.LogLikelihood, ModelJson.LogLikelihoodCost));

    /// <summary>The ONNX export's cost metadata values (a file format, never to change).</summary>
    public static NameTable<CostFunction> OnnxCosts { get; } = new(
        (CostFunction.Quadratic, "Quadratic"),
        (CostFunction.CrossEntropy, "CrossEntropy"),
        (CostFunction.LogLikelihood, "LogLikelihood"));

    /// <summary>Every <see cref="WeightInit"/>, as users see it.</summary>
    public static NameTable<WeightInit> WeightInits { get; } = new(
        (WeightInit.StandardNormal, "normal"),
        (WeightInit.ScaledNormal, "scaled-normal"),
        (WeightInit.Glorot, "glorot"),
        (WeightInit.He, "he"));

    /// <summary>Every <see cref="Optimizer"/>, as users see it.</summary>
    public static NameTable<Optimizer> Optimizers { get; } = new(
        (Optimizer.Sgd, "sgd"),
        (Optimizer.Momentum, "momentum"),
        (Optimizer.Adam, "adam"));

    /// <summary>The activations a hidden layer may have: all but softmax and log-softmax, which only an output layer with the log-likelihood cost has.</summary>
    public static IReadOnlyList<string> HiddenActivations { get; } =
        Array.AsReadOnly(Activations.All.Where(n => !(Activations.TryParse(n, out ActivationKind kind) && Activation.Of(kind).IsOutputOnly)).ToArray());

    /// <summary>Every accepted spelling in quotes, for messages about a file: the names, and the leaky ReLU's with a slope.</summary>
    public static string QuotedActivationChoices() =>
        $"{Activations.Quoted()}, or \"leaky-relu{SlopeSeparator}SLOPE\" with a SLOPE from -1 to 1 (e.g. \"leaky-relu{SlopeSeparator}0.2\")";

    /// <summary>Every accepted spelling, for the command line: the names, and the leaky ReLU's with a slope.</summary>
    public static string ActivationChoices(IReadOnlyList<string>? names = null) =>
        $"{string.Join(", ", names ?? Activations.All)} (or leaky-relu{SlopeSeparator}SLOPE with a SLOPE from -1 to 1, e.g. leaky-relu{SlopeSeparator}0.2)";

    /// <summary>The activation's name, with the slope of a leaky ReLU whose slope is not the default: <c>relu</c>, <c>leaky-relu:0.2</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="activation"/> is not a valid activation.</exception>
    public static string Of(Activation activation)
    {
        if (!activation.IsValid)
        {
            throw new ArgumentOutOfRangeException(nameof(activation), activation, $"{activation} is not a known activation.");
        }

        string name = Activations.Of(activation.Kind);
        return activation.Kind == ActivationKind.LeakyReLU && activation.Slope != Activation.DefaultLeakySlope
            ? name + SlopeSeparator + activation.Slope.ToString("R", CultureInfo.InvariantCulture)
            : name;
    }

    public static string Of(CostFunction cost) => Costs.Of(cost);

    public static string Of(WeightInit init) => WeightInits.Of(init);

    public static string Of(Optimizer optimizer) => Optimizers.Of(optimizer);

    /// <summary>The activations' names joined with commas, e.g. <c>relu, relu, softmax</c>.</summary>
    public static string Of(ReadOnlySpan<Activation> activations)
    {
        var names = new string[activations.Length];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = Of(activations[i]);
        }

        return string.Join(", ", names);
    }

    /// <summary>The activation <paramref name="name"/> spells: a name of <see cref="Activations"/>, or
    /// <c>leaky-relu:SLOPE</c> with a slope from -1 to 1 in invariant notation (<c>0.2</c>, <c>1e-3</c>).</summary>
    public static bool TryParseActivation(string? name, out Activation activation)
    {
        activation = default;
        if (name is null)
        {
            return false;
        }

        string leaky = Activations.Of(ActivationKind.LeakyReLU) + SlopeSeparator;
        if (name.StartsWith(leaky, StringComparison.Ordinal))
        {
            string text = name[leaky.Length..];
            if (text.Length == 0 || text.Length > 32 || char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1]) ||
                !float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float slope) || !(slope >= -1f && slope <= 1f))
            {
                return false;
            }

            activation = Activation.LeakyReLUWithSlope(slope);
            return true;
        }

        if (Activations.TryParse(name, out ActivationKind kind))
        {
            activation = Activation.Of(kind);
            return true;
        }

        return false;
    }

    public static bool TryParseCost(string? name, out CostFunction cost) => Costs.TryParse(name, out cost);

    public static bool TryParseWeightInit(string? name, out WeightInit init) => WeightInits.TryParse(name, out init);

    public static bool TryParseOptimizer(string? name, out Optimizer optimizer) => Optimizers.TryParse(name, out optimizer);

    /// <summary><c>a, b or c</c>: a list of names for a message or a help text.</summary>
    public static string List(IReadOnlyList<string> names, string conjunction = "or") =>
        names.Count <= 1 ? string.Join("", names) : $"{string.Join(", ", names.Take(names.Count - 1))} {conjunction} {names[^1]}";
}

/// <summary>One name per value of <typeparamref name="T"/>, in the enum's order; matching is exact (ordinal).</summary>
internal sealed class NameTable<T>
    where T : struct, Enum
{
    private readonly (T Value, string Name)[] _rows;

    public NameTable(params (T Value, string Name)[] rows)
    {
        _rows = rows;
        All = Array.AsReadOnly(rows.Select(r => r.Name).ToArray());
    }

    /// <summary>Every name, in the table's (the enum's) order.</summary>
    public IReadOnlyList<string> All { get; }

    /// <summary>The names, each in double quotes, joined with commas (and the last with <paramref name="conjunction"/>
    /// if given): for messages about a file's content.</summary>
    public string Quoted(string? conjunction = null)
    {
        string[] quoted = All.Select(n => $"\"{n}\"").ToArray();
        return conjunction is null ? string.Join(", ", quoted) : Names.List(quoted, conjunction);
    }

    /// <summary>The name of <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is not a defined value.</exception>
    public string Of(T value)
    {
        foreach ((T v, string name) in _rows)
        {
            if (EqualityComparer<T>.Default.Equals(v, value))
            {
                return name;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(value), value, $"{value} is not a known {typeof(T).Name}.");
    }

    /// <summary>The value <paramref name="name"/> stands for; <c>default</c> and false when it names none.</summary>
    public bool TryParse(string? name, out T value)
    {
        foreach ((T v, string n) in _rows)
        {
            if (string.Equals(n, name, StringComparison.Ordinal))
            {
                value = v;
                return true;
            }
        }

        value = default;
        return false;
    }
}
