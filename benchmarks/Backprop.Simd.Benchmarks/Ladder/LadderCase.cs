using Backprop.Simd.Benchmarks.Infrastructure;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>
/// One rung of the ladder's workload: a network shape and its mini-batch size, with the arithmetic and the per-sample
/// path's memory traffic of one training sample (see <see cref="FlopsPerSample"/> and <see cref="BytesPerSample"/>).
/// </summary>
/// <param name="Sizes">Neurons per layer, input first, as the fixtures spell them (<c>"784-30-10"</c>).</param>
/// <param name="MiniBatch">Samples per mini-batch.</param>
public sealed record LadderCase(string Sizes, int MiniBatch) : ISampleWork, IComparable<LadderCase>
{
    /// <summary>The two workloads of issue 7: the seed's network at m = 10, a wider one at m = 100.</summary>
    public static IReadOnlyList<LadderCase> All { get; } = [new("784-30-10", 10), new("784-100-10", 100)];

    /// <summary>
    /// The wide network of issue 16, about 9.6 MFLOP per training sample, whose 7.4 MB of weights outgrow L2: only the
    /// batched rows run it (<see cref="WideLadderBenchmarks"/>); the naive rungs would take minutes per iteration.
    /// </summary>
    public static LadderCase Wide { get; } = new("784-1024-1024-10", 100);

    /// <summary>Neurons per layer as numbers.</summary>
    public int[] Layers => Sizes.Split('-').Select(int.Parse).ToArray();

    /// <summary>
    /// Multiply-adds of one sample's three products, times 2: the forward pass (<c>n_l x n_{l-1}</c> per layer), the
    /// weight gradient (the same) and BP2 (every layer but the first). The element-wise work (activations, BP1, the
    /// bias sums, the SGD step) is not counted: it is a few percent of the flops and none of them are multiply-adds.
    /// </summary>
    public double FlopsPerSample
    {
        get
        {
            int[] n = Layers;
            double multiplyAdds = 0;
            for (int l = 1; l < n.Length; l++)
            {
                double weights = (double)n[l] * n[l - 1];
                multiplyAdds += (l > 1 ? 3 : 2) * weights;
            }

            return 2 * multiplyAdds;
        }
    }

    /// <summary>
    /// The per-sample path's memory traffic per sample, in bytes, counting only the streams that scale with the
    /// weights (vectors of a few dozen floats are left out). Per sample: <c>W^l</c> read by the forward pass, read
    /// again by BP2 (l &gt; 1), <c>nabla_W^l</c> read and written by the rank-1 update, and the input read twice
    /// (forward and rank-1). Per mini-batch, shared by its m samples: the gradient arena cleared (written), then the
    /// SGD step reading parameters and gradient and writing the parameters. For [784,30,10] at m = 10 that is
    /// 293,312 + 381,760 / 10 = 331,488 bytes (about 324 KiB).
    /// </summary>
    public double BytesPerSample
    {
        get
        {
            int[] n = Layers;
            double perSample = 2.0 * n[0] * sizeof(float), parameters = 0;
            for (int l = 1; l < n.Length; l++)
            {
                double weightBytes = (double)n[l] * n[l - 1] * sizeof(float);
                perSample += weightBytes * (l > 1 ? 4 : 3); // W read (+ W read by BP2), nabla_W read + written
                parameters += weightBytes + (n[l] * sizeof(float));
            }

            return perSample + (4 * parameters / MiniBatch); // clear nabla; read W and nabla, write W
        }
    }

    /// <summary>Orders the cases small to large.</summary>
    public int CompareTo(LadderCase? other) => other is null ? 1 : FlopsPerSample.CompareTo(other.FlopsPerSample);

    /// <inheritdoc />
    public override string ToString() => $"{Sizes} m={MiniBatch}";
}
