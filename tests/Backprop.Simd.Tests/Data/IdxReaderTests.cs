using Backprop.Simd.Data;

namespace Backprop.Simd.Tests.Data;

/// <summary>IDX files round-trip, raw or gzipped, and every malformed file gets an InvalidDataException naming the file and the problem.</summary>
public sealed class IdxReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void AssertMentions(Exception error, params string[] mentions)
    {
        foreach (string text in mentions)
        {
            Assert.Contains(text, error.Message);
        }
    }

    private static InvalidDataException RejectsImages(string path, params string[] mentions)
    {
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        AssertMentions(error, [path, .. mentions]);
        return error;
    }

    private static InvalidDataException RejectsLabels(string path, params string[] mentions)
    {
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path));
        AssertMentions(error, [path, .. mentions]);
        return error;
    }

    private static long AllocatedBy(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    // ---- round trips ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_round_trip(bool gzip)
    {
        const int count = 5, rows = 3, columns = 7;
        byte[] pixels = Idx.Pattern(count * rows * columns, seed: 1);
        string path = _dir.Write("images.idx", Idx.MaybeGzip(Idx.Images(count, rows, columns, pixels), gzip));

        IdxImages images = IdxReader.ReadImages(path);

        Assert.Equal((count, rows, columns), (images.Count, images.Rows, images.Columns));
        Assert.Equal(rows * columns, images.PixelsPerImage);
        Assert.Equal(pixels.Length, images.Pixels.Length);
        for (int i = 0; i < pixels.Length; i++)
        {
            Assert.Equal(pixels[i] / 255f, images.Pixels[i]);
        }

        Assert.Equal(0f, images.Pixels[0]);
        Assert.Equal(1f, images.Pixels[^1]);
        Assert.Equal(images.Pixels.AsSpan(2 * rows * columns, rows * columns).ToArray(), images.Image(2).ToArray());
    }

    [Fact]
    public void Every_byte_value_scales_to_exactly_byte_over_255_at_every_length()
    {
        byte[] bytes = new byte[700];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)((i * 7) + (i / 256)); // every value, in varying order
        }

        for (int length = 0; length <= bytes.Length; length += length < 300 ? 1 : 37)
        {
            float[] pixels = new float[length];
            IdxReader.ScaleToUnit(bytes.AsSpan(0, length), pixels);
            for (int i = 0; i < length; i++)
            {
                Assert.Equal(bytes[i] / 255f, pixels[i]);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Labels_round_trip_and_any_byte_is_a_label(bool gzip)
    {
        byte[] labels = [0, 9, 3, 10, 200, 255, 7];
        string path = _dir.Write("labels.idx", Idx.MaybeGzip(Idx.Labels(labels), gzip));

        Assert.Equal(labels, IdxReader.ReadLabels(path));
    }

    [Fact]
    public void Gzip_is_recognised_by_its_magic_bytes_not_the_file_name()
    {
        byte[] labels = [1, 2, 3];
        string rawNamedGz = _dir.Write("raw-labels.gz", Idx.Labels(labels));
        string gzipNamedRaw = _dir.Write("gzipped-labels-idx1-ubyte", Idx.Gzip(Idx.Labels(labels)));

        Assert.Equal(labels, IdxReader.ReadLabels(rawNamedGz));
        Assert.Equal(labels, IdxReader.ReadLabels(gzipNamedRaw));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Streams_that_cannot_seek_are_read_and_left_open(bool gzip)
    {
        byte[] pixels = Idx.Pattern(4 * 5 * 6, seed: 2);
        using var imageStream = new ForwardOnlyStream(Idx.MaybeGzip(Idx.Images(4, 5, 6, pixels), gzip));
        using var labelStream = new ForwardOnlyStream(Idx.MaybeGzip(Idx.Labels([4, 2]), gzip));

        IdxImages images = IdxReader.ReadImages(imageStream, "pipe");
        byte[] labels = IdxReader.ReadLabels(labelStream, "pipe");

        Assert.Equal(pixels.Select(p => p / 255f).ToArray(), images.Pixels);
        Assert.Equal([4, 2], labels);
        Assert.False(imageStream.Disposed);
        Assert.False(labelStream.Disposed);
    }

    [Fact]
    public void Streams_are_read_from_their_current_position()
    {
        byte[] file = [0xAA, 0xBB, .. Idx.Gzip(Idx.Labels([5, 6, 7]))];
        using var stream = new MemoryStream(file);
        stream.Position = 2;

        Assert.Equal([5, 6, 7], IdxReader.ReadLabels(stream, "offset"));
    }

    // ---- rejections ----

    [Fact]
    public void Missing_file_is_FileNotFound_naming_the_path()
    {
        string path = Path.Combine(_dir.Path, "no-such-images");
        FileNotFoundException images = Assert.Throws<FileNotFoundException>(() => IdxReader.ReadImages(path));
        FileNotFoundException labels = Assert.Throws<FileNotFoundException>(() => IdxReader.ReadLabels(path));
        Assert.Equal(path, images.FileName);
        AssertMentions(images, path, "does not exist");
        AssertMentions(labels, path, "does not exist");
    }

    [Fact]
    public void Null_and_empty_arguments_are_rejected()
    {
        Assert.Throws<ArgumentNullException>(() => IdxReader.ReadImages((string)null!));
        Assert.Throws<ArgumentException>(() => IdxReader.ReadLabels(""));
        Assert.Throws<ArgumentNullException>(() => IdxReader.ReadImages(null!, "name"));
        Assert.Throws<ArgumentNullException>(() => IdxReader.ReadLabels(new MemoryStream(), null!));
    }

    [Fact]
    public void Empty_file_is_rejected()
    {
        string path = _dir.Write("empty-images", []);
        RejectsImages(path, "is empty");
        RejectsLabels(path, "is empty");
    }

    [Fact]
    public void Gzip_stream_that_decompresses_to_nothing_is_rejected()
    {
        // GZipStream writes nothing at all for empty input, so spell out an empty gzip member: header, an empty
        // final deflate block, CRC-32 0, length 0.
        byte[] emptyGzip = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
        string path = _dir.Write("empty-images.gz", emptyGzip);
        RejectsImages(path, "is empty", "decompresses to 0 bytes");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Wrong_magic_is_rejected_naming_found_and_expected(bool gzip)
    {
        string labelsFile = _dir.Write("labels", Idx.MaybeGzip(Idx.Labels([1, 2, 3]), gzip));
        string imagesFile = _dir.Write("images", Idx.MaybeGzip(Idx.Images(1, 1, 2, [0, 1]), gzip));
        string textFile = _dir.Write("text", Idx.MaybeGzip("hello, world"u8.ToArray(), gzip));

        RejectsImages(labelsFile, "magic number 0x00000801 (IDX unsigned bytes, 1 dimension)", "expected 0x00000803 (IDX unsigned bytes, 3 dimensions)");
        RejectsLabels(imagesFile, "magic number 0x00000803", "expected 0x00000801");
        RejectsLabels(textFile, "magic number 0x68656C6C,", "expected 0x00000801");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void File_ending_inside_the_header_is_truncated(bool gzip)
    {
        byte[] header = Idx.Header(Idx.ImagesMagic, 2, 2, 2);
        string images = _dir.Write("short-images", Idx.MaybeGzip(header[..10], gzip));
        string labels = _dir.Write("short-labels", Idx.MaybeGzip(Idx.Header(Idx.LabelsMagic)[..3], gzip));

        RejectsImages(images, "is truncated", "after 10", "inside the 16-byte IDX images header");
        RejectsLabels(labels, "is truncated", "after 3", "inside the 8-byte IDX labels header");
    }

    [Fact]
    public void Raw_file_shorter_than_its_header_declares_is_truncated()
    {
        // 3 images of 2x2 = 12 data bytes declared, 10 present.
        string images = _dir.Write("images", Idx.Images(3, 2, 2, new byte[10]));
        string labels = _dir.Write("labels", [.. Idx.Header(Idx.LabelsMagic, 5), 1, 2]);

        RejectsImages(images, "is truncated", "2 bytes missing", "3 images of 2x2", "12 data bytes", "28 in all", "file has 26 bytes");
        RejectsLabels(labels, "is truncated", "3 bytes missing", "5 labels", "file has 10 bytes");
    }

    [Fact]
    public void Raw_file_longer_than_its_header_declares_is_padded()
    {
        string images = _dir.Write("images", Idx.Images(3, 2, 2, new byte[15]));
        string labels = _dir.Write("labels", [.. Idx.Labels([1, 2]), 0]);

        RejectsImages(images, "is padded", "3 trailing bytes", "3 images of 2x2", "12 data bytes", "file has 31 bytes");
        RejectsLabels(labels, "is padded", "1 trailing byte", "2 labels");
    }

    [Fact]
    public void Gzip_data_shorter_than_its_header_declares_is_truncated()
    {
        string images = _dir.Write("images.gz", Idx.Gzip(Idx.Images(3, 2, 2, new byte[10])));
        string labels = _dir.Write("labels.gz", Idx.Gzip([.. Idx.Header(Idx.LabelsMagic, 5), 1, 2]));

        RejectsImages(images, "is truncated", "ends after 10 of the 12 data bytes", "3 images of 2x2");
        RejectsLabels(labels, "is truncated", "ends after 2 of the 5 data bytes", "5 labels");
    }

    [Fact]
    public void Gzip_data_longer_than_its_header_declares_is_padded()
    {
        string images = _dir.Write("images.gz", Idx.Gzip(Idx.Images(3, 2, 2, new byte[15])));
        string labels = _dir.Write("labels.gz", Idx.Gzip([.. Idx.Labels([1, 2]), 0]));

        RejectsImages(images, "is padded", "3 trailing decompressed bytes after the 12 data bytes", "3 images of 2x2");
        RejectsLabels(labels, "is padded", "1 trailing decompressed byte after the 2 data bytes");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Streams_that_cannot_seek_are_checked_for_truncation_and_padding(bool gzip)
    {
        using var shortStream = new ForwardOnlyStream(Idx.MaybeGzip(Idx.Images(3, 2, 2, new byte[10]), gzip));
        using var longStream = new ForwardOnlyStream(Idx.MaybeGzip([.. Idx.Labels([1, 2]), 9, 9], gzip));

        AssertMentions(Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(shortStream, "short.idx")), "'short.idx'", "is truncated", "ends after 10 of the 12");
        AssertMentions(Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(longStream, "long.idx")), "'long.idx'", "is padded", "2 trailing");
    }

    [Theory]
    [InlineData(0, 28, 28, "an image count of 0")]
    [InlineData(-1, 28, 28, "an image count of -1")]
    [InlineData(10, 0, 28, "a row count of 0")]
    [InlineData(10, 28, -28, "a column count of -28")]
    [InlineData(int.MinValue, 28, 28, "an image count of -2147483648")]
    public void Image_dimensions_below_one_are_rejected(int count, int rows, int columns, string mention)
    {
        string raw = _dir.Write("images", Idx.Header(Idx.ImagesMagic, count, rows, columns));
        string gzip = _dir.Write("images.gz", Idx.Gzip(Idx.Header(Idx.ImagesMagic, count, rows, columns)));

        RejectsImages(raw, mention, "expected at least 1");
        RejectsImages(gzip, mention, "expected at least 1");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Label_count_below_one_is_rejected(bool gzip)
    {
        string zero = _dir.Write("zero", Idx.MaybeGzip(Idx.Header(Idx.LabelsMagic, 0), gzip));
        string negative = _dir.Write("negative", Idx.MaybeGzip([.. Idx.Header(Idx.LabelsMagic, -3), 1, 2, 3], gzip));

        RejectsLabels(zero, "a label count of 0", "expected at least 1");
        RejectsLabels(negative, "a label count of -3", "expected at least 1");
    }

    [Theory]
    [InlineData(1, 4097, 1, "images of 4097x1", "limit of 4096x4096")]
    [InlineData(1, 28, 100000, "images of 28x100000", "limit of 4096x4096")]
    [InlineData(int.MaxValue, 28, 28, "2147483647 images of 28x28", "1683627179248 data bytes, more than the limit of 1073741824")]
    [InlineData(65, 4096, 4096, "65 images of 4096x4096", "1090519040 data bytes, more than the limit of 1073741824")]
    public void Image_dimensions_over_the_limits_are_rejected_before_allocating(int count, int rows, int columns, string what, string limit)
    {
        foreach (bool gzip in new[] { false, true })
        {
            string path = _dir.Write("huge-images", Idx.MaybeGzip(Idx.Header(Idx.ImagesMagic, count, rows, columns), gzip));
            long allocated = AllocatedBy(() => RejectsImages(path, what, limit));
            Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes rejecting {path} (gzip: {gzip})");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Label_count_over_the_limit_is_rejected_before_allocating(bool gzip)
    {
        string path = _dir.Write("huge-labels", Idx.MaybeGzip(Idx.Header(Idx.LabelsMagic, int.MaxValue), gzip));
        long allocated = AllocatedBy(() => RejectsLabels(path, "2147483647 labels", "more than the limit of 1073741824"));
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Huge_header_on_a_small_raw_file_is_truncated_before_allocating()
    {
        // 60 x 4096 x 4096 is within the limits (about 1e9 pixels, 4 GiB as floats), but the file has 100 data bytes.
        string path = _dir.Write("images", Idx.Images(60, 4096, 4096, new byte[100]));
        long allocated = AllocatedBy(() => RejectsImages(path, "is truncated", "60 images of 4096x4096", "1006632960 data bytes"));
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Huge_header_on_a_small_gzip_file_is_rejected_before_allocating()
    {
        // No gzip file of a few hundred bytes can decompress to 1e9 bytes: deflate expands at most 1032-fold.
        string path = _dir.Write("images.gz", Idx.Gzip(Idx.Images(60, 4096, 4096, new byte[100])));
        long allocated = AllocatedBy(() => RejectsImages(path, "is truncated or its header is corrupt", "60 images of 4096x4096", "decompress to at most"));
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Corrupt_deflate_data_is_rejected_naming_the_file()
    {
        byte[] gzip = Idx.Gzip(Idx.Images(20, 28, 28, Idx.Pattern(20 * 28 * 28, seed: 3)));
        for (int i = 20; i < 60; i++)
        {
            gzip[i] ^= 0x5A;
        }

        string path = _dir.Write("images.gz", gzip);
        InvalidDataException error = RejectsImages(path, "is not a valid gzip stream", "corrupt");
        Assert.IsType<InvalidDataException>(error.InnerException);
    }

    [Fact]
    public void Bad_gzip_header_and_checksum_are_rejected_naming_the_file()
    {
        byte[] good = Idx.Gzip(Idx.Labels([1, 2, 3, 4]));
        byte[] badMethod = (byte[])good.Clone();
        badMethod[2] = 7; // compression method: only 8 (deflate) exists
        byte[] badCrc = (byte[])good.Clone();
        badCrc[^6] ^= 0xFF; // inside the CRC-32 of the trailer

        RejectsLabels(_dir.Write("method.gz", badMethod), "is not a valid gzip stream");
        RejectsLabels(_dir.Write("crc.gz", badCrc), "is not a valid gzip stream");
    }

    [Fact]
    public void Cut_off_gzip_file_is_rejected_naming_the_file()
    {
        byte[] gzip = Idx.Gzip(Idx.Images(20, 28, 28, Idx.Pattern(20 * 28 * 28, seed: 4)));
        string path = _dir.Write("images.gz", gzip[..(gzip.Length / 2)]);

        // .NET's GZipStream ends quietly at a cut; the reader then finds fewer bytes than the header declares.
        // (Should a runtime report the cut itself, that is wrapped as an invalid gzip stream instead.)
        InvalidDataException error = RejectsImages(path);
        Assert.True(
            error.Message.Contains("is truncated: it ends after", StringComparison.Ordinal) ||
            error.Message.Contains("is not a valid gzip stream", StringComparison.Ordinal),
            error.Message);
    }
}
