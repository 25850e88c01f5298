using Backprop.Simd.Data;
using FsCheck;
using FsCheck.Fluent;
using Backprop.Simd.Reference;

namespace Backprop.Simd.Tests;

/// <summary>A random matrix shape plus the seed its values are drawn from.</summary>
public sealed record Shape(int Rows, int Cols, ulong Seed)
{
    public override string ToString() => $"{Rows}x{Cols} (seed {Seed})";
}

/// <summary>A random network shape (2 to 5 layers) plus the seed its parameters and samples are drawn from.</summary>
public sealed record NetShape(int[] Sizes, ulong Seed)
{
    public override string ToString() => $"[{string.Join(",", Sizes)}] (seed {Seed})";
}

/// <summary>A random network architecture: sizes, one activation per layer after the input, a cost that fits them, and a seed.</summary>
public sealed record Architecture(int[] Sizes, Activation[] Activations, CostFunction Cost, ulong Seed)
{
    public Network CreateNetwork() =>
        new(Sizes, new Network(Sizes, Seed).Parameters, Activations, Cost);

    public ReferenceNetwork CreateReference(Network network) =>
        ReferenceNetwork.FromArena(Sizes, network.Parameters, Activations.Select(Map.ToReference).ToArray(), Map.ToReference(Cost));

    /// <summary>A target the cost makes sense for: one-hot for log-likelihood, values in [0, 1] otherwise.</summary>
    internal float[] Target(ref SeededRandom random)
    {
        if (Cost == CostFunction.LogLikelihood)
        {
            var y = new float[Sizes[^1]];
            y[random.NextInt(y.Length)] = 1f;
            return y;
        }

        return TestData.Uniform(Sizes[^1], ref random, 0, 1);
    }

    public override string ToString() =>
        $"[{string.Join(",", Sizes)}] {string.Join("/", Activations)} {Cost} (seed {Seed})";
}

/// <summary>Maps the library's activations and costs to the reference's, by name (and the leaky ReLU's slope, as the float it is).</summary>
public static class Map
{
    public static ReferenceActivation ToReference(Activation a) => new(Enum.Parse<ReferenceKind>(a.Kind.ToString()), a.Slope);

    public static ReferenceCost ToReference(CostFunction c) => Enum.Parse<ReferenceCost>(c.ToString());
}

/// <summary>FsCheck generators shared by the property tests.</summary>
public static class Generators
{
    // Sizes from 1 to 300, biased towards the awkward ones: around multiples of the vector width, and primes.
    private static readonly int[] Awkward = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 257, 293];

    public static Gen<int> Dimension(int max) =>
        Gen.Frequency((3, Gen.Choose(1, max)), (1, Gen.Elements(Awkward.Where(a => a <= max).ToArray())));

    public static Gen<ulong> Seeds => Gen.Choose(0, int.MaxValue).Select(s => (ulong)s);

    public static Arbitrary<Shape> Shapes() =>
        Arb.From(from rows in Dimension(300) from cols in Dimension(300) from seed in Seeds select new Shape(rows, cols, seed));

    /// <summary>Every kind a hidden layer may have, with leaky ReLUs of slope 0.01 (the default), 0.2 and -0.5.</summary>
    public static readonly Activation[] HiddenActivations =
    [
        Activation.Sigmoid, Activation.Tanh, Activation.ReLU, Activation.LeakyReLU, Activation.LeakyReLUWithSlope(0.2f),
        Activation.LeakyReLUWithSlope(-0.5f), Activation.Identity, Activation.ELU, Activation.GELU, Activation.SiLU,
    ];

    /// <summary>Every (cost, output activation) pair the library trains.</summary>
    public static readonly (CostFunction Cost, Activation Output)[] Outputs =
    [
        (CostFunction.Quadratic, Activation.Sigmoid), (CostFunction.Quadratic, Activation.Tanh), (CostFunction.Quadratic, Activation.ReLU),
        (CostFunction.Quadratic, Activation.LeakyReLU), (CostFunction.Quadratic, Activation.Identity),
        (CostFunction.Quadratic, Activation.ELU), (CostFunction.Quadratic, Activation.GELU), (CostFunction.Quadratic, Activation.SiLU),
        (CostFunction.CrossEntropy, Activation.Sigmoid), (CostFunction.LogLikelihood, Activation.Softmax),
        (CostFunction.LogLikelihood, Activation.LogSoftmax),
    ];

    public static Arbitrary<Architecture> Architectures() =>
        Arb.From(
            from layers in Gen.Choose(2, 5)
            from sizes in Gen.ArrayOf(Dimension(40), layers)
            from hidden in Gen.ArrayOf(Gen.Elements(HiddenActivations), layers - 2)
            from output in Gen.Elements(Outputs)
            from seed in Seeds
            select new Architecture(sizes, [.. hidden, output.Output], output.Cost, seed));

    public static Arbitrary<NetShape> NetShapes() =>
        Arb.From(
            from layers in Gen.Choose(2, 5)
            from sizes in Gen.ArrayOf(Dimension(40), layers)
            from seed in Seeds
            select new NetShape(sizes, seed));
}

/// <summary>Deterministic test values and data sets.</summary>
internal static class TestData
{
    /// <summary>
    /// Fills <paramref name="values"/> with a mixture that exercises rounding: mostly moderate values of both signs,
    /// some tiny, some large, some zeros.
    /// </summary>
    public static void FillMixed(Span<float> values, ref SeededRandom random)
    {
        for (int i = 0; i < values.Length; i++)
        {
            double u = random.NextDouble();
            double sign = random.NextDouble() < 0.5 ? -1 : 1;
            values[i] = (float)(u switch
            {
                < 0.70 => sign * random.NextDouble() * 2,           // moderate
                < 0.80 => sign * random.NextDouble() * 1e-20,       // tiny
                < 0.90 => sign * (1e2 + random.NextDouble() * 1e4), // large
                _ => 0.0,
            });
        }
    }

    public static float[] Mixed(int length, ref SeededRandom random)
    {
        var values = new float[length];
        FillMixed(values, ref random);
        return values;
    }

    public static float[] Uniform(int length, ref SeededRandom random, double low = -1, double high = 1)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)(low + (random.NextDouble() * (high - low)));
        }

        return values;
    }

    /// <summary>A labelled set of random pixel bytes (read as <c>b / 255</c>), as MNIST-style data are held.</summary>
    public static Dataset RandomBytes(int count, int inputSize, int classes, int seed = 3)
    {
        var random = new Random(seed);
        byte[] pixels = new byte[count * inputSize];
        random.NextBytes(pixels);
        byte[] labels = Enumerable.Range(0, count).Select(_ => (byte)random.Next(classes)).ToArray();
        return Dataset.FromLabels(pixels, inputSize, 255f, labels, classes);
    }

    /// <summary>A classification data set with inputs uniform in [0, 1) and random labels.</summary>
    public static Dataset RandomDataset(int count, int inputSize, int classes, ulong seed)
    {
        var random = new SeededRandom(seed);
        float[] inputs = Uniform(count * inputSize, ref random, 0, 1);
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = (byte)random.NextInt(classes);
        }

        return Dataset.FromLabels(inputs, inputSize, labels, classes);
    }

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }
}

/// <summary>
/// Error bounds derived from floating-point error analysis rather than guessed. With unit roundoff
/// <c>u = 2^-24</c>, a sum of <c>n</c> products computed in any order (with or without fused multiply-add) differs
/// from the exact sum by at most <c>gamma_n * sum |terms|</c>, <c>gamma_n = n u / (1 - n u)</c> (Higham, Accuracy and
/// Stability of Numerical Algorithms, section 3.1). Two float implementations each within that bound of the exact
/// value are within twice the bound of each other.
/// </summary>
public static class Tolerance
{
    public const double U = 1.0 / (1 << 24);

    /// <summary>Below the smallest normal float, float has no relative precision left: results that small may round to 0.</summary>
    public const double Subnormal = 1.1754943508222875e-38;

    public static double Gamma(int n) => n * U / (1 - (n * U));

    /// <summary>Largest allowed difference between two float evaluations of a sum of <paramref name="n"/> terms whose absolute values add up to <paramref name="magnitude"/>.</summary>
    public static double BetweenTwoSums(int n, double magnitude) => 2 * Gamma(n) * magnitude;
}
