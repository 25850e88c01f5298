using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Backprop.Simd.Benchmarks.Onnx;

/// <summary>Median, P95 and P99 of the iteration means, allocations, and samples per second.</summary>
public sealed class OnnxConfig : ManualConfig
{
    public OnnxConfig()
    {
        AddColumn(StatisticColumn.Median, StatisticColumn.P95, new PercentileColumn(99), new SamplesPerSecondColumn());
        AddDiagnoser(MemoryDiagnoser.Default);
        WithOptions(ConfigOptions.DisableLogFile);
    }
}

/// <summary>A percentile of the iteration means (BenchmarkDotNet has columns up to P95 only).</summary>
public sealed class PercentileColumn(int percentile) : IColumn
{
    public string Id => $"P{percentile}";

    public string ColumnName => $"P{percentile}";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Statistics;

    public int PriorityInCategory => 100;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless; // formatted here, in microseconds

    public string Legend => $"Percentile {percentile} of the iteration means (each iteration averages many calls)";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        return statistics is null ? "NA" : (statistics.Percentiles.Percentile(percentile) / 1000).ToString("N3", style.CultureInfo) + " us";
    }
}

/// <summary>Operations per second from the mean time per operation: samples/s for the batch benchmarks.</summary>
public sealed class SamplesPerSecondColumn : IColumn
{
    public string Id => "SamplesPerSecond";

    public string ColumnName => "Samples/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Samples (operations) per second: 1 s / mean time per sample";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        return statistics is null ? "NA" : (1e9 / statistics.Mean).ToString("N0", style.CultureInfo);
    }
}
