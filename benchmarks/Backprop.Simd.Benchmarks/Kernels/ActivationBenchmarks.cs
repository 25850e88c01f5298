using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Backprop.Simd.Benchmarks.Kernels;

/// <summary>An activation's operand: <c>Rows</c> rows of <c>Width</c> values (log-softmax normalises each row).</summary>
public sealed record ActivationShape(int Rows, int Width)
{
    /// <summary>One sample of 1,000 outputs, and a mini-batch of 64 samples of 100.</summary>
    public static IReadOnlyList<ActivationShape> All { get; } = [new(1, 1000), new(64, 100)];

    /// <summary>Values in all: <c>Rows * Width</c>.</summary>
    public int Count => Rows * Width;

    /// <inheritdoc />
    public override string ToString() => $"{Rows}x{Width}";
}

/// <summary>
/// ELU, GELU, SiLU and log-softmax, and the derivatives of the first three, each against its naive scalar loop
/// (<see cref="NaiveKernels"/>, the baseline of its category). The derivatives multiply delta in place, so each call
/// first restores delta from a copy, naive and fast alike: otherwise GELU's and SiLU's derivatives, which exceed 1
/// for some z, would drive it to infinity over the iterations.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ActivationBenchmarks
{
    private float[] _z = null!, _eluA = null!, _a = null!, _delta = null!, _deltaSource = null!;

    /// <summary>The operand's shape.</summary>
    [ParamsSource(nameof(Shapes))]
    public ActivationShape Shape { get; set; } = ActivationShape.All[0];

    /// <summary>The values of <see cref="Shape"/>.</summary>
    public static IEnumerable<ActivationShape> Shapes => ActivationShape.All;

    /// <summary>z uniform in [-4, 4), where every branch of every function is taken; delta in [-1, 1).</summary>
    [GlobalSetup]
    public void Setup()
    {
        MachineInfo.PrintOnce();
        _z = Synthetic.Uniform(Shape.Count, seed: 1, low: -4f, high: 4f);

        _eluA = new float[Shape.Count];
        SmoothActivations.ELU(_z, _eluA);
        _a = new float[Shape.Count];
        _deltaSource = Synthetic.Uniform(Shape.Count, seed: 2);
        _delta = new float[Shape.Count];
    }

    /// <summary>ELU, naive: <c>z &gt; 0 ? z : e^z - 1</c>.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("ELU")]
    public void EluNaive() => NaiveKernels.ELU(_z, _a);

    /// <summary>ELU, the kernel.</summary>
    [Benchmark]
    [BenchmarkCategory("ELU")]
    public void Elu() => SmoothActivations.ELU(_z, _a);

    /// <summary>ELU's derivative, naive.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("ELU'")]
    public void EluPrimeNaive()
    {
        _deltaSource.CopyTo(_delta, 0);
        NaiveKernels.MultiplyByELUPrime(_delta, _z, _eluA);
    }

    /// <summary>ELU's derivative, the kernel.</summary>
    [Benchmark]
    [BenchmarkCategory("ELU'")]
    public void EluPrime()
    {
        _deltaSource.CopyTo(_delta, 0);
        SmoothActivations.MultiplyByELUPrime(_delta, _z, _eluA);
    }

    /// <summary>GELU, naive: erf in double.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("GELU")]
    public void GeluNaive() => NaiveKernels.GELU(_z, _a);

    /// <summary>GELU, the kernel and its vector erf.</summary>
    [Benchmark]
    [BenchmarkCategory("GELU")]
    public void Gelu() => SmoothActivations.GELU(_z, _a);

    /// <summary>GELU's derivative, naive.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("GELU'")]
    public void GeluPrimeNaive()
    {
        _deltaSource.CopyTo(_delta, 0);
        NaiveKernels.MultiplyByGELUPrime(_delta, _z);
    }

    /// <summary>GELU's derivative, the kernel.</summary>
    [Benchmark]
    [BenchmarkCategory("GELU'")]
    public void GeluPrime()
    {
        _deltaSource.CopyTo(_delta, 0);
        SmoothActivations.MultiplyByGELUPrime(_delta, _z);
    }

    /// <summary>SiLU, naive: <c>z / (1 + e^-z)</c>.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("SiLU")]
    public void SiluNaive() => NaiveKernels.SiLU(_z, _a);

    /// <summary>SiLU, the kernel.</summary>
    [Benchmark]
    [BenchmarkCategory("SiLU")]
    public void Silu() => SmoothActivations.SiLU(_z, _a);

    /// <summary>SiLU's derivative, naive.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("SiLU'")]
    public void SiluPrimeNaive()
    {
        _deltaSource.CopyTo(_delta, 0);
        NaiveKernels.MultiplyBySiLUPrime(_delta, _z);
    }

    /// <summary>SiLU's derivative, the kernel.</summary>
    [Benchmark]
    [BenchmarkCategory("SiLU'")]
    public void SiluPrime()
    {
        _deltaSource.CopyTo(_delta, 0);
        SmoothActivations.MultiplyBySiLUPrime(_delta, _z);
    }

    /// <summary>Log-softmax of each row, naive.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("LogSoftmax")]
    public void LogSoftmaxNaive() => NaiveKernels.LogSoftmaxRows(_z, _a, Shape.Width);

    /// <summary>Log-softmax of each row, the kernel.</summary>
    [Benchmark]
    [BenchmarkCategory("LogSoftmax")]
    public void LogSoftmax() => SmoothActivations.LogSoftmaxRows(_z, _a, Shape.Width);
}
