using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Benchmarks.Ladder;
using Backprop.Simd.Benchmarks.Limits;

// dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks -- --filter '*'
// Extra switches (see BenchmarkProgram): --smoke (every benchmark once, in process; CI runs it) and --disasm.
// --latency [--calls N]: the single-sample inference latency harness (percentiles, GC counts), not BenchmarkDotNet.
// --paired [--rounds N]: speedups as per-round ratios of two trainers alternating in one process, not BenchmarkDotNet.
// --paired-pages DIR [--rounds N]: the same for the images of DIR in 4 KiB against 2 MiB pages (HugePagePairedHarness).
if (args.Contains(LatencyHarness.Switch))
{
    return LatencyHarness.Run(args);
}

if (args.Contains(HugePagePairedHarness.Switch))
{
    return HugePagePairedHarness.Run(args);
}

if (args.Contains(PairedHarness.Switch))
{
    return PairedHarness.Run(args);
}

int exitCode = BenchmarkProgram.Run(typeof(Program).Assembly, args);
if (args.Contains("--smoke"))
{
    // The two harnesses too, briefly, so that they cannot rot unnoticed; their numbers mean nothing here.
    exitCode = Math.Max(exitCode, LatencyHarness.Run(["--calls", "20000"]));
    exitCode = Math.Max(exitCode, PairedHarness.Run(["--rounds", "3"]));
}

return exitCode;
