using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Benchmarks.Ladder;
using Backprop.Simd.Benchmarks.Limits;

// dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks -- --filter '*'
// Extra switches (see BenchmarkProgram): --smoke (every benchmark once, in process; CI runs it) and --disasm.
// --latency [--calls N]: the single-sample inference latency harness (percentiles, GC counts), not BenchmarkDotNet.
// --paired [--rounds N]: speedups as per-round ratios of two trainers alternating in one process, not BenchmarkDotNet.
// --paired-pages DIR [--rounds N]: the same for the images of DIR in 4 KiB against 2 MiB pages (HugePagePairedHarness).
// --kernel-pairs A.dll B.dll [--calls N] [--shapes m:n:k,...]: two builds' matrix products alternating call by call (KernelPairHarness).
if (args.Contains(LatencyHarness.Switch))
{
    return LatencyHarness.Run(args);
}

if (args.Contains(HugePagePairedHarness.Switch))
{
    return HugePagePairedHarness.Run(args);
}

if (args.Contains(KernelPairHarness.Switch))
{
    return KernelPairHarness.Run(args);
}

if (args.Contains(PairedHarness.Switch))
{
    return PairedHarness.Run(args);
}

int exitCode = BenchmarkProgram.Run(typeof(Program).Assembly, args);
if (args.Contains("--smoke"))
{
    // The harnesses too, briefly, so that they cannot rot unnoticed; their numbers mean nothing here (the kernel pair
    // is this build against itself: its bits must match).
    exitCode = Math.Max(exitCode, LatencyHarness.Run(["--calls", "20000"]));
    exitCode = Math.Max(exitCode, PairedHarness.Run(["--rounds", "3"]));
    string library = typeof(Backprop.Simd.Network).Assembly.Location;
    exitCode = Math.Max(exitCode, KernelPairHarness.Run([KernelPairHarness.Switch, library, library, "--calls", "10", "--shapes", "10:30:784,13:37:100"]));
}

return exitCode;
