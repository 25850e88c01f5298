using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Benchmarks.Ladder.PerSample;
using Backprop.Simd.Kernels;
using Backprop.Simd.Reference;
using BenchmarkDotNet.Attributes;
using Tp = System.Numerics.Tensors.TensorPrimitives;

namespace Backprop.Simd.Benchmarks.Kernels;

/// <summary>
/// <c>A += alpha x y^T</c> (BP4's weight gradient), three ways. <c>alpha</c> flips sign on every call so the matrix
/// stays bounded however many times the benchmark runs.
/// </summary>
public class Rank1Benchmarks : KernelBenchmark
{
    private float _alpha = 0.5f;

    /// <summary>Scalar loops.</summary>
    [Benchmark(Baseline = true)]
    public void Naive() => NaiveKernels.Rank1Update(W, Rows, Cols, _alpha = -_alpha, RowsVector, ColsVector);

    /// <summary>One <c>TensorPrimitives.MultiplyAdd(y, alpha * x[i], row, row)</c> per row.</summary>
    [Benchmark]
    public void TensorPrimitives()
    {
        Span<float> a = W;
        ReadOnlySpan<float> x = RowsVector, y = ColsVector;
        float alpha = _alpha = -_alpha;
        int cols = Cols;
        for (int i = 0; i < x.Length; i++)
        {
            Span<float> row = a.Slice(i * cols, cols);
            Tp.MultiplyAdd(y, alpha * x[i], row, row);
        }
    }

    /// <summary>The lab's hand-written Vector&lt;T&gt; kernel, <see cref="Rank1.Update"/>.</summary>
    [Benchmark]
    [BenchmarkCategory(Categories.Hand)]
    public void Hand() => Rank1.Update(W, Rows, Cols, _alpha = -_alpha, RowsVector, ColsVector);
}
