using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using BenchmarkDotNet.Attributes;
using Tp = System.Numerics.Tensors.TensorPrimitives;

namespace Backprop.Simd.Benchmarks.Kernels;

/// <summary><c>y = W x + b</c> (the forward pass of a layer), three ways.</summary>
public class MatrixVectorBenchmarks : KernelBenchmark
{
    /// <summary>Scalar loops: one multiply-add at a time.</summary>
    [Benchmark(Baseline = true)]
    public void Naive() => NaiveKernels.MatrixVectorMultiplyAdd(W, Rows, Cols, ColsVector, Bias, Output.AsSpan(0, Rows));

    /// <summary>One <c>TensorPrimitives.Dot</c> per row, plus the bias.</summary>
    [Benchmark]
    public void TensorPrimitives()
    {
        ReadOnlySpan<float> w = W, x = ColsVector, b = Bias;
        Span<float> y = Output.AsSpan(0, Rows);
        int cols = Cols;
        for (int j = 0; j < y.Length; j++)
        {
            y[j] = Tp.Dot(w.Slice(j * cols, cols), x) + b[j];
        }
    }

    /// <summary>The library's hand-written kernel, <c>MatrixVector.MultiplyAdd</c>, at <see cref="SimdWidth.Bits"/>.</summary>
    [Benchmark]
    [BenchmarkCategory(Categories.Hand)]
    public void Hand() => MatrixVector.MultiplyAdd(W, Rows, Cols, ColsVector, Bias, Output.AsSpan(0, Rows));
}
