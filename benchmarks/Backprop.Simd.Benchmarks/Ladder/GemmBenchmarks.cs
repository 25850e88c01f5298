using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Benchmarks.Ladder.PerSample;
using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using BenchmarkDotNet.Attributes;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>A mini-batch's product: m samples, n neurons, k inputs (the first layer of the two ladder cases, the second of the wide one); m x n x k multiply-adds.</summary>
public sealed record GemmShape(int M, int N, int K) : IWork, IComparable<GemmShape>
{
    /// <summary>The first layers of the ladder's two cases: [784,30,10] at m = 10 and [784,100,10] at m = 100.</summary>
    public static IReadOnlyList<GemmShape> All { get; } = [new(10, 30, 784), new(100, 100, 784), new(100, 1024, 1024)];

    /// <inheritdoc />
    public double Flops => 2.0 * M * N * K;

    /// <inheritdoc />
    public double Bytes => 0;

    /// <summary>Orders shapes by size.</summary>
    public int CompareTo(GemmShape? other) => other is null ? 1 : Flops.CompareTo(other.Flops);

    /// <inheritdoc />
    public override string ToString() => $"m={M} {N}x{K}";
}

/// <summary>
/// Why the batched path wins, at the kernel level: the first layer's two big products for one mini-batch, done as m
/// separate per-sample kernels (m matrix-vector products for the forward pass, m rank-1 updates for the weight
/// gradient: the per-sample path) and as one register-blocked <see cref="Gemm"/> product each (the batched path), with
/// the naive scalar GEMM as the baseline. GFLOP/s is 2 m n k / mean.
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    // Every operand starts on a 64-byte line, as the network's and the workspace's arenas do (AlignedFloats).
    private AlignedFloats _x = null!, _w = null!, _bias = null!, _z = null!, _delta = null!, _nablaW = null!, _deltaBelow = null!, _wStep = null!;

    /// <summary>The product's shape.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = GemmShape.All[0];

    /// <summary>The values of <see cref="Shape"/>.</summary>
    public static IEnumerable<GemmShape> Shapes => GemmShape.All;

    private int M => Shape.M;

    private int N => Shape.N;

    private int K => Shape.K;

    /// <summary>Operands: inputs X (m x k), weights W (n x k), errors Delta (m x n); values do not matter for speed.</summary>
    [GlobalSetup]
    public void Setup()
    {
        MachineInfo.PrintOnce();
        Console.WriteLine($"LadderInfo: SimdWidth.Bits = {SimdWidth.Bits}");
        _x = OnLines(Synthetic.Uniform(M * K, seed: 1, 0f, 1f));
        _w = OnLines(Synthetic.Uniform(N * K, seed: 2));
        _bias = OnLines(Synthetic.Uniform(N, seed: 3));
        _delta = OnLines(Synthetic.Uniform(M * N, seed: 4, -0.01f, 0.01f));
        _z = new AlignedFloats(M * N);
        _nablaW = new AlignedFloats(N * K);
        _deltaBelow = new AlignedFloats(M * K);
        _wStep = OnLines(Synthetic.Uniform(N * K, seed: 2));
    }

    /// <summary>Forward, naive: <c>Z = X W^T + b</c> with the scalar triple loop.</summary>
    [Benchmark(Baseline = true)]
    public void ForwardNaive() => NaiveKernels.MultiplyTransposedAddBias(_x.Span, _w.Span, _bias.Span, _z.Span, M, N, K);

    /// <summary>Forward, per sample: m calls of <see cref="MatrixVector.MultiplyAdd"/> (W streamed m times).</summary>
    [Benchmark]
    public void ForwardPerSample()
    {
        for (int i = 0; i < M; i++)
        {
            MatrixVector.MultiplyAdd(_w.Span, N, K, _x.Slice(i * K, K), _bias.Span, _z.Slice(i * N, N));
        }
    }

    /// <summary>Forward, batched: one <c>Gemm.MultiplyTransposed</c> (4 x 3 tiles; W streamed m/4 times from L1/L2).</summary>
    [Benchmark]
    [SimdBitsJobs]
    public void ForwardGemm() => Gemm.MultiplyTransposed(_x.Span, default, _w.Span, _bias.Span, _z.Span, M, N, K, 0, N);

    /// <summary>Weight gradient, per sample: m calls of <see cref="Rank1.Update"/> (nabla_W read and written m times).</summary>
    [Benchmark]
    public void GradientPerSample()
    {
        _nablaW.Span.Clear();
        for (int i = 0; i < M; i++)
        {
            Rank1.Update(_nablaW.Span, N, K, 1f, _delta.Slice(i * N, N), _x.Slice(i * K, K));
        }
    }

    /// <summary>Weight gradient, batched: one <c>Gemm.MultiplyStrided</c>, <c>nabla_W = Delta^T X</c> (register tiles of six rows by two or three vectors, packed panels of twelve rows for long sums; nabla_W written once).</summary>
    [Benchmark]
    [SimdBitsJobs]
    public void GradientGemm() => Gemm.MultiplyStrided(_delta.Span, 1, N, _x.Span, default, _nablaW.Span, N, M, K, 0, N, 1f, 0f);

    /// <summary>
    /// The weight gradient as training runs it: the SGD step folded in, <c>W = W - (eta / m) Delta^T X</c> (beta = 1,
    /// no weight decay), W read and written once (the step drifts W by a constant each call, harmless for timing).
    /// </summary>
    [Benchmark]
    public void GradientStepGemm() => Gemm.MultiplyStrided(_delta.Span, 1, N, _x.Span, default, _wStep.Span, N, M, K, 0, N, -3f / M, 1f);

    /// <summary>
    /// BP2's product, <c>Delta^{l-1} = Delta^l W^l</c> (m x K from m x N and N x K), through the same kernel with the
    /// strides swapped: sums over N, long for a wide layer, where the kernel runs in blocks of R's rows.
    /// </summary>
    [Benchmark]
    public void PropagateErrorGemm() => Gemm.MultiplyStrided(_delta.Span, N, 1, _w.Span, default, _deltaBelow.Span, M, N, K, 0, M, 1f, 0f);

    private static AlignedFloats OnLines(float[] values)
    {
        var arena = new AlignedFloats(values.Length);
        values.CopyTo(arena.Span);
        return arena;
    }
}
