using Backprop.Simd.Data;

namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>
/// Reproducible benchmark inputs. Training timings do not depend on the values, only on the shapes; batched inference
/// does (it skips inputs that are zero in a whole block), so its benchmarks also run on <see cref="BundledDigits"/>.
/// </summary>
public static class Synthetic
{
    /// <summary>Values uniform in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static float[] Uniform(int length, ulong seed, float low = -1f, float high = 1f)
    {
        var random = new SeededRandom(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(low + (random.NextDouble() * (high - low)));
        }

        return values;
    }

    /// <summary>An MNIST-shaped classification set: inputs uniform in [0, 1), one-hot targets of random labels.</summary>
    public static Dataset Classification(int count, int inputSize, int classes, ulong seed)
    {
        var random = new SeededRandom(seed);
        float[] inputs = Uniform(count * inputSize, seed ^ 0x5EED, 0f, 1f);
        var labels = new byte[count];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = (byte)random.NextInt(classes);
        }

        return Dataset.FromLabels(inputs, inputSize, labels, classes);
    }

    /// <summary><see cref="Classification"/> with the inputs held as bytes (0-255, read as b / 255), as MNIST files load.</summary>
    public static Dataset ByteClassification(int count, int inputSize, int classes, ulong seed)
    {
        var random = new SeededRandom(seed);
        var inputs = new byte[count * inputSize];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = (byte)random.NextInt(256);
        }

        var labels = new byte[count];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = (byte)random.NextInt(classes);
        }

        return Dataset.FromLabels(inputs, inputSize, 255f, labels, classes);
    }
}
