using BenchmarkDotNet.Running;

namespace Backprop.Simd.Benchmarks.Onnx;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks.Onnx -- --filter '*'</c> runs the
/// BenchmarkDotNet suites; <c>-- --latency [calls]</c> runs the per-call latency harness instead (default 1,000,000 calls);
/// <c>-- --peers [--smoke]</c> runs ours, ONNX Runtime and PyTorch side by side (<see cref="PeerHarness"/>).
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Contains(PeerHarness.Switch))
        {
            return PeerHarness.Run(args);
        }

        int at = Array.IndexOf(args, "--latency");
        if (at >= 0)
        {
            int calls = at + 1 < args.Length && int.TryParse(args[at + 1], out int n) ? n : 1_000_000;
            LatencyHarness.Run(calls, Console.Out);
            return 0;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
