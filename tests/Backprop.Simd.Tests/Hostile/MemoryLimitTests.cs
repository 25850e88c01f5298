using System.Diagnostics;
using Backprop.Simd.Cli;
using Backprop.Simd.Tests.Serialization;

namespace Backprop.Simd.Tests.Hostile;

/// <summary>
/// The built <c>backprop</c> run as a child process under a 1 GiB heap limit (<c>DOTNET_GCHeapHardLimit</c>), as in
/// a small container: requests that would exceed it are refused with one line and exit code 1, never an
/// <see cref="OutOfMemoryException"/>.
/// </summary>
public sealed class MemoryLimitTests : IDisposable
{
    private const string HeapLimit = "0x40000000"; // 1 GiB

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Exit, string Out, string Err) RunLimited(params string[] args) => RunUnderHeapLimit(HeapLimit, args);

    private static (int Exit, string Out, string Err) RunUnderHeapLimit(string heapLimit, params string[] args)
    {
        string apphost = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "backprop.exe" : "backprop");
        var start = File.Exists(apphost)
            ? new ProcessStartInfo(apphost)
            : new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "backprop.dll") } };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.Environment["DOTNET_GCHeapHardLimit"] = heapLimit;
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"backprop {string.Join(' ', args)} did not finish in 120 s under a heap limit of {heapLimit}");
        }

        return (process.ExitCode, output.Result, error.Result);
    }

    private static void AssertOneLine((int Exit, string Out, string Err) run, params string[] mentions)
    {
        Assert.True(run.Exit == BackpropCli.UserError, $"exit {run.Exit}: {run.Err}");
        string line = Assert.Single(run.Err.Trim().Split('\n'));
        Assert.DoesNotContain("OutOfMemory", line);
        Assert.DoesNotContain("internal error", line);
        foreach (string mention in mentions)
        {
            Assert.Contains(mention, line);
        }
    }

    [Fact]
    public void A_gzip_IDX_file_that_claims_over_a_gigabyte_is_rejected_for_what_it_holds()
    {
        // The bundled test set and labels, with training images whose gzip header claims 1.2 GB of floats.
        string bundled = Backprop.Simd.Tests.Data.BundledMnistTests.DataDirectory();
        foreach (string file in Directory.GetFiles(bundled, "*.gz"))
        {
            File.Copy(file, _dir.File(Path.GetFileName(file)));
        }

        (byte[] hostile, long declared) = HostileFileTests.LyingGzipImages(300_000);
        string images = _dir.File("train-images-idx3-ubyte.gz");
        File.WriteAllBytes(images, hostile);
        Assert.True(declared * sizeof(float) > (1L << 30), "the header must claim more than the heap limit");

        AssertOneLine(RunLimited("train", "--epochs", "1", "--data", _dir.Path), images, "is truncated: it ends after 300000 of the");
    }

    [Fact]
    public void A_network_larger_than_the_heap_limit_is_refused_saying_how_much_it_needs()
    {
        AssertOneLine(RunLimited("train", "--epochs", "1", "--sizes", "784,30000,30000,10"),
            "--sizes 784,30000,30000,10: the 923,880,010 parameters of [784, 30000, 30000, 10] need 3.4 GiB of memory, but this process has only");
        AssertOneLine(RunLimited("train", "--epochs", "1", "--sizes", "784,100000,10", "--optimizer", "adam"), "training [784, 100000, 10]", "need", "GiB of memory");
    }

    [Fact]
    public void Running_out_of_memory_anyway_is_one_line_and_exit_code_1()
    {
        // 4 MiB cannot even hold the bundled digits (7.8 MB of pixel bytes): whatever allocation fails, the CLI reports it in one line.
        var run = RunUnderHeapLimit("0x400000", "train", "--epochs", "1");
        Assert.True(run.Exit == BackpropCli.UserError, $"exit {run.Exit}: {run.Err}");
        string line = Assert.Single(run.Err.Trim().Split('\n'));
        Assert.Equal("backprop: out of memory: this process may use 4.0 MiB (physical memory, a container's limit or DOTNET_GCHeapHardLimit) and the command needed more. Try smaller --sizes or --batch-size, or smaller data.", line);
    }

    [Fact]
    public void Running_out_of_memory_in_a_command_without_sizes_suggests_nothing_it_lacks()
    {
        string model = _dir.File("m.json");
        Backprop.Simd.Serialization.ModelJson.Save(new Network([784, 10], seed: 1), model);
        var run = RunUnderHeapLimit("0x400000", "evaluate", "--model", model);
        Assert.True(run.Exit == BackpropCli.UserError, $"exit {run.Exit}: {run.Err}");
        string line = Assert.Single(run.Err.Trim().Split('\n'));
        Assert.StartsWith("backprop: out of memory: this process may use 4.0 MiB", line);
        Assert.EndsWith("the command needed more. Try a smaller model or smaller data.", line);
    }
}
