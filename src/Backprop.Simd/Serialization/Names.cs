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
    /// <summary>Every <see cref="Activation"/>, as the command line and the model file's <c>activations</c> key spell it.</summary>
    public static NameTable<Activation> Activations { get; } = new(
        (Activation.Sigmoid, "sigmoid"),
        (Activation.Tanh, "tanh"),
        (Activation.ReLU, "relu"),
        (Activation.LeakyReLU, "leaky-relu"),
        (Activation.Identity, "identity"),
        (Activation.Softmax, "softmax"));

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

    /// <summary>The activations a hidden layer may have: all but softmax, which only an output layer with the log-likelihood cost has.</summary>
    public static IReadOnlyList<string> HiddenActivations { get; } =
        Array.AsReadOnly(Activations.All.Where(n => n != Of(Activation.Softmax)).ToArray());

    public static string Of(Activation activation) => Activations.Of(activation);

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

    public static bool TryParseActivation(string? name, out Activation activation) => Activations.TryParse(name, out activation);

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
