using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Backprop.Simd.Cli;
using Backprop.Simd.IO;
using Backprop.Simd.Serialization;
using Backprop.Simd.Tests.Serialization;
using Backprop.Simd.Runtime;
using static Backprop.Simd.Tests.Cli.CliRunner;

namespace Backprop.Simd.Tests.Hostile;

/// <summary>
/// The command line against hostile input and careless use: every case exits with code 1 and one line on stderr
/// naming the file or option, with no stack trace, nothing written and no temporary file left behind.
/// </summary>
public sealed class HostileCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Asserts the run was a user error reported in one line that mentions every one of <paramref name="mentions"/>.</summary>
    private static void AssertOneLineUserError((int Exit, string Out, string Err) run, params string[] mentions)
    {
        Assert.True(run.Exit == BackpropCli.UserError, $"exit {run.Exit}: {run.Err}");
        string line = Assert.Single(run.Err.Trim().Split('\n'));
        Assert.StartsWith("backprop: ", line);
        Assert.DoesNotContain("   at ", run.Err);
        Assert.DoesNotContain("internal error", line);
        foreach (string mention in mentions)
        {
            Assert.Contains(mention, line);
        }

        Assert.DoesNotContain("Epoch 0:", run.Out);
    }

    private string SmallModel()
    {
        string path = _dir.File("small.json");
        ModelJson.Save(new Network([784, 10], seed: 1), path);
        return path;
    }

    [Fact]
    public void A_model_with_invalid_UTF8_is_a_user_error_naming_the_file()
    {
        string path = _dir.File("bad.json");
        File.WriteAllBytes(path, [.. "{\"sizes\":[1,1],\"weights\":[[[1]]],\"biases\":[[[1]]],\"cost\":\""u8, 0xFF, .. "\"}"u8]);
        AssertOneLineUserError(Run("info", "--model", path), path, "not valid UTF-8");
    }

    [Fact]
    public void Directories_files_and_devices_in_the_wrong_place_are_called_what_they_are()
    {
        AssertOneLineUserError(Run("info", "--model", _dir.Path), $"'{_dir.Path}' is a directory, expected a model file.");
        string file = SmallModel();
        AssertOneLineUserError(Run("train", "--epochs", "1", "--data", file), $"'{file}' is a file, expected a directory");
        AssertOneLineUserError(Run("info", "--model", _dir.File("missing.json")), "missing.json", "does not exist");

        Skip.IfWindows();
        string fifo = _dir.File("model.fifo");
        SpecialFiles.MakeFifo(fifo);
        AssertOneLineUserError(Run("info", "--model", fifo), "is a FIFO (named pipe), not a regular file");
        string zero = _dir.File("zero");
        if (SpecialFiles.TryMakeZeroDevice(zero))
        {
            AssertOneLineUserError(Run("info", "--model", zero), $"'{zero}' is a character device");
        }
    }

    [Fact]
    public void Absurd_sizes_batch_sizes_and_thread_counts_are_refused_before_allocating_or_finish()
    {
        AssertOneLineUserError(Run("train", "--epochs", "1", "--sizes", "784,100000000,10"), "--sizes 784,100000000,10", "79,500,000,010 parameters", "296.2 GiB");
        string tooMany = (TrainingOptions.MaxThreads + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        AssertOneLineUserError(Run("train", "--epochs", "1", "--threads", tooMany), $"--threads must be a whole number from 1 to {TrainingOptions.MaxThreads}, but was '{tooMany}'");

        var huge = Run("train", "--epochs", "1", "--batch-size", "10000000", "--sizes", "784,10");
        Assert.True(huge.Exit == 0, huge.Err);
        Assert.Contains("Epoch 0:", huge.Out);
    }

    [Fact]
    public void A_destination_that_cannot_be_written_is_reported_before_training()
    {
        string missing = Path.Combine(_dir.Path, "no-such-dir", "model.json");
        // AssertOneLineUserError also checks that no epoch ran before the error.
        AssertOneLineUserError(Run("train", "--epochs", "30", "--save", missing), $"--save: Cannot write '{missing}': the directory", "does not exist");
        AssertOneLineUserError(Run("train", "--epochs", "30", "--plot", Path.Combine(_dir.Path, "no-such-dir", "p.png")), "--plot: Cannot write");

        string model = SmallModel();
        AssertOneLineUserError(Run("export", "--model", model, "--onnx", Path.Combine(_dir.Path, "no-such-dir", "m.onnx")), "m.onnx", "does not exist");
        Assert.DoesNotContain(".tmp", string.Join(",", _dir.Entries()));
    }

    [Fact]
    public void Saving_onto_a_FIFO_or_a_device_is_refused_and_leaves_it_in_place()
    {
        Skip.IfWindows();
        string fifo = _dir.File("model.json"), plot = _dir.File("plot.png"), onnx = _dir.File("m.onnx"), full = _dir.File("full");
        SpecialFiles.MakeFifo(fifo);
        SpecialFiles.MakeFifo(plot);
        SpecialFiles.MakeFifo(onnx);
        string model = _dir.File("small.json");
        ModelJson.Save(new Network([784, 10], seed: 1), model);

        AssertOneLineUserError(Run("train", "--epochs", "1", "--save", fifo), $"--save: Cannot write '{fifo}': it is a FIFO (named pipe)");
        AssertOneLineUserError(Run("train", "--epochs", "1", "--plot", plot), "--plot: Cannot write", "FIFO");
        AssertOneLineUserError(Run("export", "--model", model, "--onnx", onnx), "FIFO");
        AssertOneLineUserError(Run("import", "--onnx", model, "--save", fifo), "FIFO");
        if (SpecialFiles.TryMakeFullDevice(full))
        {
            AssertOneLineUserError(Run("train", "--epochs", "1", "--save", full), "it is a character device");
            Assert.Equal("a character device", SafeFile.KindOf(full));
        }

        Assert.Equal("a FIFO (named pipe)", SafeFile.KindOf(fifo));
        Assert.Equal("a FIFO (named pipe)", SafeFile.KindOf(plot));
        Assert.DoesNotContain(".tmp", string.Join(",", _dir.Entries()));
    }

    /// <summary>The first 33 bytes of a PNG: signature and an IHDR chunk declaring <paramref name="width"/> x <paramref name="height"/>.</summary>
    private static byte[] PngHeader(uint width, uint height)
    {
        var bytes = new byte[33];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 }.CopyTo(bytes, 0);
        "IHDR"u8.CopyTo(bytes.AsSpan(12));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), width);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), height);
        bytes[24] = 8; // bit depth; colour type 0 (gray); the CRC is left 0, so a decoder would reject the chunk
        return bytes;
    }

    [Theory]
    [InlineData(100_000u, 100_000u)]
    [InlineData(10_000u, 10_000u)]
    [InlineData(28u, 29u)]
    public void A_PNG_whose_header_declares_another_size_is_refused_before_decoding(uint width, uint height)
    {
        string model = SmallModel(), png = _dir.File("digit.png");
        File.WriteAllBytes(png, PngHeader(width, height));
        AssertOneLineUserError(Run("predict", "--model", model, "--image", png), png, $"is {width}x{height} pixels (its PNG header says so), expected 28x28");
    }

    [Fact]
    public void A_file_that_is_not_a_PNG_or_is_damaged_is_a_user_error()
    {
        string model = SmallModel(), png = _dir.File("digit.png");
        File.WriteAllBytes(png, Encoding.ASCII.GetBytes("GIF89a and then some"));
        AssertOneLineUserError(Run("predict", "--model", model, "--image", png), "is not an image this program can read: expected a PNG file");
        File.WriteAllBytes(png, PngHeader(28, 28));
        AssertOneLineUserError(Run("predict", "--model", model, "--image", png), "is not an image this program can read: its PNG data is damaged");
    }
}
