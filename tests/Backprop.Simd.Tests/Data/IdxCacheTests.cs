using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Backprop.Simd.Data;

namespace Backprop.Simd.Tests.Data;

/// <summary>The cache of decompressed IDX images: used only while valid, rebuilt otherwise, never a cause of failure.</summary>
public sealed class IdxCacheTests : IDisposable
{
    private const int Rows = 3, Columns = 4;
    private readonly TempDirectory _data = new();
    private readonly TempDirectory _cacheRoot = new();

    public void Dispose()
    {
        _data.Dispose();
        _cacheRoot.Dispose();
    }

    private string CacheDirectory => Path.Combine(_cacheRoot.Path, "cache");

    // Four gzipped files; the training images' pixels come from `seed`.
    private void WriteData(ulong seed, int count = 5)
    {
        byte[] labels = [.. Enumerable.Range(0, count).Select(i => (byte)(i % 10))];
        _data.Write(MnistData.TrainingImagesFile + ".gz", Idx.Gzip(Idx.Images(count, Rows, Columns, Idx.Pattern(count * Rows * Columns, seed))));
        _data.Write(MnistData.TrainingLabelsFile + ".gz", Idx.Gzip(Idx.Labels(labels)));
        _data.Write(MnistData.TestImagesFile + ".gz", Idx.Gzip(Idx.Images(2, Rows, Columns, Idx.Pattern(2 * Rows * Columns, seed + 1))));
        _data.Write(MnistData.TestLabelsFile + ".gz", Idx.Gzip(Idx.Labels([3, 4])));
    }

    private string TrainImages => Path.Combine(_data.Path, MnistData.TrainingImagesFile + ".gz");

    private MnistSplit Load() => MnistData.LoadCached(_data.Path, 0, new IdxCache(CacheDirectory));

    private static float[] Pixels(Dataset data) => [.. Enumerable.Range(0, data.Count).SelectMany(i => data.Input(i).ToArray())];

    private static float[] Expected(ulong seed, int count = 5) => [.. Idx.Pattern(count * Rows * Columns, seed).Select(b => b / 255f)];

    // Same length, same gzip header and trailer, same modification time, but deflate data that cannot be inflated
    // (0xFF starts a block of the reserved type 3): only a valid cache entry can still give the images.
    private void CorruptKeepingIdentity(string path)
    {
        DateTime written = File.GetLastWriteTimeUtc(path);
        byte[] bytes = File.ReadAllBytes(path);
        bytes.AsSpan(10, bytes.Length - 18).Fill(0xFF);
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, written);
    }

    [Fact]
    public void A_second_load_reads_the_entry_and_gives_the_same_data()
    {
        WriteData(seed: 1);
        MnistSplit first = Load();
        Assert.Equal(Expected(1), Pixels(first.Training));
        string entry = new IdxCache(CacheDirectory).EntryPath(TrainImages);
        Assert.True(File.Exists(entry));

        CorruptKeepingIdentity(TrainImages); // the source now would not even decompress
        MnistSplit second = Load();
        Assert.Equal(Expected(1), Pixels(second.Training));
        Assert.Equal(Pixels(first.Test), Pixels(second.Test));
        Assert.Equal(5, second.Training.Count);
        Assert.True(second.Training.HoldsBytes);
    }

    [Fact]
    public void A_changed_source_is_decompressed_again_and_its_entry_replaced()
    {
        WriteData(seed: 1);
        Load();
        WriteData(seed: 2, count: 6);
        Assert.Equal(Expected(2, 6), Pixels(Load().Training));

        CorruptKeepingIdentity(TrainImages); // the entry now holds seed 2's pixels
        Assert.Equal(Expected(2, 6), Pixels(Load().Training));
    }

    [Fact]
    public void A_touched_source_is_not_trusted_to_be_the_same()
    {
        WriteData(seed: 1);
        Load();
        CorruptKeepingIdentity(TrainImages);
        File.SetLastWriteTimeUtc(TrainImages, File.GetLastWriteTimeUtc(TrainImages).AddSeconds(1));
        Assert.Throws<InvalidDataException>(() => Load()); // decompressed again, and the source is broken
    }

    [Fact]
    public void A_source_replaced_while_it_is_read_leaves_no_entry()
    {
        // The images read are the old file's; a new file then takes its place. An entry made from them under the new
        // file's identity would be served as the new file's images, so none is written.
        WriteData(seed: 1);
        var cache = new IdxCache(CacheDirectory);
        ImageBytes images = cache.ReadImages(TrainImages, () =>
        {
            ImageBytes read = IdxReader.ReadImageBytes(TrainImages);
            WriteData(seed: 2, count: 6);
            return read;
        });
        Assert.Equal(5, images.Count);
        Assert.False(File.Exists(cache.EntryPath(TrainImages)));
        Assert.Equal(Expected(2, 6), Pixels(Load().Training)); // and the next load reads the new file
    }

    [Theory]
    [InlineData("flip a pixel")]
    [InlineData("flip the first pixel")]
    [InlineData("flip the header")]
    [InlineData("truncate")]
    [InlineData("extend")]
    [InlineData("empty")]
    public void A_damaged_entry_is_ignored_and_rewritten(string damage)
    {
        WriteData(seed: 1);
        Load();
        string entry = new IdxCache(CacheDirectory).EntryPath(TrainImages);
        byte[] bytes = File.ReadAllBytes(entry);
        bytes = damage switch
        {
            "flip a pixel" => Flip(bytes, bytes.Length - 7),
            "flip the first pixel" => Flip(bytes, bytes.Length - (5 * Rows * Columns)), // in the first third of the checksum
            "flip the header" => Flip(bytes, 3),
            "truncate" => bytes[..^1],
            "extend" => [.. bytes, 0],
            _ => [],
        };
        File.WriteAllBytes(entry, bytes);

        Assert.Equal(Expected(1), Pixels(Load().Training));
        CorruptKeepingIdentity(TrainImages); // the rewritten entry is whole again and used
        Assert.Equal(Expected(1), Pixels(Load().Training));

        static byte[] Flip(byte[] b, int at)
        {
            b[at] ^= 0x10;
            return b;
        }
    }

    [Fact]
    public void An_unwritable_cache_costs_nothing_and_the_data_directory_is_never_written()
    {
        WriteData(seed: 1);
        File.WriteAllText(CacheDirectory, "a file where the cache directory should be");
        string[] before = Directory.GetFiles(_data.Path);
        Assert.Equal(Expected(1), Pixels(Load().Training));
        Assert.Equal(Expected(1), Pixels(Load().Training));
        Assert.Equal(before, Directory.GetFiles(_data.Path));
    }

    [Fact]
    public void Entries_are_written_whole_with_no_temporary_files_left()
    {
        WriteData(seed: 1);
        Parallel.For(0, 4, _ => Assert.Equal(Expected(1), Pixels(Load().Training)));
        string[] files = [.. Directory.GetFiles(CacheDirectory).Select(Path.GetFileName).Order()!];
        Assert.Equal(2, files.Length); // training and test images; labels are not cached
        Assert.All(files, f => Assert.Matches("^images-[0-9a-f]{16}\\.bin$", f));
    }

    [Fact]
    public void Raw_sources_are_not_cached()
    {
        WriteData(seed: 1);
        byte[] raw;
        using (var gzip = new GZipStream(File.OpenRead(TrainImages), CompressionMode.Decompress))
        using (var copy = new MemoryStream())
        {
            gzip.CopyTo(copy);
            raw = copy.ToArray();
        }

        File.Delete(TrainImages);
        _data.Write(MnistData.TrainingImagesFile, raw);
        Assert.Equal(Expected(1), Pixels(Load().Training));
        Assert.Single(Directory.GetFiles(CacheDirectory)); // the gzipped test images only
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("123456789")]
    [InlineData("The quick brown fox jumps over the lazy dog, twice: the quick brown fox jumps over the lazy dog.")]
    public void Crc32C_matches_the_bitwise_definition(string text)
    {
        byte[] data = Encoding.UTF8.GetBytes(text);
        Assert.Equal(BitwiseCrc32C(data), IdxCache.Crc32C(data));
        if (text == "123456789")
        {
            Assert.Equal(0xE3069283u, IdxCache.Crc32C(data)); // the published check value of CRC-32C
        }
    }

    /// <summary>The entry's checksum, three interleaved chains, against its definition: the CRC-32C of the CRC-32Cs of
    /// the thirds (cut at multiples of 8 bytes, the last taking the rest), for every short length and some long ones;
    /// and a flipped bit anywhere, in any third, changes it.</summary>
    [Fact]
    public void The_entry_checksum_is_the_CRC_of_the_thirds_CRCs_and_sees_any_flipped_bit()
    {
        var random = new Random(12);
        foreach (int length in Enumerable.Range(0, 130).Concat([1_000, 4_099, 100_003, 784 * 1000]))
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            int third = length / 24 * 8;
            byte[] crcs = new byte[12];
            BinaryPrimitives.WriteUInt32LittleEndian(crcs, BitwiseCrc32C(data.AsSpan(0, third)));
            BinaryPrimitives.WriteUInt32LittleEndian(crcs.AsSpan(4), BitwiseCrc32C(data.AsSpan(third, third)));
            BinaryPrimitives.WriteUInt32LittleEndian(crcs.AsSpan(8), BitwiseCrc32C(data.AsSpan(2 * third)));
            uint checksum = IdxCache.Checksum(data);
            Assert.Equal(BitwiseCrc32C(crcs), checksum);

            foreach (int at in length == 0 ? [] : new[] { 0, third / 2, third + (third / 2), (2 * third) + 1, length - 1 })
            {
                int position = Math.Min(at, length - 1);
                data[position] ^= 0x04;
                Assert.NotEqual(checksum, IdxCache.Checksum(data));
                data[position] ^= 0x04;
            }
        }
    }

    private static uint BitwiseCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = uint.MaxValue;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0x82F63B78 ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }

    [Fact]
    public void The_environment_names_the_directory_or_turns_the_cache_off()
    {
        string? saved = Environment.GetEnvironmentVariable(IdxCache.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(IdxCache.EnvironmentVariable, "off");
            Assert.Null(IdxCache.FromEnvironment());
            string chosen = Path.Combine(_cacheRoot.Path, "chosen");
            Environment.SetEnvironmentVariable(IdxCache.EnvironmentVariable, chosen);
            Assert.Equal(chosen, IdxCache.FromEnvironment()!.Directory);
        }
        finally
        {
            Environment.SetEnvironmentVariable(IdxCache.EnvironmentVariable, saved);
        }
    }
}
