namespace Backprop.Simd.Tests.Fuzzing;

/// <summary>
/// Mutational fuzzing of the IDX, model JSON and ONNX readers (see docs/fuzzing.md). In the test suite each target
/// runs a fixed number of mutants from a fixed seed, so the run is deterministic; about 20 s in all.
/// Setting <c>BACKPROP_FUZZ_SECONDS</c> turns it into the long run: each target runs that many seconds from
/// <c>BACKPROP_FUZZ_SEED</c> (default: a new seed, printed), saving failing inputs under <c>BACKPROP_FUZZ_OUT</c>.
/// </summary>
public sealed class ReaderFuzzTests(ITestOutputHelper output)
{
    /// <summary>The CI run's seed; any fixed value would do.</summary>
    private const ulong CiSeed = 20_261_129;

    public static TheoryData<string, int> CiTargets => new()
    {
        { "idx-images", 60_000 },  // about 6 s on one core of the build machine
        { "idx-labels", 300_000 }, // 2 s
        { "model-json", 300_000 }, // 5 s
        { "onnx", 300_000 },       // 6 s
    };

    [Theory]
    [MemberData(nameof(CiTargets))]
    public void Every_mutant_is_accepted_sanely_or_rejected_with_InvalidDataException(string name, int ciCases)
    {
        FuzzTarget target = name switch
        {
            "idx-images" => ReaderTargets.IdxImages(),
            "idx-labels" => ReaderTargets.IdxLabels(),
            "model-json" => ReaderTargets.ModelJsonFiles(),
            _ => ReaderTargets.OnnxModels(),
        };

        string? seconds = Environment.GetEnvironmentVariable("BACKPROP_FUZZ_SECONDS");
        bool longRun = int.TryParse(seconds, out int budget) && budget > 0;
        ulong seed = ulong.TryParse(Environment.GetEnvironmentVariable("BACKPROP_FUZZ_SEED"), out ulong given) ? given
            : longRun ? (ulong)DateTime.UtcNow.Ticks : CiSeed;
        FuzzResult result = longRun
            ? Fuzzer.Run(target, seed, int.MaxValue, TimeSpan.FromSeconds(budget), Environment.GetEnvironmentVariable("BACKPROP_FUZZ_OUT") ?? Path.Combine(Path.GetTempPath(), "backprop-fuzz"))
            : Fuzzer.Run(target, seed, ciCases, TimeSpan.FromMinutes(5), crashDirectory: null);

        output.WriteLine(result.ToString());
        Assert.True(result.Failures.Count == 0, $"{result}\n{string.Join("\n", result.Failures)}");
        Assert.True(result.Accepted > 0 && result.Rejected > 0, $"the mutants should include both accepted and rejected inputs: {result}");
    }
}
