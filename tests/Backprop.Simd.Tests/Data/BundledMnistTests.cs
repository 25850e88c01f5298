using System.Numerics.Tensors;
using Backprop.Simd.Data;

namespace Backprop.Simd.Tests.Data;

/// <summary>The bundled <c>data/mnist-10k</c> set loads as data/README.md describes it.</summary>
public class BundledMnistTests
{
    // Per-class counts from data/README.md.
    private static readonly int[] TrainingPerClass = [801, 902, 793, 826, 784, 691, 812, 856, 756, 783];
    private static readonly int[] TestPerClass = [200, 225, 198, 206, 196, 172, 202, 214, 188, 195];

    // The first key of a class with n digits is 0.5 / n, so both files open with the classes from largest to smallest.
    private static readonly int[] OpeningLabels = [1, 7, 3, 6, 0, 2, 4, 9, 8, 5];

    /// <summary>The repository's <c>data/mnist-10k</c>, found by walking up from the test binaries to the folder holding <c>Backprop.Simd.sln</c>.</summary>
    public static string DataDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Backprop.Simd.sln")))
            {
                return Path.Combine(dir.FullName, "data", "mnist-10k");
            }
        }

        throw new DirectoryNotFoundException($"No folder above '{AppContext.BaseDirectory}' holds Backprop.Simd.sln.");
    }

    private static int[] CountPerClass(Dataset data) => CountPerClass(data, 0, data.Count);

    private static int[] CountPerClass(Dataset data, int start, int count)
    {
        var counts = new int[MnistData.ClassCount];
        for (int i = start; i < start + count; i++)
        {
            counts[data.Label(i)]++;
        }

        return counts;
    }

    private static (float Min, float Max) PixelRange(Dataset data)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int i = 0; i < data.Count; i++)
        {
            min = Math.Min(min, TensorPrimitives.Min(data.Input(i)));
            max = Math.Max(max, TensorPrimitives.Max(data.Input(i)));
        }

        return (min, max);
    }

    [Fact]
    public void Loads_8004_training_and_1996_test_images_of_28x28()
    {
        string directory = DataDirectory();
        MnistSplit split = MnistData.Load(directory);

        Assert.Equal(8004, split.Training.Count);
        Assert.Equal(1996, split.Test.Count);
        Assert.Null(split.Validation);
        IdxImages test = IdxReader.ReadImages(Path.Combine(directory, MnistData.TestImagesFile + ".gz"));
        Assert.Equal((1996, 28, 28), (test.Count, test.Rows, test.Columns));
        foreach (Dataset data in new[] { split.Training, split.Test })
        {
            Assert.Equal(28 * 28, data.InputSize);
            Assert.Equal(10, data.TargetSize);
            Assert.Equal((0f, 1f), PixelRange(data));
        }

        // Every class present in both, with the README's counts (CountPerClass would throw on a label outside 0-9).
        Assert.Equal(TrainingPerClass, CountPerClass(split.Training));
        Assert.Equal(TestPerClass, CountPerClass(split.Test));
        Assert.All(CountPerClass(split.Test), n => Assert.True(n > 0));
        // Both files are interleaved in proportion to class size (data/README.md), opening with two rounds of 1, 7, 3, ..., 5.
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(OpeningLabels[i % 10], split.Training.Label(i));
            Assert.Equal(OpeningLabels[i % 10], split.Test.Label(i));
        }
    }

    [Fact]
    public void Training_order_keeps_every_class_in_proportion_at_both_ends()
    {
        MnistSplit split = MnistData.Load(DataDirectory(), validationCount: 1000);
        int total = split.Training.Count + split.Validation!.Count;

        // The first 100 training images already hold every class.
        Assert.All(CountPerClass(split.Training, 0, 100), n => Assert.True(n > 0));

        // The held-out last 1,000 hold every class within 30% of its share of all 8,004 training images.
        int[] validation = CountPerClass(split.Validation);
        for (int label = 0; label < MnistData.ClassCount; label++)
        {
            double expected = 1000.0 * TrainingPerClass[label] / total;
            Assert.InRange(validation[label], 0.7 * expected, 1.3 * expected);
        }
    }

    [Fact]
    public void Validation_split_of_1000_is_the_last_1000_training_images()
    {
        string directory = DataDirectory();
        Dataset all = MnistData.Load(directory).Training;
        MnistSplit split = MnistData.Load(directory, validationCount: 1000);

        Assert.Equal(7004, split.Training.Count);
        Assert.Equal(1000, split.Validation!.Count);
        Assert.Equal(1996, split.Test.Count);
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(all.Label(7004 + i), split.Validation.Label(i));
            Assert.True(all.Input(7004 + i).SequenceEqual(split.Validation.Input(i)), $"validation input {i}");
        }

        Assert.True(all.Input(7003).SequenceEqual(split.Training.Input(7003)));
    }

    [Fact]
    public void LoadBundled_reads_the_same_digits_as_the_data_directory()
    {
        MnistSplit files = MnistData.Load(DataDirectory(), validationCount: 1000);
        MnistSplit bundled = MnistData.LoadBundled(validationCount: 1000);

        Assert.Null(bundled.Directory);
        foreach ((Dataset? expected, Dataset? actual) in new[] { (files.Training, bundled.Training), (files.Validation, bundled.Validation), (files.Test, bundled.Test) })
        {
            Assert.NotNull(expected);
            Assert.NotNull(actual);
            Assert.Equal((expected.Count, expected.InputSize, expected.TargetSize), (actual.Count, actual.InputSize, actual.TargetSize));
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected.Label(i), actual.Label(i));
                Assert.True(expected.Input(i).SequenceEqual(actual.Input(i)), $"input {i} differs");
                Assert.True(expected.Target(i).SequenceEqual(actual.Target(i)), $"target {i} differs");
            }
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(8004)]
    public void LoadBundled_rejects_a_validation_count_outside_0_to_8003(int validationCount)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => MnistData.LoadBundled(validationCount));
        Assert.Equal("validationCount", e.ParamName);
        Assert.Equal(7004, MnistData.LoadBundled(1000).Training.Count);
    }
}
