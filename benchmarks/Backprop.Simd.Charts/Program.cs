using Backprop.Simd.Charts;

// dotnet run -c Release --project benchmarks/Backprop.Simd.Charts -- <results dir>... <output dir> [--job ID]
// Reads every *-work.csv under the results directories (BenchmarkDotNet.Artifacts/results of one or more runs of
// benchmarks/Backprop.Simd.Benchmarks, e.g. with --short) and writes roofline.png and ladder.png to the output directory.
// Only the rows of one job are drawn: DefaultEnv (the widths the runtime picks by itself) unless --job says otherwise.
var rest = args.ToList();
string job = "DefaultEnv";
int at = rest.IndexOf("--job");
if (at >= 0)
{
    if (at + 1 >= rest.Count)
    {
        Console.Error.WriteLine("--job needs a job id, e.g. DefaultEnv.");
        return 2;
    }

    job = rest[at + 1];
    rest.RemoveRange(at, 2);
}

if (rest.Count < 2 || rest.SkipLast(1).Any(d => !Directory.Exists(d)))
{
    Console.Error.WriteLine("usage: Backprop.Simd.Charts <results dir>... <output dir> [--job ID]; every results directory must exist.");
    return 2;
}

List<WorkRow> rows = [.. WorkRow.ReadAll(rest.SkipLast(1)).Where(r => r.Job == job && r.MedianNanoseconds > 0)];
string output = rest[^1];
Directory.CreateDirectory(output);
int status = 0;
foreach ((string name, Func<IReadOnlyList<WorkRow>, string, string?> draw) in new (string, Func<IReadOnlyList<WorkRow>, string, string?>)[]
    { ("roofline.png", RooflineChart.Save), ("ladder.png", LadderChart.Save) })
{
    string path = Path.Combine(output, name);
    string? missing = draw(rows, path);
    if (missing is null)
    {
        Console.WriteLine($"Wrote {path}");
    }
    else
    {
        Console.Error.WriteLine($"{name} not drawn: {missing}");
        status = 1;
    }
}

return status;
