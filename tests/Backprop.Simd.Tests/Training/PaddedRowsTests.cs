namespace Backprop.Simd.Tests.Training;

/// <summary>
/// The workspace rows padded to cache lines for the trainer's workers, and the shares cut at whole lines: which layers
/// are padded, that the padding changes no bit of a pass, and that every neuron falls in exactly one share.
/// </summary>
public class PaddedRowsTests
{
    [Theory]
    [InlineData(new[] { 784, 30, 10 }, new[] { 32, 10 })] // the seed's network: 30 -> two lines; the output layer stays
    [InlineData(new[] { 784, 8, 10 }, new[] { 8, 10 })] // shorter than a line: nothing to gain
    [InlineData(new[] { 784, 32, 100 }, new[] { 32, 100 })] // whole lines already
    [InlineData(new[] { 300, 67, 33, 10 }, new[] { 80, 48, 10 })]
    public void Hidden_rows_are_padded_to_whole_lines(int[] sizes, int[] strides)
    {
        var network = new Network(sizes, 1);
        var padded = new Workspace(network, 7, padRows: true);
        var plain = new Workspace(network, 7);
        for (int l = 1; l < sizes.Length; l++)
        {
            Assert.Equal(strides[l - 1], padded.Stride(l));
            Assert.Equal(sizes[l], plain.Stride(l));
        }
    }

    [Theory]
    [InlineData(new[] { 50, 17, 33, 4 }, 7)]
    [InlineData(new[] { 784, 30, 10 }, 10)]
    [InlineData(new[] { 20, 100, 3 }, 1)]
    public void Padding_changes_no_bit_of_a_pass(int[] sizes, int m)
    {
        var random = new SeededRandom(3);
        float[] x = TestData.Mixed(m * sizes[0], ref random), y = TestData.Uniform(m * sizes[^1], ref random, 0, 1);
        var network = new Network(sizes, 2);
        var plain = new Workspace(network, m);
        var padded = new Workspace(network, m, padRows: true);
        Backpropagation.Backprop(network, plain, x, y);
        Backpropagation.Backprop(network, padded, x, y);
        Assert.True(plain.Nabla.SequenceEqual(padded.Nabla));
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            for (int i = 0; i < m; i++)
            {
                int n = sizes[l], at = i * padded.Stride(l);
                Assert.True(plain.ZRows(l, m).Slice(i * n, n).SequenceEqual(padded.ZRows(l, m).Slice(at, n)), $"Z^{l} row {i}");
                Assert.True(plain.ARows(l, m).Slice(i * n, n).SequenceEqual(padded.ARows(l, m).Slice(at, n)), $"A^{l} row {i}");
                Assert.True(plain.DeltaRows(l, m).Slice(i * n, n).SequenceEqual(padded.DeltaRows(l, m).Slice(at, n)), $"Delta^{l} row {i}");
            }
        }
    }

    [Theory]
    [InlineData(30, 2, new[] { 0, 16, 30 })] // the seed's network on two cores: a line each
    [InlineData(100, 2, new[] { 0, 48, 100 })]
    [InlineData(30, 3, new[] { 0, 10, 20, 30 })] // fewer lines than shares: even cuts as before
    [InlineData(17, 2, new[] { 0, 16, 17 })]
    public void Shares_of_padded_rows_end_on_lines(int neurons, int shares, int[] cuts)
    {
        var workspace = new Workspace(new Network([40, neurons, 5], 1), 4, padRows: true);
        for (int share = 0; share < shares; share++)
        {
            Assert.Equal((cuts[share], cuts[share + 1]), LayerProducts.SplitNeurons(workspace, 1, share, shares));
        }
    }

    [Fact]
    public void Every_neuron_is_in_exactly_one_share()
    {
        foreach (bool padRows in new[] { false, true })
        {
            for (int neurons = 1; neurons <= 70; neurons++)
            {
                var workspace = new Workspace(new Network([6, neurons, 3], 1), 2, padRows);
                for (int shares = 1; shares <= 9; shares++)
                {
                    int next = 0;
                    for (int share = 0; share < shares; share++)
                    {
                        (int start, int end) = LayerProducts.SplitNeurons(workspace, 1, share, shares);
                        if (start < end)
                        {
                            Assert.Equal(next, start);
                            next = end;
                        }
                    }

                    Assert.Equal(neurons, next);
                }
            }
        }
    }
}
