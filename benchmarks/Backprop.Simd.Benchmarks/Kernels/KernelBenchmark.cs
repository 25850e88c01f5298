using Backprop.Simd.Benchmarks.Infrastructure;
using BenchmarkDotNet.Attributes;

namespace Backprop.Simd.Benchmarks.Kernels;

/// <summary>A matrix shape, <c>rows x cols</c>; one pass over such a matrix is <c>rows * cols</c> multiply-adds.</summary>
public sealed record KernelShape(int Rows, int Cols) : IWork, IComparable<KernelShape>
{
    /// <summary>The shapes benchmarked: the seed network's two layers ([784,30,10]), a wider hidden layer, and two square ones.</summary>
    public static IReadOnlyList<KernelShape> All { get; } = [new(30, 784), new(10, 30), new(100, 784), new(256, 256), new(1024, 1024)];

    /// <inheritdoc />
    public double Flops => 2.0 * Rows * Cols;

    /// <inheritdoc />
    public double Bytes => 0;

    /// <summary>Orders shapes by size, so tables list them small to large.</summary>
    public int CompareTo(KernelShape? other) => other is null ? 1 : ((long)Rows * Cols).CompareTo((long)other.Rows * other.Cols);

    /// <inheritdoc />
    public override string ToString() => $"{Rows}x{Cols}";
}

/// <summary>
/// The operands of one kernel benchmark: a row-major <c>rows x cols</c> matrix <c>W</c>, vectors for both sides, and
/// a bias. Values are uniform in [-1, 1); the kernels' speed does not depend on them.
/// </summary>
[VectorWidthJobs]
[MemoryDiagnoser]
public abstract class KernelBenchmark
{
    /// <summary>Row-major <c>Rows x Cols</c>.</summary>
    protected float[] W = null!;

    /// <summary>Length <c>Cols</c>: the input of <c>W x</c>, the output of <c>W^T v</c>, the row vector of a rank-1 update.</summary>
    protected float[] ColsVector = null!;

    /// <summary>Length <c>Rows</c>: the output of <c>W x</c>, the input of <c>W^T v</c>, the column vector of a rank-1 update.</summary>
    protected float[] RowsVector = null!;

    /// <summary>Length <c>Rows</c>: the bias of <c>W x + b</c>.</summary>
    protected float[] Bias = null!;

    /// <summary>Length <c>Cols</c> or <c>Rows</c>, whichever the kernel writes.</summary>
    protected float[] Output = null!;

    /// <summary>The matrix shape.</summary>
    [ParamsSource(nameof(Shapes))]
    public KernelShape Shape { get; set; } = KernelShape.All[0];

    /// <summary>The values of <see cref="Shape"/>.</summary>
    public static IEnumerable<KernelShape> Shapes => KernelShape.All;

    /// <summary>Rows of W.</summary>
    protected int Rows => Shape.Rows;

    /// <summary>Columns of W.</summary>
    protected int Cols => Shape.Cols;

    /// <summary>Allocates and fills the operands (once, outside the measurement).</summary>
    [GlobalSetup]
    public void Setup()
    {
        MachineInfo.PrintOnce();
        W = Synthetic.Uniform(Rows * Cols, seed: 1);
        ColsVector = Synthetic.Uniform(Cols, seed: 2);
        RowsVector = Synthetic.Uniform(Rows, seed: 3);
        Bias = Synthetic.Uniform(Rows, seed: 4);
        Output = new float[Math.Max(Rows, Cols)];
    }
}
