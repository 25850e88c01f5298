using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Benchmarks.Ladder.PerSample;
using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using BenchmarkDotNet.Attributes;
using Tp = System.Numerics.Tensors.TensorPrimitives;

namespace Backprop.Simd.Benchmarks.Kernels;

/// <summary><c>y = W^T v</c> (the first half of BP2), three ways. <c>v</c> has <c>Rows</c> elements, <c>y</c> has <c>Cols</c>.</summary>
public class TransposedMatrixVectorBenchmarks : KernelBenchmark
{
    /// <summary>Scalar loops, column by column (strided reads of W).</summary>
    [Benchmark(Baseline = true)]
    public void Naive() => NaiveKernels.TransposedMatrixVectorMultiply(W, Rows, Cols, RowsVector, Output.AsSpan(0, Cols));

    /// <summary><c>y = 0</c>, then one <c>TensorPrimitives.MultiplyAdd(row, v[j], y, y)</c> per row.</summary>
    [Benchmark]
    public void TensorPrimitives()
    {
        ReadOnlySpan<float> w = W, v = RowsVector;
        Span<float> y = Output.AsSpan(0, Cols);
        int cols = Cols;
        y.Clear();
        for (int j = 0; j < v.Length; j++)
        {
            Tp.MultiplyAdd(w.Slice(j * cols, cols), v[j], y, y);
        }
    }

    /// <summary>The lab's hand-written Vector&lt;T&gt; kernel, <see cref="TransposedMatrixVector.Multiply"/>.</summary>
    [Benchmark]
    [BenchmarkCategory(Categories.Hand)]
    public void Hand() => TransposedMatrixVector.Multiply(W, Rows, Cols, RowsVector, Output.AsSpan(0, Cols));
}
