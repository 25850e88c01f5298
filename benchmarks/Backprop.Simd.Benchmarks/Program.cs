using Backprop.Simd.Benchmarks.Infrastructure;

// dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks -- --filter '*'
// Extra switches (see BenchmarkProgram): --smoke (every benchmark once, in process; CI runs it) and --disasm.
return BenchmarkProgram.Run(typeof(Program).Assembly, args);
