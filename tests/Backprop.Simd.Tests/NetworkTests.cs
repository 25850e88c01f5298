using Backprop.Simd.Data;
using Backprop.Simd.Reference;

namespace Backprop.Simd.Tests;

public class NetworkTests
{
    [Fact]
    public void Parameters_live_in_one_arena_with_weights_then_biases_per_layer()
    {
        var network = new Network([3, 4, 2], seed: 1);
        Assert.Equal((4 * 3) + 4 + (2 * 4) + 2, network.ParameterCount);
        Assert.Equal(network.ParameterCount, network.Parameters.Length);

        float[] w = network.Weights(1).ToArray(), b = network.Biases(2).ToArray();
        w[(1 * 3) + 2] = 100f; // W^1[1,2]
        b[1] = 200f;
        network.SetWeights(1, w);
        network.SetBiases(2, b);
        Assert.Equal(100f, network.Parameters[5]);
        Assert.Equal(200f, network.Parameters[^1]);
        Assert.Equal(2, network.OutputLayer);
        Assert.Equal([3, 4, 2], network.Sizes.ToArray());
    }

    [Fact]
    public void Initial_parameters_look_standard_normal_and_depend_on_the_seed()
    {
        var network = new Network([784, 100, 10], seed: 5);
        float[] p = network.Parameters.ToArray();
        double mean = p.Average(v => (double)v);
        double variance = p.Average(v => (v - mean) * (v - mean));
        // n = 79,510 draws: the standard error of the mean is about 0.0035, of the variance about 0.005.
        Assert.InRange(mean, -0.02, 0.02);
        Assert.InRange(variance, 0.97, 1.03);
        Assert.Equal(p, new Network([784, 100, 10], seed: 5).Parameters.ToArray());
        Assert.NotEqual(p, new Network([784, 100, 10], seed: 6).Parameters.ToArray());
    }

    [Fact]
    public void FeedForward_matches_reference()
    {
        int[] sizes = [17, 9, 33, 4];
        var network = new Network(sizes, seed: 3);
        var workspace = new Workspace(network);
        var reference = ReferenceNetwork.FromArena(sizes, network.Parameters);
        Dataset data = TestData.RandomDataset(20, 17, 4, seed: 1);
        for (int i = 0; i < data.Count; i++)
        {
            double[] expected = reference.FeedForward(TestData.ToDouble(data.Input(i)));
            ReadOnlySpan<float> actual = network.FeedForward(data.Input(i), workspace);
            for (int j = 0; j < expected.Length; j++)
            {
                Assert.Equal(expected[j], actual[j], 1e-5);
            }

            Assert.Equal(ReferenceNetwork.ArgMax(expected), network.Predict(data.Input(i), workspace));
        }
    }

    [Fact]
    public void Threads_sharing_one_network_get_exactly_the_single_thread_answers()
    {
        var network = new Network([784, 30, 10], seed: 9);
        Dataset data = TestData.RandomDataset(500, 784, 10, seed: 2);
        float[] expected = Outputs(network, data, new Workspace(network));

        var results = new float[6][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 6 },
            t => results[t] = Outputs(network, data, new Workspace(network)));

        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [Fact]
    public void Clone_and_CopyParametersFrom_copy_the_arena()
    {
        var a = new Network([5, 4, 3], seed: 1);
        Network clone = a.Clone();
        Assert.Equal(a.Parameters.ToArray(), clone.Parameters.ToArray());
        clone.Edit(p => p[0] += 1);
        Assert.NotEqual(a.Parameters[0], clone.Parameters[0]);
        clone.CopyParametersFrom(a);
        Assert.Equal(a.Parameters.ToArray(), clone.Parameters.ToArray());
    }

    private static float[] Outputs(Network network, Dataset data, Workspace workspace)
    {
        var outputs = new float[data.Count * network.OutputSize];
        for (int i = 0; i < data.Count; i++)
        {
            network.FeedForward(data.Input(i), workspace).CopyTo(outputs.AsSpan(i * network.OutputSize));
        }

        return outputs;
    }
}
