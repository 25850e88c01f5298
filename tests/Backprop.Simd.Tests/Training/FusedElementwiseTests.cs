using Backprop.Simd.Data;
using Backprop.Simd.Runtime;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Training;

/// <summary>
/// The element-wise work done inside the shares of the products (docs/optimizing-backprop.md, seventh session): any
/// cut of the neurons or of the samples gives every element the bits the whole matrix gets, which is what keeps
/// training bit-identical for any thread count.
/// </summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 60)]
public class FusedElementwiseTests
{
    private static readonly Activation[] Elementwise =
    [
        Activation.Sigmoid, Activation.Tanh, Activation.ReLU, Activation.LeakyReLU, Activation.Identity,
        Activation.ELU, Activation.GELU, Activation.SiLU,
    ];

    [Property]
    public void Activations_of_any_column_cut_match_the_whole_matrix(Shape s)
    {
        int rows = 1 + (s.Rows % 13), width = s.Cols;
        var random = new SeededRandom(s.Seed);
        float[] z = TestData.Uniform(rows * width, ref random, -6, 6);
        int cut = (int)(s.Seed % (ulong)(width + 1)); // 0 and width: one share with everything
        foreach (Activation f in Elementwise)
        {
            float[] whole = new float[z.Length], split = new float[z.Length];
            ActivationFunctions.Apply(f, z, whole, width);
            ActivationFunctions.ApplyColumns(f, z, split, rows, width, 0, cut);
            ActivationFunctions.ApplyColumns(f, z, split, rows, width, cut, width);
            Assert.True(whole.AsSpan().SequenceEqual(split), $"{f} cut at column {cut} of {width}");
        }
    }

    [Property]
    public void Derivatives_of_any_row_cut_match_the_whole_matrix(Shape s)
    {
        int rows = 1 + (s.Rows % 13), width = s.Cols;
        var random = new SeededRandom(s.Seed);
        float[] z = TestData.Uniform(rows * width, ref random, -6, 6), delta = TestData.Mixed(rows * width, ref random);
        int cut = (int)(s.Seed % (ulong)(rows + 1)) * width;
        foreach (Activation f in Elementwise)
        {
            float[] a = new float[z.Length];
            ActivationFunctions.Apply(f, z, a, width);
            float[] whole = (float[])delta.Clone(), split = (float[])delta.Clone();
            ActivationFunctions.MultiplyByDerivative(f, whole, z, a);
            ActivationFunctions.MultiplyByDerivative(f, split.AsSpan(0, cut), z.AsSpan(0, cut), a.AsSpan(0, cut));
            ActivationFunctions.MultiplyByDerivative(f, split.AsSpan(cut), z.AsSpan(cut), a.AsSpan(cut));
            Assert.True(whole.AsSpan().SequenceEqual(split), $"{f} cut after {cut} of {z.Length} floats");
        }
    }

    [Fact]
    public void A_row_wise_activation_is_left_to_the_caller_when_split()
    {
        float[] z = [1, 2, 3, 4], a = new float[4];
        ActivationFunctions.ApplyColumns(Activation.Softmax, z, a, 1, 4, 0, 2);
        Assert.Equal(new float[4], a);
        ActivationFunctions.ApplyColumns(Activation.Softmax, z, a, 1, 4, 0, 4);
        Assert.Equal(1f, a.Sum(), 5);
    }

    /// <summary>
    /// A chained pass computes the next batch's first layer in the workspace; a progress callback that computes in the
    /// same workspace, or bumps the network's parameters, must make the next pass compute it again, to the same bits.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    public void Training_is_the_same_when_the_progress_callback_uses_the_workspace_or_the_network(int threads, bool bytes)
    {
        int[] sizes = [64, 24, 10];
        Dataset train = bytes ? TestData.RandomBytes(230, sizes[0], sizes[^1]) : TestData.RandomDataset(230, sizes[0], sizes[^1], seed: 3);
        float[] probe = TestData.RandomDataset(1, sizes[0], sizes[^1], seed: 4).Input(0).ToArray();
        float[] Train(int callback)
        {
            var network = new Network(sizes, 5);
            using var sgd = new Trainer(network, train, new TrainingOptions { MiniBatchSize = 10, Eta = 0.5f, Threads = threads, Seed = 6 });
            Action<int, int>? progress = callback switch
            {
                1 => (_, _) => network.FeedForward(probe, sgd.Workspace),
                2 => (_, _) => network.SetBiases(1, network.Biases(1).ToArray()),
                _ => null,
            };
            sgd.Train(2, progress: progress);
            return network.Parameters.ToArray();
        }

        float[] quiet = Train(0);
        Assert.Equal(quiet, Train(1));
        Assert.Equal(quiet, Train(2));
    }
}
