using System.Diagnostics;
using Backprop.Simd.IO;
using Backprop.Simd.Serialization;
using Backprop.Simd.Tests.Serialization;

namespace Backprop.Simd.Tests.Hostile;

/// <summary>A real SIGKILL in the middle of <c>backprop train --save</c>: no model is half-written, and the next save removes the temporary file.</summary>
public sealed class KilledSaveTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_save_killed_midway_leaves_no_model_and_its_temporary_file_goes_with_the_next_save()
    {
        Skip.IfWindows();
        string model = _dir.File("m.json");
        string apphost = Path.Combine(AppContext.BaseDirectory, "backprop");
        // [784, 2000, 10]: 1.6 million parameters, about 16 MB of JSON, so the save lasts long enough to be caught.
        var start = new ProcessStartInfo(apphost) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "train", "--epochs", "1", "--sizes", "784,2000,10", "--threads", "1", "--save", model })
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        _ = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string? temporary = null;
        var clock = Stopwatch.StartNew();
        while (temporary is null && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            // Non-empty: the CLI's check of the destination before training creates and deletes an empty probe too.
            temporary = Directory.GetFiles(_dir.Path, ".m.json.*.tmp").FirstOrDefault(f => LengthOf(f) > 0);
            if (temporary is null)
            {
                Thread.Sleep(1);
            }
        }

        Assert.NotNull(temporary); // else the save finished (or training failed) before it could be caught
        process.Kill(); // SIGKILL: no finally block, no cleanup
        process.WaitForExit();

        Assert.False(File.Exists(model), "a killed save must not leave a model behind");
        Assert.True(File.Exists(temporary), "the killed writer cannot remove its own temporary file");

        ModelJson.Save(new Network([784, 10], seed: 1), model); // the writer is gone, but its file is too fresh to tell
        Assert.Contains(Path.GetFileName(temporary), _dir.Entries());

        File.SetLastWriteTimeUtc(temporary, DateTime.UtcNow.AddSeconds(-(SafeFile.DeadWriterAfterSeconds + 2)));
        ModelJson.Save(new Network([784, 10], seed: 1), model); // the writer's process is gone and its file idle: stale
        Assert.Equal(["m.json"], _dir.Entries());
        Assert.Equal([784, 10], ModelJson.Load(model).Sizes.ToArray());
    }

    private static long LengthOf(string file)
    {
        try
        {
            return new FileInfo(file).Length;
        }
        catch (FileNotFoundException)
        {
            return 0; // deleted since it was listed
        }
    }
}
