using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Benchmarks.TorchSharp;

// dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks.TorchSharp -- --filter '*'
// Probes LibTorch once, here in the host process. When it cannot load, the Torch rows are skipped with a one-line
// reason and only the SIMD baseline rows run, so the suite completes either way.
string? reason = TorchProbe.FailureReason;
if (reason is not null)
{
    Console.WriteLine($"TorchSharp rows skipped: {reason}");
}

int exitCode = BenchmarkProgram.Run(
    typeof(TorchProbe).Assembly,
    args,
    exclude: reason is null ? null : c => c.Descriptor.HasCategory(Categories.Torch));
if (reason is not null)
{
    Console.WriteLine($"TorchSharp rows skipped: {reason}");
}

return exitCode;
