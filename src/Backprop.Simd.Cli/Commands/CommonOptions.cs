using System.CommandLine;
using System.Globalization;
using Backprop.Simd.Data;
using Backprop.Simd.Serialization;

namespace Backprop.Simd.Cli.Commands;

/// <summary>Options and loading steps that several commands share.</summary>
internal static class CommonOptions
{
    public static Option<string> Data() => new("--data")
    {
        Description = "Directory holding the four MNIST-format files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; raw or .gz). Default: the bundled 10,000 MNIST digits.",
        HelpName = "DIR",
    };

    public static Option<string> Model(bool required) => new("--model")
    {
        Description = "Model file in network2.py's JSON layout (plus an \"activations\" key for non-sigmoid networks).",
        HelpName = "FILE",
        Required = required,
    };

    /// <summary>The data in <paramref name="directory"/>, or without one the digits bundled inside the library
    /// (<see cref="MnistData.LoadBundled"/>), so the installed tool trains from any directory.</summary>
    public static MnistSplit LoadData(string? directory, int validation = 0) =>
        directory is null ? MnistData.LoadBundled(validation) : MnistData.Load(directory, validation);

    /// <summary>How to name the data in messages: the directory given, or the bundled set.</summary>
    public static string DataName(string? directory) => directory ?? "the bundled MNIST-10k digits";

    /// <summary><c>correct / total</c> as a percentage with two decimals, e.g. <c>93.69%</c>.</summary>
    public static string Percent(int correct, int total) => $"{100.0 * correct / total:F2}%";

    /// <summary>A model file's network, with its architecture; a bad file is an <see cref="InvalidDataException"/> naming it.</summary>
    public static Network LoadModel(string path) => ModelJson.Load(path);

    /// <summary>A network's architecture in one phrase: <c>[784, 30, 10] (Sigmoid, Softmax; LogLikelihood cost)</c>.</summary>
    public static string Describe(Network network) =>
        $"[{string.Join(", ", network.Sizes.ToArray())}] ({string.Join(", ", network.Activations.ToArray())}; {network.Cost} cost)";

    /// <summary>A user error unless the network's input and output sizes fit the data.</summary>
    public static void CheckFits(Network network, Dataset data, string networkSource, string dataSource)
    {
        if (network.InputSize != data.InputSize || network.OutputSize != data.TargetSize)
        {
            throw new UserErrorException(
                $"{networkSource} has sizes [{string.Join(", ", network.Sizes.ToArray())}], but the data in {dataSource} need {data.InputSize} inputs and {data.TargetSize} outputs.");
        }
    }

    /// <summary>A whole-number option that must be at least <paramref name="minimum"/>.</summary>
    public static Option<int> WholeNumber(string name, string description, int defaultValue, int minimum, string helpName = "N") => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < minimum)
            {
                result.AddError($"{name} must be a whole number >= {minimum}, but was '{text}'.");
                return defaultValue;
            }

            return value;
        },
    };

    /// <summary>A real-number option that must be finite and at least 0.</summary>
    public static Option<float> NonNegativeReal(string name, string description, float defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value) || value < 0)
            {
                result.AddError($"{name} must be a finite number >= 0, but was '{text}'.");
                return defaultValue;
            }

            return value;
        },
    };
}
