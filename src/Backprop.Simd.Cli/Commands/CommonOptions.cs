using System.CommandLine;
using Backprop.Simd.Data;
using Backprop.Simd.Serialization;

namespace Backprop.Simd.Cli.Commands;

/// <summary>Options and loading steps that several commands share.</summary>
internal static class CommonOptions
{
    /// <summary>The bundled digits, copied next to the program at build time.</summary>
    public static string BundledDataDirectory => Path.Combine(AppContext.BaseDirectory, "data", "mnist-10k");

    public static Option<string> Data() => new("--data")
    {
        Description = "Directory holding the four MNIST-format files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; raw or .gz). Default: the bundled 10,000 MNIST digits.",
        HelpName = "DIR",
    };

    public static Option<string> Model(bool required) => new("--model")
    {
        Description = "Model file in network2.py's JSON layout.",
        HelpName = "FILE",
        Required = required,
    };

    public static MnistSplit LoadData(string? directory, int validation = 0) =>
        MnistData.Load(directory ?? BundledDataDirectory, validation);

    public static SavedModel LoadModel(string path) => ModelJson.Load(path);

    /// <summary>A user error unless the network's input and output sizes fit the data.</summary>
    public static void CheckFits(Network network, Dataset data, string networkSource, string dataSource)
    {
        if (network.InputSize != data.InputSize || network.OutputSize != data.TargetSize)
        {
            throw new UserErrorException(
                $"{networkSource} has sizes [{string.Join(", ", network.Sizes.ToArray())}], but the data in {dataSource} need {data.InputSize} inputs and {data.TargetSize} outputs.");
        }
    }

    /// <summary>Adds a validator that rejects values below <paramref name="minimum"/>.</summary>
    public static Option<T> AtLeast<T>(this Option<T> option, T minimum)
        where T : IComparable<T>
    {
        option.Validators.Add(result =>
        {
            T value = result.GetValueOrDefault<T>();
            if (value.CompareTo(minimum) < 0)
            {
                result.AddError($"{option.Name} must be at least {minimum}, but was {value}.");
            }
        });
        return option;
    }
}
