using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Backprop.Simd.Data;
using Backprop.Simd.Serialization;

namespace Backprop.Simd.Cli.Commands;

/// <summary>
/// Options and loading steps that several commands share. Conventions of every option: the placeholder in the help
/// is upper case (<c>N</c>, <c>X</c>, <c>FILE</c>, <c>DIR</c>, <c>NAME</c>); a default is stated once, as
/// <c>[default: ...]</c> at the end of the description; a bad value is one line naming the option, what it must be
/// and what was given.
/// </summary>
internal static class CommonOptions
{
    public static Option<string> Data() => new("--data")
    {
        Description = "Directory holding the four MNIST-format files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; raw or .gz). " +
            Default("the bundled 10,000 MNIST digits"),
        HelpName = "DIR",
    };

    public static Option<string> Model(bool required) => new("--model")
    {
        Description = "Model file in network2.py's JSON layout (plus an \"activations\" key for non-sigmoid networks).",
        HelpName = "FILE",
        Required = required,
    };

    /// <summary>The arithmetic inference runs in: <c>float32</c> (the network itself) or <c>int8</c> (a <see cref="QuantizedNetwork"/> made from it).</summary>
    public static Option<string> Precision() => new("--precision")
    {
        Description = "Arithmetic of inference: float32, or int8 (weights quantized per row, each layer's input per sample, sums in int32; see docs/quantization.md).",
        HelpName = "NAME",
        DefaultValueFactory = _ => "float32",
        CustomParser = result => Parse(result, "--precision", "one of float32, int8", "float32", (string text, out string value) =>
        {
            value = text;
            return text is "float32" or "int8";
        }),
    };

    /// <summary>A default stated the way the help states the defaults it knows itself: <c>[default: text]</c>.</summary>
    public static string Default(string text) => $"[default: {text}]";

    /// <summary>
    /// The data in <paramref name="directory"/>, or without one the digits bundled inside the library
    /// (<see cref="MnistData.LoadBundled"/>), so the installed tool trains from any directory; with
    /// <paramref name="validation"/> above 0 the last that many training images are held out, as the library does.
    /// Gzipped image files are read through the cache <see cref="IdxCache.FromEnvironment"/> names, if any.
    /// Any problem is a user error naming <c>--data</c> or <c>--validation</c>.
    /// </summary>
    public static MnistSplit LoadData(string? directory, int validation = 0)
    {
        MnistSplit all = About("--data", () => directory is null ? MnistData.LoadBundled() : MnistData.LoadCached(directory, 0, IdxCache.FromEnvironment()));
        if (validation == 0)
        {
            return all;
        }

        int count = all.Training.Count;
        if (validation >= count)
        {
            throw new UserErrorException(
                $"--validation must be a whole number from 0 to {count - 1} ({DataName(directory)} hold {Count(count, "training image")}, and at least 1 must stay for training), but was {validation}.");
        }

        return new MnistSplit(all.Training.Slice(0, count - validation), all.Training.Slice(count - validation, validation), all.Test, all.Directory);
    }

    /// <summary>How to name the data in messages: the directory given, or the bundled set.</summary>
    public static string DataName(string? directory) => directory ?? "the bundled MNIST-10k digits";

    /// <summary><c>correct / total</c> as a percentage with two decimals, e.g. <c>93.69%</c>.</summary>
    public static string Percent(int correct, int total) => $"{100.0 * correct / total:F2}%";

    /// <summary><c>1 epoch</c>, <c>2 epochs</c>: a count and its noun, plural unless the count is 1.</summary>
    public static string Count(long count, string noun, string? plural = null) =>
        $"{count:N0} {(count == 1 ? noun : plural ?? noun + "s")}";

    /// <summary>A model file's network; any problem with the file is a user error naming <paramref name="option"/>.</summary>
    public static Network LoadModel(string path, string option = "--model") => About(option, () => ModelJson.Load(path));

    /// <summary>
    /// Runs <paramref name="work"/>, which reads or writes what <paramref name="option"/> names; a file problem
    /// (missing, unreadable, corrupt, not writable) becomes a user error that starts with the option.
    /// </summary>
    public static T About<T>(string option, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
        {
            throw new UserErrorException($"{option}: {BackpropCli.OneLine(e)}");
        }
    }

    /// <inheritdoc cref="About{T}(string, Func{T})"/>
    public static void About(string option, Action work) => About(option, () =>
    {
        work();
        return 0;
    });

    /// <summary>A network's architecture in one phrase: <c>[784, 30, 10] (sigmoid, softmax; log-likelihood cost)</c>.</summary>
    public static string Describe(Network network) =>
        $"[{string.Join(", ", network.Sizes.ToArray())}] ({Names.Of(network.Activations)}; {Names.Of(network.Cost)} cost)";

    /// <summary>A user error unless the network's input and output sizes fit the data.</summary>
    public static void CheckFits(Network network, Dataset data, string networkSource, string dataSource)
    {
        if (network.InputSize != data.InputSize || network.OutputSize != data.TargetSize)
        {
            throw new UserErrorException(
                $"{networkSource} has sizes [{string.Join(", ", network.Sizes.ToArray())}], but the data in {dataSource} need {data.InputSize} inputs and {data.TargetSize} outputs.");
        }
    }

    /// <summary>A whole-number option from <paramref name="minimum"/> to <paramref name="maximum"/>; without a
    /// <paramref name="defaultValue"/> it is 0 when not given (check with <c>GetResult</c>).</summary>
    public static Option<int> WholeNumber(string name, string description, int? defaultValue, int minimum, int maximum = int.MaxValue, string helpName = "N")
    {
        var option = new Option<int>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result => Parse(result, name, WholeNumberRange(minimum, maximum), defaultValue ?? 0, (string text, out int value) =>
                int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= minimum && value <= maximum),
        };
        if (defaultValue is int value)
        {
            option.DefaultValueFactory = _ => value;
        }

        return option;
    }

    /// <summary>What a whole-number option accepts, e.g. <c>a whole number &gt;= 1</c> or <c>a whole number from 1 to 8</c>.</summary>
    public static string WholeNumberRange(long minimum, long maximum) =>
        maximum == int.MaxValue ? $"a whole number >= {minimum}" : $"a whole number from {minimum} to {maximum}";

    /// <summary>The seed: any 64-bit unsigned whole number.</summary>
    public static Option<ulong> Seed(string description) => new("--seed")
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => 0UL,
        CustomParser = result => Parse(result, "--seed", $"a whole number from 0 to {ulong.MaxValue}", 0UL, (string text, out ulong value) =>
            ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value)),
    };

    /// <summary>A real-number option that must be finite, at least 0 and, with <paramref name="below"/>, less than that.</summary>
    public static Option<float> NonNegativeReal(string name, string description, float? defaultValue, float? below = null)
    {
        string range = below is float b ? $"a number >= 0 and < {b.ToString(CultureInfo.InvariantCulture)}" : "a finite number >= 0";
        var option = new Option<float>(name)
        {
            Description = description,
            HelpName = "X",
            CustomParser = result => Parse(result, name, range, defaultValue ?? 0f, (string text, out float value) =>
                float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value) && value >= 0 && !(value >= below)),
        };
        if (defaultValue is float value)
        {
            option.DefaultValueFactory = _ => value;
        }

        return option;
    }

    /// <summary>
    /// An option naming one of <paramref name="names"/>' values, spelled as <see cref="Names"/> spells it; the
    /// value is null when the option is not given (the help states <paramref name="defaultText"/>).
    /// </summary>
    public static Option<T?> Choice<T>(string name, string helpName, string description, NameTable<T> names, string defaultText, IReadOnlyList<string>? allowed = null)
        where T : struct, Enum
    {
        IReadOnlyList<string> accepted = allowed ?? names.All;
        string oneOf = $"one of {string.Join(", ", accepted)}";
        return new Option<T?>(name)
        {
            Description = $"{description} {Default(defaultText)}",
            HelpName = helpName,
            CustomParser = result => Parse<T?>(result, name, oneOf, null, (string text, out T? value) =>
            {
                value = null;
                if (accepted.Contains(text, StringComparer.Ordinal) && names.TryParse(text, out T parsed))
                {
                    value = parsed;
                }

                return value is not null;
            }),
        };
    }

    /// <summary>
    /// An option naming a hidden layer's activation as <see cref="Names"/> spells it, a leaky ReLU's slope included
    /// (<c>leaky-relu:0.2</c>); null when the option is not given.
    /// </summary>
    public static Option<Activation?> HiddenActivation(string name, string helpName, string description, string defaultText)
    {
        string oneOf = $"one of {Names.ActivationChoices(Names.HiddenActivations)}";
        return new Option<Activation?>(name)
        {
            Description = $"{description} {Default(defaultText)}",
            HelpName = helpName,
            CustomParser = result => Parse<Activation?>(result, name, oneOf, null, (string text, out Activation? value) =>
            {
                value = Names.TryParseActivation(text, out Activation parsed) && !parsed.IsOutputOnly ? parsed : null;
                return value is not null;
            }),
        };
    }

    private delegate bool TryParser<T>(string text, out T value);

    // One token, parsed and checked; otherwise one error naming the option, what it accepts and what it got.
    private static T Parse<T>(ArgumentResult result, string name, string expected, T fallback, TryParser<T> tryParse)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (tryParse(text, out T value))
        {
            return value;
        }

        result.AddError($"{name} must be {expected}, but was '{text}'.");
        return fallback;
    }
}
