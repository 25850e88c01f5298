using System.Diagnostics;

namespace Backprop.Simd.Tests.Fuzzing;

/// <summary>A reader under test: its seed files, how to mutate them, and how to run one input through it.</summary>
internal sealed class FuzzTarget
{
    public required string Name { get; init; }

    public required byte[][] Seeds { get; init; }

    public required Mutator.Kind Kind { get; init; }

    /// <summary>Reads one input. Returns if the reader accepted it (after checking the result is sane, throwing
    /// <see cref="FuzzOracleException"/> if not); a rejection is the reader's own exception.</summary>
    public required Action<byte[]> Read { get; init; }

    /// <summary>Exception types the reader documents for bad input; anything else is a bug.</summary>
    public required Type[] Documented { get; init; }

    /// <summary>Optional: how a mutant becomes an input (e.g. gzipped after its content was mutated), chosen per case.</summary>
    public Func<byte[], byte[]>? Wrap { get; init; }
}

/// <summary>An accepted input whose result is not sane: wrong sizes, values that differ from an independent reading.</summary>
internal sealed class FuzzOracleException(string message) : Exception(message);

/// <summary>What a run found.</summary>
internal sealed record FuzzResult(string Target, ulong Seed, int Cases, int Accepted, int Rejected, TimeSpan Elapsed, IReadOnlyList<string> Failures)
{
    public override string ToString() =>
        $"{Target}: {Cases:N0} inputs (seed {Seed}) in {Elapsed.TotalSeconds:F1} s: {Accepted:N0} accepted, {Rejected:N0} rejected, {Failures.Count} failures";
}

/// <summary>
/// Mutational fuzzing of one reader: mutants of the seed files, generated reproducibly from a seed, each either
/// accepted (and then checked by the target's oracle) or rejected with one of the documented exception types.
/// Anything else, or an allocation far beyond what the input can hold, is a failure; the failing inputs are saved
/// when a directory is given.
/// </summary>
internal static class Fuzzer
{
    /// <summary>Allocation allowed per input: a fixed 64 MiB plus 10,000 bytes per input byte (gzip expands up to
    /// 1032-fold and a byte becomes a 4-byte float, in arrays that may double once while growing).</summary>
    public static long AllocationLimit(int inputLength) => (64L << 20) + (10_000L * inputLength);

    public static FuzzResult Run(FuzzTarget target, ulong seed, int maxCases, TimeSpan maxTime, string? crashDirectory)
    {
        var failures = new List<string>();
        var random = new SeededRandom(seed);
        int accepted = 0, rejected = 0, cases = 0;
        var clock = Stopwatch.StartNew();

        // The seeds themselves must be accepted, or the harness is testing nothing.
        foreach (byte[] input in target.Seeds)
        {
            if (Try(target, input, out string? failure) != Outcome.Accepted)
            {
                failures.Add($"seed file rejected: {failure}");
            }
        }

        while (cases < maxCases && clock.Elapsed < maxTime)
        {
            byte[] seedFile = target.Seeds[random.NextInt(target.Seeds.Length)];
            byte[] input = Mutator.Mutate(seedFile, target.Seeds, target.Kind, ref random);
            if (target.Wrap is not null && random.NextInt(2) == 0)
            {
                input = target.Wrap(input);
            }

            cases++;
            switch (Try(target, input, out string? failure))
            {
                case Outcome.Accepted:
                    accepted++;
                    break;
                case Outcome.Rejected:
                    rejected++;
                    break;
                default:
                    failures.Add($"case {cases}: {failure}");
                    if (crashDirectory is not null)
                    {
                        Directory.CreateDirectory(crashDirectory);
                        File.WriteAllBytes(Path.Combine(crashDirectory, $"{target.Name}-seed{seed}-case{cases}.bin"), input);
                    }

                    break;
            }

            if (failures.Count >= 20)
            {
                break; // enough to act on
            }
        }

        return new FuzzResult(target.Name, seed, cases, accepted, rejected, clock.Elapsed, failures);
    }

    private enum Outcome
    {
        Accepted,
        Rejected,
        Failed,
    }

    private static Outcome Try(FuzzTarget target, byte[] input, out string? failure)
    {
        failure = null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        Outcome outcome;
        try
        {
            target.Read(input);
            outcome = Outcome.Accepted;
        }
        catch (FuzzOracleException e)
        {
            failure = $"accepted but not sane: {e.Message}";
            return Outcome.Failed;
        }
        catch (Exception e) when (target.Documented.Contains(e.GetType()))
        {
            outcome = Outcome.Rejected;
            if (e.Message.Contains('\n') || !e.Message.StartsWith(Source, StringComparison.Ordinal) && !e.Message.StartsWith($"'{Source}'", StringComparison.Ordinal))
            {
                failure = $"{e.GetType().Name} whose message does not start with the source's name on one line: {e.Message}";
                return Outcome.Failed;
            }
        }
        catch (Exception e)
        {
            failure = $"{e.GetType().FullName} (undocumented): {e.Message}\n{e.StackTrace}";
            return Outcome.Failed;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > AllocationLimit(input.Length))
        {
            failure = $"allocated {allocated:N0} bytes for an input of {input.Length:N0} bytes";
            return Outcome.Failed;
        }

        return outcome;
    }

    /// <summary>The name every target gives its input in messages.</summary>
    public const string Source = "fuzz-input";
}
