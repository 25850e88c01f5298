using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>What a <see cref="ThroughputColumn"/> reports.</summary>
public enum ThroughputUnit
{
    /// <summary>10^9 floating-point operations per second; a fused multiply-add counts as 2.</summary>
    GigaflopsPerSecond,

    /// <summary>10^9 bytes moved per second (read, or read and written where the benchmark's estimate says so).</summary>
    GigabytesPerSecond,

    /// <summary>Samples (training or inference) per second.</summary>
    SamplesPerSecond,
}

/// <summary>
/// A summary column that turns the measured mean time into a rate: work per invocation (from <see cref="WorkAttribute"/>
/// on the method, or from parameter values implementing <see cref="IWork"/>) divided by the time of one invocation
/// (the reported mean times <c>OperationsPerInvoke</c>). The column only appears in tables where at least one
/// benchmark declares that kind of work; rows without it show "-", failed rows "NA".
/// </summary>
public sealed class ThroughputColumn : IColumn
{
    /// <summary>GFLOP/s.</summary>
    public static readonly IColumn Gflops = new ThroughputColumn(ThroughputUnit.GigaflopsPerSecond);

    /// <summary>GB/s.</summary>
    public static readonly IColumn GigabytesPerSecond = new ThroughputColumn(ThroughputUnit.GigabytesPerSecond);

    /// <summary>Samples/s.</summary>
    public static readonly IColumn SamplesPerSecond = new ThroughputColumn(ThroughputUnit.SamplesPerSecond);

    private readonly ThroughputUnit _unit;

    private ThroughputColumn(ThroughputUnit unit) => _unit = unit;

    /// <inheritdoc />
    public string Id => $"{nameof(ThroughputColumn)}.{_unit}";

    /// <inheritdoc />
    public string ColumnName => _unit switch
    {
        ThroughputUnit.GigaflopsPerSecond => "GFLOP/s",
        ThroughputUnit.GigabytesPerSecond => "GB/s",
        _ => "Samples/s",
    };

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => (int)_unit;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => _unit switch
    {
        ThroughputUnit.GigaflopsPerSecond => "Floating-point operations per second / 10^9 (a multiply-add counts as 2), from the mean time",
        ThroughputUnit.GigabytesPerSecond => "Bytes moved per second / 10^9, from the mean time (reads; for the per-sample training path, its estimated reads and writes)",
        _ => "Samples processed per second, from the mean time",
    };

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => WorkOf.PerInvocation(c, _unit) > 0);

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double work = WorkOf.PerInvocation(benchmarkCase, _unit);
        if (work <= 0)
        {
            return "-";
        }

        double? meanNanoseconds = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (meanNanoseconds is not > 0)
        {
            return "NA";
        }

        double secondsPerInvocation = meanNanoseconds.Value * 1e-9 * benchmarkCase.Descriptor.OperationsPerInvoke;
        double rate = work / secondsPerInvocation;
        return _unit switch
        {
            ThroughputUnit.GigaflopsPerSecond => (rate / 1e9).ToString("N2", style.CultureInfo),
            ThroughputUnit.GigabytesPerSecond => (rate / 1e9).ToString("N1", style.CultureInfo),
            _ => rate.ToString("N0", style.CultureInfo),
        };
    }

    /// <inheritdoc />
    public override string ToString() => ColumnName;
}
