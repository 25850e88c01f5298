using Backprop.Simd.Data;

namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>
/// The repository's bundled MNIST digits (<c>data/mnist-10k</c>: 8,004 training and 1,996 test images) as one set of
/// 10,000 real inputs, for the measurements whose speed depends on the values: batched inference skips the pixels
/// that are blank in a whole block of samples, which a digit has many of and uniform random inputs have none of.
/// </summary>
public static class BundledDigits
{
    /// <summary>The name benchmark parameters use for these inputs.</summary>
    public const string Name = "mnist-digits";

    /// <summary>Loads the 10,000 digits, training images first, found by walking up from the benchmark's directory.</summary>
    /// <exception cref="DirectoryNotFoundException">No <c>data/mnist-10k</c> above the working or base directory.</exception>
    public static Dataset Load()
    {
        MnistSplit split = MnistData.Load(FindDirectory());
        Dataset training = split.Training, test = split.Test;
        int inputSize = training.InputSize, count = training.Count + test.Count;
        var inputs = new float[count * inputSize];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            (Dataset from, int index) = i < training.Count ? (training, i) : (test, i - training.Count);
            from.Input(index).CopyTo(inputs.AsSpan(i * inputSize, inputSize));
            labels[i] = (byte)from.Label(index);
        }

        return Dataset.FromLabels(inputs, inputSize, labels, training.TargetSize);
    }

    private static string FindDirectory()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (DirectoryInfo? directory = new(start); directory is not null; directory = directory.Parent)
            {
                string candidate = Path.Combine(directory.FullName, "data", "mnist-10k");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException($"data/mnist-10k was not found above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()}; run the benchmarks from the repository.");
    }
}
