using System.Buffers.Binary;
using System.IO.Compression;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Data;

/// <summary>
/// Reads the IDX files MNIST is distributed in: unsigned-byte images (magic <c>0x00000803</c>, then count, rows and
/// columns) and unsigned-byte labels (magic <c>0x00000801</c>, then count), every header integer a big-endian int32,
/// the data bytes following the header directly. A file may be raw or gzip-compressed; gzip is recognised by its
/// magic bytes <c>1F 8B</c>, whatever the file is called.
/// </summary>
/// <remarks>
/// A file must hold exactly the data its header declares: missing bytes (truncated) and extra bytes (padded) are
/// both errors, as are dimensions below 1 or above <see cref="MaxImageSide"/> / <see cref="MaxElements"/>. Sizes
/// are checked before anything is allocated: a raw file's header is compared with the file's length; a gzip
/// file's header is compared with the most its compressed length can expand to (deflate expands at most
/// 1032-fold), and the decompressed length is checked while reading. Since a gzip header's counts are only a
/// claim, gzip data (and streams of unknown length) are read into byte arrays that start small and grow with the
/// bytes that actually arrive, and the floats are allocated only once the data is all there, so memory stays bounded
/// by what the file really holds, not by what it declares. Every format error is an
/// <see cref="InvalidDataException"/> whose message names the file and what is wrong.
/// </remarks>
public static class IdxReader
{
    /// <summary>Magic number of an IDX file of unsigned bytes with 3 dimensions (images).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an IDX file of unsigned bytes with 1 dimension (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Largest number of rows, and of columns, an image may have: 4096.</summary>
    public const int MaxImageSide = 4096;

    /// <summary>
    /// Largest number of data bytes a file may declare: count x rows x columns for images, count for labels.
    /// 2^30, so the images of a file take at most 4 GiB as floats.
    /// </summary>
    public const int MaxElements = 1 << 30;

    /// <summary>The most a deflate stream can expand (zlib's documented limit, 1032:1).</summary>
    internal const int MaxDeflateRatio = 1032;

    private const int ImagesHeaderLength = 16;
    private const int LabelsHeaderLength = 8;
    private const int ChunkLength = 1 << 16;
    private const int InitialElements = 1 << 20; // first allocation for data whose length is only declared (gzip, streams)

    // How far a gzip file's own size vouches for its header: MNIST-style images compress 3-6 fold, so real files
    // allocate once at their declared size, while a lying header gets at most 8 elements per byte of the file
    // before the data has to prove it.
    private const int TrustedExpansion = 8;

    /// <summary>Reads an IDX image file, raw or gzipped.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The images, each pixel byte <c>b</c> as <c>b / 255f</c>.</returns>
    /// <exception cref="FileNotFoundException"><paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a directory, a device, a FIFO or a socket (only regular files are read).</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX image file (see <see cref="IdxReader"/>).</exception>
    public static IdxImages ReadImages(string path)
    {
        using FileStream file = OpenFile(path);
        return ReadImages(file, path);
    }

    /// <summary>Reads IDX images, raw or gzipped, from <paramref name="stream"/>'s current position to its end.</summary>
    /// <param name="stream">The data; read to its end but not closed.</param>
    /// <param name="sourceName">What to call the data in error messages, e.g. its file name.</param>
    /// <returns>The images, each pixel byte <c>b</c> as <c>b / 255f</c>.</returns>
    /// <exception cref="InvalidDataException">The data is not a well-formed IDX image file (see <see cref="IdxReader"/>).</exception>
    public static IdxImages ReadImages(Stream stream, string sourceName)
    {
        using Source source = OpenImages(stream, sourceName, out int count, out int rows, out int columns);
        long length = (long)count * rows * columns;
        string what = Describe(count, rows, columns);
        float[] pixels;
        if (source.InitialCapacity(length) == length)
        {
            // Raw data whose length the file's size confirmed, or so little that it may be allocated on the header's
            // word (at most InitialElements): straight into the floats, one chunk at a time.
            pixels = new float[length];
            byte[] chunk = new byte[(int)Math.Min(length, ChunkLength)];
            for (int done = 0; done < length;)
            {
                int n = (int)Math.Min(chunk.Length, length - done);
                source.ReadData(chunk.AsSpan(0, n), done, length, what);
                ScaleToUnit(chunk.AsSpan(0, n), pixels.AsSpan(done, n));
                done += n;
            }
        }
        else
        {
            // A gzip header's count is only a claim: the bytes go into an array that grows with the data that actually
            // arrives (a quarter of the floats' size, so growing it costs little), and the floats are allocated once
            // the data has proved the count.
            byte[] bytes = ReadAll(source, length, what);
            pixels = new float[length];
            ScaleToUnit(bytes, pixels);
        }

        source.ReadEnd(length, what);
        return new IdxImages(pixels, count, rows, columns);
    }

    /// <summary>
    /// <see cref="ReadImages(Stream, string)"/> without the floats: the pixel bytes as the file holds them, a quarter
    /// of the memory, with the same checks (a gzip header's count is proved by the data before the array outgrows
    /// what the file's size vouches for).
    /// </summary>
    internal static ImageBytes ReadImageBytes(Stream stream, string sourceName)
    {
        using Source source = OpenImages(stream, sourceName, out int count, out int rows, out int columns);
        long length = (long)count * rows * columns;
        string what = Describe(count, rows, columns);
        byte[] bytes = ReadAll(source, length, what);
        source.ReadEnd(length, what);
        return new ImageBytes(bytes, count, rows, columns);
    }

    /// <summary><see cref="ReadImageBytes(Stream, string)"/> of a file, raw or gzipped.</summary>
    internal static ImageBytes ReadImageBytes(string path)
    {
        using FileStream file = OpenFile(path);
        return ReadImageBytes(file, path);
    }

    // The images' header, read and checked against the limits and the file's size before anything is allocated.
    private static Source OpenImages(Stream stream, string sourceName, out int count, out int rows, out int columns)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrEmpty(sourceName);
        var source = new Source(stream, sourceName, "IDX images", ImagesMagic, ImagesHeaderLength);
        try
        {
            Span<int> dimensions = stackalloc int[3];
            source.ReadHeader(dimensions);
            (count, rows, columns) = (dimensions[0], dimensions[1], dimensions[2]);
            source.CheckAtLeastOne(count, "an image count");
            source.CheckAtLeastOne(rows, "a row count");
            source.CheckAtLeastOne(columns, "a column count");
            if (rows > MaxImageSide || columns > MaxImageSide)
            {
                throw source.Error($"declares images of {rows}x{columns}, larger than the limit of {MaxImageSide}x{MaxImageSide} (IdxReader.MaxImageSide).");
            }

            source.CheckLength((long)count * rows * columns, Describe(count, rows, columns));
            return source;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    private static string Describe(int count, int rows, int columns) => $"{count} images of {rows}x{columns}";

    // The data bytes, into an array that starts at what the file's size vouches for and grows with the bytes that
    // actually arrive (see Source.InitialCapacity), so a lying header cannot make it allocate more. Every byte up to
    // length is read before the array is returned, so it need not be zeroed.
    private static byte[] ReadAll(Source source, long length, string what)
    {
        byte[] bytes = HugePages.Allocate(source.InitialCapacity(length));
        for (int done = 0; done < length;)
        {
            Grow(ref bytes, done, length);
            int n = Math.Min(ChunkLength, bytes.Length - done);
            source.ReadData(bytes.AsSpan(done, n), done, length, what);
            done += n;
        }

        return bytes;
    }

    /// <summary>Reads an IDX label file, raw or gzipped. Any byte is a valid label here; checking the range is the caller's job.</summary>
    /// <param name="path">The file.</param>
    /// <returns>One byte per label.</returns>
    /// <exception cref="FileNotFoundException"><paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a directory, a device, a FIFO or a socket (only regular files are read).</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX label file (see <see cref="IdxReader"/>).</exception>
    public static byte[] ReadLabels(string path)
    {
        using FileStream file = OpenFile(path);
        return ReadLabels(file, path);
    }

    /// <summary>Reads IDX labels, raw or gzipped, from <paramref name="stream"/>'s current position to its end.</summary>
    /// <param name="stream">The data; read to its end but not closed.</param>
    /// <param name="sourceName">What to call the data in error messages, e.g. its file name.</param>
    /// <returns>One byte per label.</returns>
    /// <exception cref="InvalidDataException">The data is not a well-formed IDX label file (see <see cref="IdxReader"/>).</exception>
    public static byte[] ReadLabels(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrEmpty(sourceName);
        using var source = new Source(stream, sourceName, "IDX labels", LabelsMagic, LabelsHeaderLength);
        Span<int> dimensions = stackalloc int[1];
        source.ReadHeader(dimensions);
        int count = dimensions[0];
        source.CheckAtLeastOne(count, "a label count");
        string what = $"{count} labels";
        source.CheckLength(count, what);

        byte[] labels = ReadAll(source, count, what);
        source.ReadEnd(count, what);
        return labels;
    }

    /// <summary><c>pixels[i] = bytes[i] / 255f</c>, widened a vector at a time by <see cref="Widening.Divide(ReadOnlySpan{byte}, float, Span{float})"/>.
    /// (TensorPrimitives.ConvertTruncating from byte to float measured over ten times slower on Fashion-MNIST's 47
    /// million pixels, more than the decompression itself.)</summary>
    internal static void ScaleToUnit(ReadOnlySpan<byte> bytes, Span<float> pixels) => Widening.Divide(bytes, 255f, pixels);

    // Doubles a full array, up to the declared length: growing costs at most one extra copy per doubling.
    private static void Grow<T>(ref T[] array, int done, long declared)
    {
        if (done == array.Length)
        {
            Array.Resize(ref array, (int)Math.Min(declared, (long)array.Length * 2));
        }
    }

    // Only regular files: a device (/dev/zero) or a FIFO would never end or never open.
    private static FileStream OpenFile(string path) => IO.SafeFile.OpenRead(path, "IDX");

    // "0x00000801 (IDX unsigned bytes, 1 dimension)"; anything that is not an IDX magic is just the number.
    private static string DescribeMagic(int magic)
    {
        string type = ((magic >> 8) & 0xFF) switch
        {
            0x08 => "unsigned bytes",
            0x09 => "signed bytes",
            0x0B => "int16",
            0x0C => "int32",
            0x0D => "float32",
            0x0E => "float64",
            _ => "",
        };
        int dimensions = magic & 0xFF;
        return (magic >> 16) == 0 && type.Length > 0 && dimensions > 0
            ? $"0x{magic:X8} (IDX {type}, {dimensions} dimension{(dimensions == 1 ? "" : "s")})"
            : $"0x{magic:X8}";
    }

    /// <summary>
    /// One file being read: detects gzip, tracks how many (decompressed) bytes have been read, and turns every
    /// problem into an error that names the file.
    /// </summary>
    private sealed class Source : IDisposable
    {
        private readonly Stream _data;
        private readonly string _name;
        private readonly string _kind;
        private readonly int _magic;
        private readonly int _headerLength;
        private readonly bool _compressed;
        private readonly long _storedLength; // bytes from the start position to the end, or -1 when unknown

        public Source(Stream stream, string name, string kind, int magic, int headerLength)
        {
            _name = name;
            _kind = kind;
            _magic = magic;
            _headerLength = headerLength;
            _storedLength = stream.CanSeek ? stream.Length - stream.Position : -1;

            // Peek at the first two bytes, then hand them back in front of the rest of the stream.
            byte[] first = new byte[2];
            int got;
            try
            {
                got = stream.ReadAtLeast(first, first.Length, throwOnEndOfStream: false);
            }
            catch (IOException e)
            {
                throw new IOException($"Reading '{_name}' failed: {e.Message}", e);
            }

            if (got == 0)
            {
                throw Error($"is empty: expected an {_kind} file, which starts with the {headerLength}-byte header.");
            }

            var prefixed = new PrefixedStream(first.AsSpan(0, got).ToArray(), stream);
            _compressed = got == 2 && first[0] == 0x1F && first[1] == 0x8B;
            _data = _compressed ? new GZipStream(prefixed, CompressionMode.Decompress, leaveOpen: false) : prefixed;
        }

        public void ReadHeader(Span<int> dimensions)
        {
            Span<byte> header = stackalloc byte[_headerLength];
            int got = Read(header);
            if (got == 0)
            {
                throw Error($"is empty: its gzip stream decompresses to 0 bytes, expected an {_kind} file.");
            }

            if (got >= 4)
            {
                int magic = BinaryPrimitives.ReadInt32BigEndian(header);
                if (magic != _magic)
                {
                    throw Error($"has magic number {DescribeMagic(magic)}, expected {DescribeMagic(_magic)} for {_kind}.");
                }
            }

            if (got < _headerLength)
            {
                throw Error($"is truncated: it ends after {Bytes(got, DecompressedWord)}, inside the {_headerLength}-byte {_kind} header.");
            }

            for (int i = 0; i < dimensions.Length; i++)
            {
                dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(header[(4 + (4 * i))..]);
            }
        }

        public void CheckAtLeastOne(int value, string what)
        {
            if (value < 1)
            {
                throw Error($"declares {what} of {value}, expected at least 1.");
            }
        }

        // Before anything is allocated: the declared data must fit the limit and what the file can hold.
        public void CheckLength(long dataLength, string what)
        {
            if (dataLength > MaxElements)
            {
                throw Error($"declares {what}, {dataLength} data bytes, more than the limit of {MaxElements} (IdxReader.MaxElements).");
            }

            long total = _headerLength + dataLength;
            if (_storedLength < 0)
            {
                return;
            }

            if (!_compressed && _storedLength != total)
            {
                string problem = _storedLength < total
                    ? $"is truncated: {Bytes(total - _storedLength)} missing"
                    : $"is padded: it has {Bytes(_storedLength - total, "trailing ")}";
                throw Error($"{problem}. Its header declares {what}, {dataLength} data bytes after the {_headerLength}-byte header ({total} in all), but the file has {_storedLength} bytes.");
            }

            if (_compressed && total > _storedLength * MaxDeflateRatio)
            {
                throw Error($"is truncated or its header is corrupt: the header declares {what}, {total} bytes in all, but {_storedLength} gzip-compressed bytes decompress to at most {_storedLength * MaxDeflateRatio}.");
            }
        }

        // How much to allocate before reading: the declared length when the file's size has confirmed it (raw data
        // of known length), else what the file's size vouches for (TrustedExpansion elements per stored byte, at least
        // InitialElements), grown as the data arrives (see Grow).
        public int InitialCapacity(long declared) =>
            (int)(!_compressed && _storedLength >= 0 ? declared : Math.Min(declared, Math.Max(InitialElements, TrustedExpansion * _storedLength)));

        // Reads exactly destination.Length data bytes, the ones at data offset `offset`.
        public void ReadData(Span<byte> destination, long offset, long dataLength, string what)
        {
            int got = Read(destination);
            if (got < destination.Length)
            {
                throw Error($"is truncated: it ends after {offset + got} of the {dataLength} data bytes its header declares ({what}).");
            }
        }

        // After the data the stream must end.
        public void ReadEnd(long dataLength, string what)
        {
            Span<byte> scratch = stackalloc byte[4096];
            long extra = 0;
            for (int got; (got = Read(scratch)) > 0;)
            {
                extra += got;
            }

            if (extra > 0)
            {
                throw Error($"is padded: it has {Bytes(extra, "trailing " + DecompressedWord)} after the {dataLength} data bytes its header declares ({what}).");
            }
        }

        public InvalidDataException Error(string problem) => new($"'{_name}' {problem}");

        public void Dispose() => _data.Dispose();

        private string DecompressedWord => _compressed ? "decompressed " : "";

        // "1 trailing byte", "3 trailing bytes".
        private static string Bytes(long count, string adjective = "") => $"{count} {adjective}byte{(count == 1 ? "" : "s")}";

        // Reads until `buffer` is full or the data ends; returns the number of bytes read.
        private int Read(Span<byte> buffer)
        {
            int total = 0;
            while (total < buffer.Length)
            {
                int got;
                try
                {
                    got = _data.Read(buffer[total..]);
                }
                catch (InvalidDataException e) when (_compressed)
                {
                    throw new InvalidDataException($"'{_name}' is not a valid gzip stream (corrupt or damaged data): {e.Message}", e);
                }
                catch (IOException e)
                {
                    throw new IOException($"Reading '{_name}' failed: {e.Message}", e);
                }

                if (got == 0)
                {
                    break;
                }

                total += got;
            }

            return total;
        }
    }

    /// <summary>A read-only forward stream: some bytes already taken from <c>inner</c>, then the rest of <c>inner</c>.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _prefixRead;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_prefixRead < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _prefixRead);
                prefix.AsSpan(_prefixRead, n).CopyTo(buffer);
                _prefixRead += n;
                return n;
            }

            return inner.Read(buffer);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>The images of an IDX file as the bytes it holds: <see cref="Count"/> images of <see cref="Rows"/> x <see cref="Columns"/>, back to back.</summary>
internal sealed record ImageBytes(byte[] Bytes, int Count, int Rows, int Columns)
{
    public int PixelsPerImage => Rows * Columns;
}
