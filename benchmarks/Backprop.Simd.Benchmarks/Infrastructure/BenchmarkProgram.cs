using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>
/// The shared entry point of the benchmark programs. Arguments are BenchmarkDotNet's own (<c>--filter</c>, <c>--list flat</c>,
/// ...; without a selection every benchmark runs), plus:
/// <list type="bullet">
/// <item><c>--smoke</c>: every selected benchmark once (<see cref="Job.Dry"/>) in this process, no separate build. Only
/// checks that each benchmark runs without throwing; the timings mean nothing. Exits non-zero when any benchmark failed.</item>
/// <item><c>--disasm</c>: the hand-written kernels (category <see cref="Categories.Hand"/>, one shape) with the
/// <see cref="DisassemblyDiagnoser"/>, in the default and the 512-bit Vector&lt;T&gt; jobs; the listings land in
/// <c>BenchmarkDotNet.Artifacts/results/*-asm.md</c>.</item>
/// <item><c>--short</c>: only the default job (no vector-width, SIMD-bits or instruction-set jobs), with 3 warm-up and
/// 6 measured iterations: enough for the charts of benchmarks/Backprop.Simd.Charts in a few minutes.</item>
/// </list>
/// Every run also writes <c>*-work.csv</c> next to BenchmarkDotNet's reports (<see cref="WorkExporter"/>).
/// </summary>
public static class BenchmarkProgram
{
    /// <summary>The shape <c>--disasm</c> runs: the code does not depend on it, and one shape keeps the run short.</summary>
    public const string DisassemblyShape = "100x784";

    /// <summary>Runs the benchmarks of <paramref name="assembly"/>; returns the process exit code.</summary>
    /// <param name="assembly">The assembly whose benchmark classes are offered.</param>
    /// <param name="args">Command-line arguments.</param>
    public static int Run(Assembly assembly, string[] args)
    {
        bool smoke = args.Contains("--smoke");
        bool disasm = args.Contains("--disasm");
        bool quick = args.Contains("--short");
        if ((smoke ? 1 : 0) + (disasm ? 1 : 0) + (quick ? 1 : 0) > 1)
        {
            Console.Error.WriteLine("--smoke, --disasm and --short do not go together.");
            return 2;
        }

        var rest = args.Where(a => a is not ("--smoke" or "--disasm" or "--short")).ToList();
        if (!rest.Any(a => a is "--filter" or "-f" or "--anyCategories" or "--allCategories"))
        {
            rest.AddRange(["--filter", "*"]); // run everything rather than asking on the console
        }

        WarmUp.Disabled = smoke;
        IConfig config = smoke ? SmokeConfig() : disasm ? DisassemblyConfig() : quick ? ShortConfig() : FullConfig();

        Summary[] summaries = BenchmarkSwitcher.FromAssembly(assembly).Run([.. rest], config).ToArray();
        return Verdict(summaries, requireSome: smoke);
    }

    private static ManualConfig Common() =>
        ManualConfig.Create(DefaultConfig.Instance)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddExporter(WorkExporter.Default)
            .AddColumn(ThroughputColumn.Gflops, ThroughputColumn.GigabytesPerSecond, ThroughputColumn.SamplesPerSecond)
            .HideColumns(Column.EnvironmentVariables, Column.Error, Column.StdDev, Column.RatioSD, Column.AllocRatio)
            .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend));

    /// <summary>
    /// Default job for everything, the vector-width jobs for <see cref="VectorWidthJobsAttribute"/> classes, the
    /// batched-width jobs for <see cref="SimdBitsJobsAttribute"/> methods, the instruction-set fallbacks for
    /// <see cref="InstructionSetJobsAttribute"/> methods.
    /// </summary>
    private static ManualConfig FullConfig() =>
        Common()
            .AddJob([.. Jobs.VectorWidths, .. Jobs.SimdBits, .. Jobs.InstructionSets])
            .AddFilter(new SimpleFilter(c => c.Job.Id == Jobs.Default.Id
                || (Jobs.VectorWidths.Any(j => j.Id == c.Job.Id) && RunsAllWidths(c))
                || (Jobs.SimdBits.Any(j => j.Id == c.Job.Id) && RunsAllSimdBits(c))
                || (Jobs.InstructionSets.Any(j => j.Id == c.Job.Id) && RunsAllInstructionSets(c))));

    private static ManualConfig ShortConfig() =>
        Common().AddJob(Jobs.Default.WithWarmupCount(3).WithIterationCount(6).WithId(Jobs.Default.Id));

    private static ManualConfig SmokeConfig() =>
        Common()
            .AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance).WithId("Smoke"))
            .WithOptions(ConfigOptions.DisableLogFile);

    private static ManualConfig DisassemblyConfig() =>
        Common()
            .AddJob(Jobs.Default, Jobs.VectorT512)
            .AddDiagnoser(new DisassemblyDiagnoser(new DisassemblyDiagnoserConfig(
                maxDepth: 3, exportGithubMarkdown: true, exportCombinedDisassemblyReport: true)))
            .AddFilter(new AnyCategoriesFilter([Categories.Hand]))
            .AddFilter(new SimpleFilter(c => c.Parameters.Items.All(p => p.Name != "Shape" || p.Value?.ToString() == DisassemblyShape)));

    private static bool RunsAllWidths(BenchmarkCase benchmark) =>
        benchmark.Descriptor.Type.GetCustomAttribute<VectorWidthJobsAttribute>(inherit: true) is not null;

    private static bool RunsAllInstructionSets(BenchmarkCase benchmark) =>
        benchmark.Descriptor.WorkloadMethod.GetCustomAttribute<InstructionSetJobsAttribute>() is not null;

    private static bool RunsAllSimdBits(BenchmarkCase benchmark) =>
        benchmark.Descriptor.WorkloadMethod.GetCustomAttribute<SimdBitsJobsAttribute>() is not null;

    /// <summary>0 when every benchmark that was selected produced a result; 1 otherwise (printing which failed).</summary>
    private static int Verdict(Summary[] summaries, bool requireSome)
    {
        int failures = 0, total = 0;
        foreach (Summary summary in summaries)
        {
            if (summary.HasCriticalValidationErrors)
            {
                failures++;
                foreach (var error in summary.ValidationErrors)
                {
                    Console.Error.WriteLine($"Benchmark validation error: {error.Message}");
                }
            }

            foreach (BenchmarkCase benchmark in summary.BenchmarksCases)
            {
                total++;
                BenchmarkReport? report = summary[benchmark];
                if (report is null || !report.Success || report.ResultStatistics is null)
                {
                    failures++;
                    Console.Error.WriteLine($"Benchmark failed: {benchmark.DisplayInfo}");
                }
            }
        }

        if (requireSome && total == 0)
        {
            Console.Error.WriteLine("No benchmark ran.");
            return 1;
        }

        Console.WriteLine($"Benchmarks: {total - failures} of {total} produced results.");
        return failures == 0 ? 0 : 1;
    }
}
