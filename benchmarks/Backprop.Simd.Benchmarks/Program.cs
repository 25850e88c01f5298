using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Benchmarks.Ladder;

// dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks -- --filter '*'
// Extra switches (see BenchmarkProgram): --smoke (every benchmark once, in process; CI runs it) and --disasm.
// --latency [--calls N]: the single-sample inference latency harness (percentiles, GC counts), not BenchmarkDotNet.
if (args.Contains(LatencyHarness.Switch))
{
    return LatencyHarness.Run(args);
}

int exitCode = BenchmarkProgram.Run(typeof(Program).Assembly, args);
if (args.Contains("--smoke"))
{
    // The latency harness too, briefly, so that it cannot rot unnoticed; its numbers mean nothing here.
    exitCode = Math.Max(exitCode, LatencyHarness.Run(["--calls", "20000"]));
}

return exitCode;
