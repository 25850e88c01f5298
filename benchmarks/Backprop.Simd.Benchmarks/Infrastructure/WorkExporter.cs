using System.Globalization;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>
/// Writes <c>BenchmarkDotNet.Artifacts/results/&lt;summary&gt;-work.csv</c>: one line per benchmark case with its
/// class, method, job, parameters, mean and median time per operation, and the flops, compulsory bytes and samples of
/// one operation (<see cref="Traffic"/>). benchmarks/Backprop.Simd.Charts draws the roofline and the ladder from these
/// files, so no number in the charts is typed in by hand.
/// </summary>
public sealed class WorkExporter : ExporterBase
{
    /// <summary>The one instance.</summary>
    public static readonly WorkExporter Default = new();

    /// <summary>The header line, the columns the chart tool reads by name.</summary>
    public const string Header = "Type,Method,Job,Parameters,MeanNanoseconds,MedianNanoseconds,FlopsPerOperation,BytesPerOperation,SamplesPerOperation";

    private WorkExporter()
    {
    }

    /// <inheritdoc />
    protected override string FileExtension => "csv";

    /// <inheritdoc />
    protected override string FileCaption => "work";

    /// <inheritdoc />
    public override void ExportToLog(Summary summary, ILogger logger)
    {
        logger.WriteLine(Header);
        foreach (BenchmarkCase benchmark in summary.BenchmarksCases)
        {
            var statistics = summary[benchmark]?.ResultStatistics;
            if (statistics is null)
            {
                continue; // a failed case has no time to draw
            }

            double operations = benchmark.Descriptor.OperationsPerInvoke;
            string parameters = string.Join(" ", benchmark.Parameters.Items.Select(p => p.Value?.ToString()));
            string[] fields =
            [
                benchmark.Descriptor.Type.Name, benchmark.Descriptor.WorkloadMethod.Name, benchmark.Job.Id, parameters,
                Number(statistics.Mean), Number(statistics.Median), Number(Traffic.Flops(benchmark) / operations),
                Number(Traffic.Bytes(benchmark) / operations), Number(Traffic.Samples(benchmark) / operations),
            ];
            logger.WriteLine(string.Join(",", fields.Select(Quote)));
        }
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    // RFC 4180: a field with a comma, quote or line break goes in quotes, its quotes doubled.
    private static string Quote(string? field) =>
        field is null ? "" : field.AsSpan().IndexOfAny(",\"\n\r") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
