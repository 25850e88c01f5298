using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Data;
using Backprop.Simd.Reference;

namespace Backprop.Simd.Benchmarks.EndToEnd;

/// <summary>
/// One network shape set up for the end-to-end benchmarks: the SIMD core's <see cref="Network"/> and the naive
/// <see cref="ReferenceNetwork"/> start from the SAME parameters, and train on the same MNIST-shaped synthetic data
/// (8,000 samples, inputs uniform in [0, 1), random labels, fixed seeds) with the seed's hyper-parameters.
/// </summary>
public sealed class TrainingFixture
{
    /// <summary>The shapes the end-to-end benchmarks run, as <c>[Params]</c> values.</summary>
    public const string Small = "784-30-10", Wide = "784-100-10";

    /// <summary>Samples in one epoch (the bundled MNIST subset has 8,004 training images).</summary>
    public const int EpochSamples = 8000;

    /// <summary>Mini-batch size m, as in the seed's example run.</summary>
    public const int MiniBatchSize = 10;

    /// <summary>Learning rate eta, as in the seed's example run.</summary>
    public const float Eta = 3f;

    /// <summary>Creates the fixture for <paramref name="sizes"/> such as <c>"784-30-10"</c>, with the inputs held as
    /// floats or, with <paramref name="bytes"/>, as bytes (as MNIST files load).</summary>
    public TrainingFixture(string sizes, bool bytes = false)
    {
        Sizes = sizes.Split('-').Select(int.Parse).ToArray();
        Network = new Network(Sizes, seed: 20251127);
        Workspace = new Workspace(Network, MiniBatchSize);
        Data = bytes
            ? Synthetic.ByteClassification(EpochSamples, Sizes[0], Sizes[^1], seed: 8000)
            : Synthetic.Classification(EpochSamples, Sizes[0], Sizes[^1], seed: 8000);
        var random = new SeededRandom(1234);
        Order = Enumerable.Range(0, EpochSamples).ToArray();
        random.Shuffle(Order);
        Batches = Order.Chunk(MiniBatchSize).ToArray();
    }

    /// <summary>Neurons per layer.</summary>
    public int[] Sizes { get; }

    /// <summary>The SIMD core's network.</summary>
    public Network Network { get; }

    /// <summary>Its workspace, for one mini-batch.</summary>
    public Workspace Workspace { get; }

    /// <summary>The training samples.</summary>
    public Dataset Data { get; }

    /// <summary>A fixed shuffle of 0..<see cref="EpochSamples"/>-1.</summary>
    public int[] Order { get; }

    /// <summary><see cref="Order"/> cut into mini-batches of <see cref="MiniBatchSize"/>.</summary>
    public int[][] Batches { get; }

    /// <summary>A naive reference network with the same parameters as <see cref="Network"/> has now.</summary>
    public ReferenceNetwork CreateReference() => ReferenceNetwork.FromArena(Sizes, Network.Parameters);

    /// <summary>Sample <paramref name="index"/> as the reference network takes it (double arrays).</summary>
    public (double[] X, double[] Y) ReferenceSample(int index) => (ToDouble(Data.Input(index)), ToDouble(Data.Target(index)));

    private static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }
}
