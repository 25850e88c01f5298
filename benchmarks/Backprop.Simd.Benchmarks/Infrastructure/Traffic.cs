using Backprop.Simd.Benchmarks.EndToEnd;
using Backprop.Simd.Benchmarks.Kernels;
using Backprop.Simd.Benchmarks.Ladder;
using Backprop.Simd.Benchmarks.Limits;
using BenchmarkDotNet.Running;

namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>
/// The work of one benchmark invocation for the roofline (<see cref="WorkExporter"/>): its flops as the benchmark
/// declares them (<see cref="WorkOf"/>), and its COMPULSORY memory traffic: every operand read once and every result
/// written once, however the algorithm reuses them. So the per-sample and the GEMM forms of one product sit at the same
/// arithmetic intensity and differ only in height, which is what the roofline is for; the per-sample path's real
/// traffic (<see cref="LadderCase.BytesPerSample"/>) is larger. Rows whose traffic is not modelled here get 0 bytes.
/// </summary>
public static class Traffic
{
    private const double Float = sizeof(float);

    /// <summary>Floating-point operations of one invocation (a multiply-add counts as 2), or 0 when unknown.</summary>
    public static double Flops(BenchmarkCase benchmark)
    {
        double declared = WorkOf.PerInvocation(benchmark, ThroughputUnit.GigaflopsPerSecond);
        if (declared > 0)
        {
            return declared;
        }

        // EpochBenchmarks names its shape by a string and declares samples only: the ladder's count of the same work.
        return benchmark.Descriptor.Type == typeof(EpochBenchmarks) && Value<string>(benchmark) is { } sizes
            ? Samples(benchmark) * new LadderCase(sizes, TrainingFixture.MiniBatchSize).FlopsPerSample
            : 0;
    }

    /// <summary>Samples one invocation trains or infers, or 0.</summary>
    public static double Samples(BenchmarkCase benchmark) => WorkOf.PerInvocation(benchmark, ThroughputUnit.SamplesPerSecond);

    /// <summary>Compulsory bytes read and written by one invocation, or 0 when not modelled.</summary>
    public static double Bytes(BenchmarkCase benchmark)
    {
        Type type = benchmark.Descriptor.Type;
        string method = benchmark.Descriptor.WorkloadMethod.Name;
        if (Value<BufferSize>(benchmark) is { } buffer)
        {
            return buffer.Bytes;
        }

        if (Value<KernelShape>(benchmark) is { } k)
        {
            double matrix = Float * k.Rows * k.Cols, vectors = Float * (k.Rows + k.Cols);
            return type == typeof(Rank1Benchmarks) ? (2 * matrix) + vectors // A read and written, x and y read
                : type == typeof(MatrixVectorBenchmarks) ? matrix + vectors + (Float * k.Rows) // W, x, b read; y written
                : type == typeof(TransposedMatrixVectorBenchmarks) ? matrix + vectors // W, v read; y written
                : 0;
        }

        if (Value<GemmShape>(benchmark) is { } g)
        {
            double x = Float * g.M * g.K, w = Float * g.N * g.K, z = Float * g.M * g.N;
            return method.StartsWith("Forward", StringComparison.Ordinal) ? x + w + z + (Float * g.N) // X, W, b read; Z written
                : method.StartsWith("Gradient", StringComparison.Ordinal) ? z + x + w // Delta, X read; nabla_W written
                : 0;
        }

        if (Value<LadderCase>(benchmark) is { } ladder && type == typeof(LadderBenchmarks))
        {
            return Samples(benchmark) * TrainingBytesPerSample(ladder.Layers, ladder.MiniBatch);
        }

        if (type == typeof(EpochBenchmarks) && Value<string>(benchmark) is { } sizes)
        {
            return Samples(benchmark) * TrainingBytesPerSample(new LadderCase(sizes, TrainingFixture.MiniBatchSize).Layers, TrainingFixture.MiniBatchSize);
        }

        return 0;
    }

    /// <summary>
    /// One training sample's share of the compulsory traffic of SGD: its input and target read, and every parameter
    /// read and written once per mini-batch of <paramref name="miniBatch"/>.
    /// </summary>
    public static double TrainingBytesPerSample(int[] layers, int miniBatch)
    {
        double parameters = 0;
        for (int l = 1; l < layers.Length; l++)
        {
            parameters += ((double)layers[l] * layers[l - 1]) + layers[l];
        }

        return (Float * (layers[0] + layers[^1])) + (2 * Float * parameters / miniBatch);
    }

    private static T? Value<T>(BenchmarkCase benchmark)
        where T : class =>
        benchmark.Parameters.Items.Select(p => p.Value).OfType<T>().FirstOrDefault();
}
