using System.Diagnostics;
using System.Text;
using Backprop.Simd.Data;
using Backprop.Simd.IO;
using Backprop.Simd.Onnx;
using Backprop.Simd.Serialization;
using Backprop.Simd.Tests.Data;
using Backprop.Simd.Tests.Serialization;
using TempDirectory = Backprop.Simd.Tests.Serialization.TempDirectory;

namespace Backprop.Simd.Tests.Hostile;

/// <summary>
/// Hostile and careless files for the readers and writers: invalid UTF-8, devices, FIFOs, directories, missing
/// directories, temporary files left by killed saves, and gzip headers that declare far more than they hold.
/// </summary>
public sealed class HostileFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly Network Small = new([3, 2, 2], seed: 1);

    private static byte[] Json(string text) => Encoding.Latin1.GetBytes(text); // \u00XX -> the byte XX, so tests can write invalid UTF-8

    public static TheoryData<string, string> InvalidUtf8Models => new()
    {
        { "{\"sizes\":[1,1],\"weights\":[[[1]]],\"biases\":[[[1]]],\"cost\":\"\u00FF\"}", "not valid UTF-8 at line 1, byte 59: 0xFF" },
        { "{\"sizes\":[1,1],\"weights\":[[[1]]],\"biases\":[[[1]]],\"cost\":\"QuadraticCost\",\"activations\":[\"\u00C3\"]}", "not valid UTF-8" },
        { "{\"sizes\":[1,1],\"weights\":[[[1]]],\"biases\":[[[1]]],\"cost\":\"QuadraticCost\",\"\u00FE\":1}", "0xFE" },
        { "{\"sizes\":[1,1],\n\"weights\":[[[\"\u00FF\"]]],\"biases\":[[[1]]],\"cost\":\"QuadraticCost\"}", "line 2, byte 15" },
        { "{\"sizes\":[1,1],\"weights\":[[[1]]],\"biases\":[[[1]]],\"cost\":\"\\uD800\"}", "holds a JSON string that is not valid text" },
        { "{\"sizes\":[1,1],\"\\uD800\":1,\"weights\":[[[1]]],\"biases\":[[[1]]],\"cost\":\"QuadraticCost\"}", "holds a JSON string that is not valid text" }, // a key, found by the fuzzer
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8Models))]
    public void Invalid_UTF8_anywhere_in_a_model_is_an_InvalidDataException_naming_the_file(string text, string mention)
    {
        string path = _dir.File("bad.json");
        File.WriteAllBytes(path, Json(text));

        var e = Assert.Throws<InvalidDataException>(() => ModelJson.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(mention, e.Message);
        Assert.Throws<InvalidDataException>(() => ModelJson.Read(new MemoryStream(Json(text)), "stream"));
    }

    [Fact]
    public void Control_characters_from_a_file_are_escaped_so_that_every_message_stays_on_one_line()
    {
        string json = """{"sizes":[1,1],"weights":[[[1]]],"biases":[[[1]]],"cost":"QuadraticCost","activations":["a\nb\u001b[31m"]}""";
        var e = Assert.Throws<InvalidDataException>(() => ModelJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "m.json"));
        Assert.Equal("""m.json: $.activations[0] is "a\u000Ab\u001B[31m", expected one of "sigmoid", "tanh", "relu", "leaky-relu", "identity", "softmax", "elu", "gelu", "silu", "log-softmax", or "leaky-relu:SLOPE" with a SLOPE from -1 to 1 (e.g. "leaky-relu:0.2").""", e.Message);

        // System.Text.Json quotes an invalid literal with what follows it, line breaks included (found by the long fuzzing run).
        var literal = Assert.Throws<InvalidDataException>(() => ModelJson.Read(new MemoryStream("{\"sizes\": f\n[1, 1]}"u8.ToArray()), "m.json"));
        Assert.DoesNotContain('\n', literal.Message);
        Assert.StartsWith("m.json: not valid JSON at line 1, byte 12: ", literal.Message);
        Assert.Contains(@"\u000A", literal.Message);

        // ONNX models with one occurrence of the value name "input" changed to "in\nut" (same length, so every length
        // prefix still holds): where it breaks the chain, the message names it on one line.
        byte[] onnx = OnnxModel.ToBytes(Small);
        int rejected = 0, naming = 0;
        for (int at = onnx.AsSpan().IndexOf("input"u8); at >= 0; at = NextIndex(onnx, "input"u8, at + 1))
        {
            byte[] changed = (byte[])onnx.Clone();
            "in\nut"u8.CopyTo(changed.AsSpan(at));
            if (Record.Exception(() => OnnxModel.Parse(changed, "m.onnx")) is InvalidDataException onnxError)
            {
                rejected++;
                Assert.DoesNotContain('\n', onnxError.Message);
                naming += onnxError.Message.Contains(@"in\u000Aut", StringComparison.Ordinal) ? 1 : 0; // some name only the value left unchanged
            }
        }

        Assert.True(rejected > 0, "no occurrence of \"input\" broke the graph");
        Assert.True(naming > 0, "no message named the changed value");
    }

    private static int NextIndex(byte[] bytes, ReadOnlySpan<byte> value, int from)
    {
        int found = bytes.AsSpan(from).IndexOf(value);
        return found < 0 ? -1 : from + found;
    }

    [Fact]
    public async Task A_directory_a_FIFO_or_a_device_is_refused_as_a_model_without_reading_it()
    {
        Skip.IfWindows();
        string fifo = _dir.File("model.fifo"), zero = _dir.File("zero");
        SpecialFiles.MakeFifo(fifo);
        bool haveDevice = SpecialFiles.TryMakeZeroDevice(zero);

        var directory = Assert.Throws<IOException>(() => ModelJson.Load(_dir.Path));
        Assert.Equal($"'{_dir.Path}' is a directory, expected a model file.", directory.Message);

        // Opening a FIFO for reading would block until a writer comes: the check must come first.
        Task<Exception?> load = Task.Run(() => Record.Exception(() => ModelJson.Load(fifo)), TestContext.Current.CancellationToken);
        Assert.Same(load, await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken))); // else it hung
        Assert.Contains("is a FIFO (named pipe), not a regular file", Assert.IsType<IOException>(await load).Message);
        Assert.Contains("FIFO", Assert.Throws<IOException>(() => OnnxModel.Load(fifo)).Message);
        Assert.Contains("FIFO", Assert.Throws<IOException>(() => IdxReader.ReadLabels(fifo)).Message);
        if (haveDevice)
        {
            Assert.Contains("is a character device", Assert.Throws<IOException>(() => ModelJson.Load(zero)).Message);
            Assert.Contains("is a character device", Assert.Throws<IOException>(() => IdxReader.ReadImages(zero)).Message);
        }
    }

    [Fact]
    public void Reads_stop_at_the_size_limit_and_allocate_only_what_the_file_holds()
    {
        string path = _dir.File("big.json");
        File.WriteAllBytes(path, new byte[5000]);

        var e = Assert.Throws<InvalidDataException>(() => SafeFile.ReadAll(path, maxBytes: 4096, "model"));
        Assert.Equal($"{path}: the file has 5000 bytes, more than the 4096 bytes a model file may have.", e.Message);
        Assert.Equal(5000, SafeFile.ReadAll(path, maxBytes: 5000, "model").Length);
        Assert.Equal(1 << 30, ModelJson.MaxFileBytes);
    }

    [Fact]
    public void Saving_onto_a_FIFO_or_a_device_refuses_and_leaves_it_as_it_was()
    {
        Skip.IfWindows();
        string fifo = _dir.File("model.json"), onnx = _dir.File("model.onnx"), full = _dir.File("full");
        SpecialFiles.MakeFifo(fifo);
        SpecialFiles.MakeFifo(onnx);
        bool haveDevice = SpecialFiles.TryMakeFullDevice(full);

        var e = Assert.Throws<IOException>(() => ModelJson.Save(Small, fifo));
        Assert.Equal($"Cannot write '{fifo}': it is a FIFO (named pipe), and only a regular file is ever replaced.", e.Message);
        Assert.Contains("FIFO", Assert.Throws<IOException>(() => OnnxModel.Save(Small, onnx)).Message);
        Assert.Equal("a FIFO (named pipe)", SafeFile.KindOf(fifo));
        Assert.Equal("a FIFO (named pipe)", SafeFile.KindOf(onnx));
        if (haveDevice)
        {
            Assert.Contains("it is a character device", Assert.Throws<IOException>(() => ModelJson.Save(Small, full)).Message);
            Assert.Equal("a character device", SafeFile.KindOf(full));
        }

        Assert.DoesNotContain(_dir.Entries(), name => name.EndsWith(".tmp", StringComparison.Ordinal));
        string directory = _dir.File("sub.json");
        Directory.CreateDirectory(directory);
        Assert.Equal($"Cannot write '{directory}': it is a directory, expected a file.", Assert.Throws<IOException>(() => ModelJson.Save(Small, directory)).Message);
    }

    [Fact]
    public void Only_the_known_non_regular_file_types_are_refused_and_an_unknown_type_is_allowed()
    {
        Skip.IfWindows();
        Assert.True(SafeFile.StatLayoutKnown.Value, "the runtime's stat layout no longer matches: KindOf cannot tell any type");
        Assert.Equal("a directory", SafeFile.KindOf(_dir.Path));
        string regular = _dir.File("regular.json");
        File.WriteAllText(regular, "{}");
        Assert.Null(SafeFile.KindOf(regular));

        Assert.Null(SafeFile.KindOfMode(0x8000 | 0x1A4)); // a regular file, rw-r--r--
        Assert.Equal("a block device", SafeFile.KindOfMode(0x6000 | 0x1B0));
        Assert.Equal("a socket", SafeFile.KindOfMode(0xC000 | 0x1ED));
        Assert.Null(SafeFile.KindOfMode(0xE000)); // a type this code does not know (BSD's whiteout): cannot tell, allowed
        Assert.Null(SafeFile.KindOfMode(0x0000)); // nor a mode read from a changed layout
    }

    [Fact]
    public void A_missing_directory_is_named_as_the_user_wrote_it_and_checked_before_any_work()
    {
        string path = Path.Combine(_dir.Path, "missing", "model.json");

        var e = Assert.Throws<DirectoryNotFoundException>(() => ModelJson.Save(Small, path));
        Assert.Equal($"Cannot write '{path}': the directory '{Path.GetDirectoryName(path)}' does not exist.", e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => SafeFile.CheckWritable(path));
        Assert.Throws<DirectoryNotFoundException>(() => OnnxModel.Save(Small, path));
        string onFile = Path.Combine(_dir.File("plain"), "model.json");
        File.WriteAllText(_dir.File("plain"), "x");
        Assert.Contains("is a file, not a directory", Assert.Throws<IOException>(() => SafeFile.CheckWritable(onFile)).Message);

        SafeFile.CheckWritable(_dir.File("fine.json"));
        Assert.Equal(["plain"], _dir.Entries()); // the probe leaves nothing behind
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_read_only_directory_is_reported_before_any_work_naming_the_users_path()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "Unix permissions");
        Assert.SkipWhen(SpecialFiles.IsRoot, "root writes into read-only directories");
        string readOnly = Path.Combine(_dir.Path, "ro");
        Directory.CreateDirectory(readOnly);
        File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            string path = Path.Combine(readOnly, "model.json");
            var e = Assert.Throws<UnauthorizedAccessException>(() => SafeFile.CheckWritable(path));
            Assert.Equal($"Cannot write '{path}': the directory '{readOnly}' is not writable.", e.Message);
            Assert.Equal(e.Message, Assert.Throws<UnauthorizedAccessException>(() => ModelJson.Save(Small, path)).Message);
        }
        finally
        {
            File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void A_save_removes_the_temporary_files_killed_saves_of_the_same_target_left()
    {
        string target = _dir.File("m.json");
        int deadPid = ExitedProcessId();
        string guid() => Guid.NewGuid().ToString("N");
        string deadWriter = _dir.File($".m.json.{deadPid}.{guid()}.tmp");
        string deadWriterFresh = _dir.File($".m.json.{deadPid}.{guid()}.tmp"); // maybe a live writer in another PID namespace
        string liveWriter = _dir.File($".m.json.{Environment.ProcessId}.{guid()}.tmp"); // this process: kept while fresh
        string oldFormatStale = _dir.File($".m.json.{guid()}.tmp");
        string oldFormatFresh = _dir.File($".m.json.{guid()}.tmp");
        string otherTarget = _dir.File($".other.json.{deadPid}.{guid()}.tmp");
        string notOurs = _dir.File(".m.json.notes.tmp");
        foreach (string file in new[] { deadWriter, deadWriterFresh, liveWriter, oldFormatStale, oldFormatFresh, otherTarget, notOurs })
        {
            File.WriteAllText(file, "partial");
        }

        File.SetLastWriteTimeUtc(oldFormatStale, DateTime.UtcNow.AddSeconds(-(SafeFile.StaleAfterSeconds + 60)));
        File.SetLastWriteTimeUtc(deadWriter, DateTime.UtcNow.AddSeconds(-(SafeFile.DeadWriterAfterSeconds + 2))); // idle, but not stale

        ModelJson.Save(Small, target);

        string[] left = _dir.Entries();
        Assert.DoesNotContain(Path.GetFileName(deadWriter), left);
        Assert.Contains(Path.GetFileName(deadWriterFresh), left);
        Assert.DoesNotContain(Path.GetFileName(oldFormatStale), left);
        Assert.Contains(Path.GetFileName(liveWriter), left);
        Assert.Contains(Path.GetFileName(oldFormatFresh), left);
        Assert.Contains(Path.GetFileName(otherTarget), left);
        Assert.Contains(Path.GetFileName(notOurs), left);
        Assert.Equal(Small.Parameters.ToArray(), ModelJson.Load(target).Parameters.ToArray());

        File.SetLastWriteTimeUtc(liveWriter, DateTime.UtcNow.AddSeconds(-(SafeFile.StaleAfterSeconds + 60)));
        OnnxModel.Save(Small, _dir.File("m.onnx"));
        Assert.Contains(Path.GetFileName(liveWriter), _dir.Entries()); // another target's save leaves it alone
        ModelJson.Save(Small, target);
        Assert.DoesNotContain(Path.GetFileName(liveWriter), _dir.Entries());
    }

    // The id of a process that has exited (ids are reused only after wrapping around, far beyond one test).
    private static int ExitedProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", "--version") { RedirectStandardOutput = true })!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.Id;
    }

    [Fact]
    public void A_file_given_as_the_data_directory_is_called_a_file()
    {
        string file = _dir.File("images");
        File.WriteAllText(file, "not a directory");

        var e = Assert.Throws<IOException>(() => MnistData.Load(file));
        Assert.Equal($"MNIST data directory '{file}' is a file, expected a directory holding the four IDX files.", e.Message);
        Assert.IsType<DirectoryNotFoundException>(Record.Exception(() => MnistData.Load(_dir.File("nothing"))));
    }

    /// <summary>
    /// A gzip IDX file of random (incompressible) bytes whose header declares the most its compressed length allows:
    /// about 1032 times what it holds. Returns the file's bytes and the declared data length.
    /// </summary>
    internal static (byte[] File, long Declared) LyingGzipImages(int payload)
    {
        byte[] data = Idx.Pattern(payload, seed: 7);
        byte[] probe = Idx.Gzip(Idx.Images(1, 28, 28, data));
        int count = (int)((long)probe.Length * IdxReader.MaxDeflateRatio / 784) - 1;
        return (Idx.Gzip(Idx.Images(count, 28, 28, data)), (long)count * 784);
    }

    [Fact]
    public void A_gzip_header_that_declares_more_than_the_data_holds_allocates_only_what_arrives()
    {
        (byte[] file, long declared) = LyingGzipImages(300_000);
        Assert.True(declared * sizeof(float) > 1_000_000_000, $"the header should claim over 1 GB of floats, claims {declared * 4}");
        string path = _dir.File("train-images-idx3-ubyte.gz");
        File.WriteAllBytes(path, file);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("is truncated: it ends after 300000 of the", e.Message);
        Assert.True(allocated < 16_000_000, $"allocated {allocated:N0} bytes for a file that holds 300,000");

        byte[] labelsFile = Idx.Gzip([.. Idx.Header(Idx.LabelsMagic, 300_000_000), .. Idx.Pattern(300_000, seed: 8)]);
        before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(new MemoryStream(labelsFile), "labels"));
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16_000_000, $"allocated {allocated:N0} bytes for labels that hold 300,000");
    }

    [Fact]
    public void Gzip_data_larger_than_the_first_allocation_still_reads_exactly()
    {
        byte[] pixels = Idx.Pattern(4000 * 784, seed: 9); // about three times the first allocation, so the array grows twice
        IdxImages images = IdxReader.ReadImages(new MemoryStream(Idx.Gzip(Idx.Images(4000, 28, 28, pixels))), "grown");
        Assert.Equal(4000, images.Count);
        float[] expected = pixels.Select(b => b / 255f).ToArray();
        Assert.Equal(expected, images.Pixels.ToArray());

        byte[] labels = Idx.Pattern(2_500_000, seed: 10);
        Assert.Equal(labels, IdxReader.ReadLabels(new MemoryStream(Idx.Gzip(Idx.Labels(labels))), "labels"));
    }
}

/// <summary>Skips a test on Windows, which has no device nodes or FIFOs among ordinary paths.</summary>
internal static class Skip
{
    public static void IfWindows() => Assert.SkipWhen(OperatingSystem.IsWindows(), "device nodes and FIFOs are Unix files");
}
