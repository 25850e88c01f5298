using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Backprop.Simd.Data;

namespace Backprop.Simd.Tests.Data;

/// <summary>Loading a directory of the four MNIST files, on small synthetic directories.</summary>
public sealed class MnistDataTests : IDisposable
{
    private const int Rows = 2, Columns = 3, Pixels = Rows * Columns;
    private static readonly byte[] TrainLabels = [0, 1, 2, 3, 4, 5, 9];
    private static readonly byte[] TestLabels = [9, 8, 7];
    private static readonly byte[] TrainPixels = Idx.Pattern(TrainLabels.Length * Pixels, seed: 10);
    private static readonly byte[] TestPixels = Idx.Pattern(TestLabels.Length * Pixels, seed: 11);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string TrainImages => Path.Combine(_dir.Path, MnistData.TrainingImagesFile);

    private string TrainLabelsPath => Path.Combine(_dir.Path, MnistData.TrainingLabelsFile);

    private string TestImages => Path.Combine(_dir.Path, MnistData.TestImagesFile);

    private string TestLabelsPath => Path.Combine(_dir.Path, MnistData.TestLabelsFile);

    // Training images raw, training labels gzipped, test images gzipped, test labels raw: both kinds in one directory.
    private void WriteAll()
    {
        _dir.Write(MnistData.TrainingImagesFile, Idx.Images(TrainLabels.Length, Rows, Columns, TrainPixels));
        _dir.Write(MnistData.TrainingLabelsFile + ".gz", Idx.Gzip(Idx.Labels(TrainLabels)));
        _dir.Write(MnistData.TestImagesFile + ".gz", Idx.Gzip(Idx.Images(TestLabels.Length, Rows, Columns, TestPixels)));
        _dir.Write(MnistData.TestLabelsFile, Idx.Labels(TestLabels));
    }

    private static void AssertSamples(Dataset data, byte[] pixels, byte[] labels, int first)
    {
        for (int i = 0; i < data.Count; i++)
        {
            Assert.Equal(pixels.AsSpan((first + i) * Pixels, Pixels).ToArray().Select(p => p / 255f), data.Input(i).ToArray());
            Assert.Equal(labels[first + i], data.Label(i));
            float[] oneHot = new float[MnistData.ClassCount];
            oneHot[labels[first + i]] = 1f;
            Assert.Equal(oneHot, data.Target(i).ToArray());
        }
    }

    private static void AssertMentions(Exception error, params string[] mentions)
    {
        foreach (string text in mentions)
        {
            Assert.Contains(text, error.Message);
        }
    }

    [Fact]
    public void Loads_raw_and_gzipped_files_with_one_hot_targets()
    {
        WriteAll();

        MnistSplit split = MnistData.Load(_dir.Path);

        Assert.Equal(_dir.Path, split.Directory);
        Assert.Null(split.Validation);
        Assert.Equal(TrainLabels.Length, split.Training.Count);
        Assert.Equal(TestLabels.Length, split.Test.Count);
        Assert.Equal(Pixels, split.Training.InputSize);
        Assert.Equal(MnistData.ClassCount, split.Test.TargetSize);
        AssertSamples(split.Training, TrainPixels, TrainLabels, first: 0);
        AssertSamples(split.Test, TestPixels, TestLabels, first: 0);
    }

    [Fact]
    public void Raw_file_is_preferred_over_gzipped_one()
    {
        WriteAll();
        _dir.Write(MnistData.TrainingImagesFile + ".gz", [0x1F, 0x8B, 1, 2, 3]); // never read
        _dir.Write(MnistData.TrainingLabelsFile, Idx.Labels([.. TrainLabels.Reverse()]));

        MnistSplit split = MnistData.Load(_dir.Path);

        AssertSamples(split.Training, TrainPixels, [.. TrainLabels.Reverse()], first: 0);
    }

    [Fact]
    public void Validation_is_the_last_training_images_and_shares_the_buffer()
    {
        WriteAll();

        MnistSplit split = MnistData.Load(_dir.Path, validationCount: 2);

        Dataset training = split.Training, validation = split.Validation!;
        Assert.Equal(TrainLabels.Length - 2, training.Count);
        Assert.Equal(2, validation.Count);
        AssertSamples(training, TrainPixels, TrainLabels, first: 0);
        AssertSamples(validation, TrainPixels, TrainLabels, first: TrainLabels.Length - 2);
        // No copy: the first validation input follows the last training input in the same array of bytes.
        Assert.True(training.HoldsBytes && validation.HoldsBytes);
        ref byte afterLastTraining = ref Unsafe.Add(ref MemoryMarshal.GetReference(training.ByteInputs), training.Count * Pixels);
        Assert.True(Unsafe.AreSame(ref afterLastTraining, ref MemoryMarshal.GetReference(validation.ByteInputs)));
    }

    [Theory]
    [InlineData(-1, "at least 0")]
    [InlineData(7, "expected 0 to 6", "holds 7 training samples")]
    [InlineData(8, "validationCount is 8", "holds 7 training samples")]
    public void Validation_count_must_leave_some_training_data(int validationCount, params string[] mentions)
    {
        WriteAll();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => MnistData.Load(_dir.Path, validationCount));

        Assert.Equal("validationCount", error.ParamName);
        AssertMentions(error, mentions);
    }

    [Fact]
    public void Missing_directory_is_DirectoryNotFound_naming_it()
    {
        string missing = Path.Combine(_dir.Path, "nowhere");
        var error = Assert.Throws<DirectoryNotFoundException>(() => MnistData.Load(missing));
        AssertMentions(error, missing, "does not exist");
    }

    [Theory]
    [InlineData(MnistData.TrainingImagesFile)]
    [InlineData(MnistData.TrainingLabelsFile)]
    [InlineData(MnistData.TestImagesFile)]
    [InlineData(MnistData.TestLabelsFile)]
    public void Missing_file_is_FileNotFound_naming_it_and_the_names_tried(string name)
    {
        WriteAll();
        File.Delete(Path.Combine(_dir.Path, name));
        File.Delete(Path.Combine(_dir.Path, name + ".gz"));

        var error = Assert.Throws<FileNotFoundException>(() => MnistData.Load(_dir.Path));

        Assert.Equal(Path.Combine(_dir.Path, name), error.FileName);
        AssertMentions(error, _dir.Path, $"missing {name} (tried '{name}' and '{name}.gz')");
        foreach (string other in new[] { MnistData.TrainingImagesFile, MnistData.TrainingLabelsFile, MnistData.TestImagesFile, MnistData.TestLabelsFile }.Where(n => n != name))
        {
            Assert.DoesNotContain($"missing {other}", error.Message);
        }
    }

    [Fact]
    public void All_missing_files_are_named_at_once()
    {
        var error = Assert.Throws<FileNotFoundException>(() => MnistData.Load(_dir.Path));
        AssertMentions(error, MnistData.TrainingImagesFile, MnistData.TrainingLabelsFile, MnistData.TestImagesFile, MnistData.TestLabelsFile);
    }

    [Fact]
    public void Training_image_and_label_counts_must_agree()
    {
        WriteAll();
        _dir.Write(MnistData.TrainingImagesFile, Idx.Images(6, Rows, Columns, TrainPixels[..(6 * Pixels)]));

        var error = Assert.Throws<InvalidDataException>(() => MnistData.Load(_dir.Path));
        AssertMentions(error, $"'{TrainImages}' holds 6 images", $"'{TrainLabelsPath}.gz' holds 7 labels");
    }

    [Fact]
    public void Test_image_and_label_counts_must_agree()
    {
        WriteAll();
        _dir.Write(MnistData.TestLabelsFile, Idx.Labels([1, 2, 3, 4]));

        var error = Assert.Throws<InvalidDataException>(() => MnistData.Load(_dir.Path));
        AssertMentions(error, $"'{TestImages}.gz' holds 3 images", $"'{TestLabelsPath}' holds 4 labels");
    }

    [Fact]
    public void Training_and_test_images_must_have_the_same_size()
    {
        WriteAll();
        _dir.Write(MnistData.TestImagesFile + ".gz", Idx.Gzip(Idx.Images(TestLabels.Length, Columns, Rows, TestPixels)));

        var error = Assert.Throws<InvalidDataException>(() => MnistData.Load(_dir.Path));
        AssertMentions(error, $"'{TrainImages}' holds images of 2x3", $"'{TestImages}.gz' holds images of 3x2", "same size");
    }

    [Theory]
    [InlineData(true, 3, 10)]
    [InlineData(false, 2, 255)]
    public void Labels_must_be_0_to_9(bool training, int index, byte value)
    {
        WriteAll();
        byte[] labels = [.. training ? TrainLabels : TestLabels];
        labels[index] = value;
        string path = training
            ? _dir.Write(MnistData.TrainingLabelsFile, Idx.Labels(labels))
            : _dir.Write(MnistData.TestLabelsFile, Idx.Labels(labels));

        var error = Assert.Throws<InvalidDataException>(() => MnistData.Load(_dir.Path));
        AssertMentions(error, $"'{path}' has label {value} at index {index}", "expected 0 to 9");
    }

    [Fact]
    public void Malformed_files_are_reported_by_name()
    {
        WriteAll();
        byte[] images = Idx.Images(TestLabels.Length, Rows, Columns, TestPixels);
        _dir.Write(MnistData.TestImagesFile + ".gz", Idx.Gzip(images[..^1]));

        var error = Assert.Throws<InvalidDataException>(() => MnistData.Load(_dir.Path));
        AssertMentions(error, $"'{TestImages}.gz' is truncated");
    }
}
