using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using System.Text;
using Backprop.Simd.IO;

namespace Backprop.Simd.Data;

/// <summary>
/// The decompressed images of gzipped IDX files, kept in a directory of their own so that the next load reads the
/// pixel bytes instead of inflating them again (Fashion-MNIST's 26 MB of gzip take ~0.16 s to inflate and ~0.02 s to read).
/// Only images are cached (labels are small), and only files read by path.
/// </summary>
/// <remarks>
/// <para>An entry is one file, <c>images-{hash of the source's full path}.bin</c>: a header with the source's full path,
/// length, last-write time and gzip trailer (the CRC-32 and length of its decompressed content), the images'
/// count, rows and columns, and the pixel bytes' checksum (<see cref="Checksum"/>), then the pixel bytes. It is used only when all of
/// those still match the source and the pixels' checksum is right, so a changed, replaced or touched source and a
/// damaged or truncated entry both mean decompressing again, and rewriting the entry.</para>
/// <para>Entries are written with <see cref="SafeFile.WriteAtomically"/> (a temporary file flushed and renamed), so
/// concurrent loads and crashes leave either a whole entry or none. Writing is best effort: a directory that cannot be
/// created or written (read-only, full) costs the load nothing but the attempt. The data directory is never written.</para>
/// </remarks>
internal sealed class IdxCache
{
    /// <summary>The environment variable that moves the cache (a directory) or turns it off (<c>off</c>).</summary>
    public const string EnvironmentVariable = "BACKPROP_CACHE";

    private const ulong EntryMagic = 0x32_43_58_44_49_50_42_0A; // "\nBPIDXC2" read as a little-endian ulong (C1 entries held one CRC-32C of all the pixels)
    private const int MaxPathBytes = 16 * 1024;

    public IdxCache(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>The directory the entries are kept in.</summary>
    public string Directory { get; }

    /// <summary>
    /// The cache the command line uses: <c>$BACKPROP_CACHE</c> when set (<c>off</c> for none), else <c>backprop</c>
    /// in the user's cache directory: <c>$XDG_CACHE_HOME</c>, or <c>~/.cache</c>, or on Windows the local application
    /// data folder. Null when it is off or no such directory can be named.
    /// </summary>
    public static IdxCache? FromEnvironment()
    {
        string? chosen = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(chosen))
        {
            return chosen.Equals("off", StringComparison.OrdinalIgnoreCase) ? null : new IdxCache(chosen);
        }

        string? root = OperatingSystem.IsWindows()
            ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg) ? xdg
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? Path.Combine(home, ".cache")
            : null;
        return string.IsNullOrEmpty(root) ? null : new IdxCache(Path.Combine(root, "backprop"));
    }

    /// <summary>The entry's file for <paramref name="source"/> (which need not exist).</summary>
    public string EntryPath(string source)
    {
        // 64-bit FNV-1a of the full path: only a name (the entry holds the path itself), and no cryptography library to load.
        ulong hash = 0xCBF29CE484222325;
        foreach (byte b in Encoding.UTF8.GetBytes(Path.GetFullPath(source)))
        {
            hash = (hash ^ b) * 0x100000001B3;
        }

        return Path.Combine(Directory, $"images-{hash:x16}.bin");
    }

    /// <summary>
    /// The images of the gzipped file <paramref name="source"/>: from its entry when that is valid, else from
    /// <paramref name="read"/> (which decompresses and checks the source), after which the entry is written.
    /// </summary>
    public ImageBytes ReadImages(string source, Func<ImageBytes> read)
    {
        Key? key = Key.Of(source);
        if (key is null)
        {
            return read(); // not a gzip file, or unreadable: the reader says what is wrong
        }

        string entry = EntryPath(source);
        ImageBytes? cached = TryRead(entry, key);
        if (cached is not null)
        {
            return cached;
        }

        ImageBytes images = read();
        if (Key.Of(source) == key)
        {
            TryWrite(entry, key, images); // only when the source did not change while it was read
        }

        return images;
    }

    private static ImageBytes? TryRead(string entry, Key key)
    {
        try
        {
            if (!File.Exists(entry))
            {
                return null;
            }

            using FileStream file = SafeFile.OpenRead(entry, "cache");
            using var reader = new BinaryReader(file, Encoding.UTF8, leaveOpen: true);
            if (reader.ReadUInt64() != EntryMagic || !key.Matches(reader))
            {
                return null;
            }

            int count = reader.ReadInt32(), rows = reader.ReadInt32(), columns = reader.ReadInt32();
            uint checksum = reader.ReadUInt32();
            long length = (long)count * rows * columns;
            if (count < 1 || rows < 1 || columns < 1 || rows > IdxReader.MaxImageSide || columns > IdxReader.MaxImageSide
                || length > IdxReader.MaxElements || file.Length - file.Position != length)
            {
                return null;
            }

            byte[] bytes = HugePages.Allocate((int)length);
            file.ReadExactly(bytes);
            return Checksum(bytes) == checksum ? new ImageBytes(bytes, count, rows, columns) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EndOfStreamException)
        {
            return null;
        }
    }

    private void TryWrite(string entry, Key key, ImageBytes images)
    {
        try
        {
            if (OperatingSystem.IsWindows())
            {
                System.IO.Directory.CreateDirectory(Directory);
            }
            else
            {
                System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // the user's own, like ~/.cache
            }
            uint checksum = Checksum(images.Bytes);
            SafeFile.WriteAtomically(entry, stream =>
            {
                using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
                writer.Write(EntryMagic);
                key.Write(writer);
                writer.Write(images.Count);
                writer.Write(images.Rows);
                writer.Write(images.Columns);
                writer.Write(checksum);
                writer.Write(images.Bytes, 0, images.Count * images.PixelsPerImage);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            // Best effort: without an entry the next load decompresses again.
        }
    }

    /// <summary>CRC-32C (Castagnoli) of <paramref name="data"/>: the SSE4.2 or ARMv8 CRC instruction where there is one, else a table.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data) => ~Update(uint.MaxValue, data);

    /// <summary>
    /// An entry's checksum of its pixels: the CRC-32C of the three CRC-32Cs (little-endian) of the pixels' thirds, cut
    /// at multiples of 8 bytes (the last takes the rest). The three run as interleaved chains: one chain waits on
    /// each CRC instruction's latency, three keep the unit busy (docs/optimizing-backprop.md, twelfth session).
    /// </summary>
    internal static uint Checksum(ReadOnlySpan<byte> data)
    {
        int third = data.Length / 24 * 8;
        uint a = uint.MaxValue, b = uint.MaxValue, c = uint.MaxValue;
        if (Sse42.X64.IsSupported || Crc32.Arm64.IsSupported)
        {
            ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data[..(3 * third)]);
            int n = third / sizeof(ulong);
            ulong x = a, y = b, z = c;
            for (int i = 0; i < n; i++)
            {
                x = Step(x, words[i]);
                y = Step(y, words[n + i]);
                z = Step(z, words[(2 * n) + i]);
            }

            (a, b, c) = ((uint)x, (uint)y, (uint)z);
        }
        else
        {
            (a, b, c) = (Update(a, data[..third]), Update(b, data.Slice(third, third)), Update(c, data.Slice(2 * third, third)));
        }

        c = Update(c, data[(3 * third)..]);
        Span<byte> crcs = stackalloc byte[3 * sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(crcs, ~a);
        BinaryPrimitives.WriteUInt32LittleEndian(crcs[4..], ~b);
        BinaryPrimitives.WriteUInt32LittleEndian(crcs[8..], ~c);
        return Crc32C(crcs);
    }

    // One 8-byte step of the CRC instruction (both CPUs little-endian, as the words were read).
    private static ulong Step(ulong crc, ulong word) =>
        Sse42.X64.IsSupported ? Sse42.X64.Crc32(crc, word) : Crc32.Arm64.ComputeCrc32C((uint)crc, word);

    // The CRC-32C register after `data`, from `crc`, neither inverted.
    private static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        int i = 0;
        if (Sse42.X64.IsSupported || Crc32.Arm64.IsSupported)
        {
            ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
            ulong c = crc;
            foreach (ulong word in words)
            {
                c = Step(c, word);
            }

            crc = (uint)c;
            i = words.Length * sizeof(ulong);
        }

        ReadOnlySpan<uint> table = Crc32CTable.Value;
        for (; i < data.Length; i++)
        {
            crc = table[(int)((crc ^ data[i]) & 0xFF)] ^ (crc >> 8);
        }

        return crc;
    }

    private static readonly Lazy<uint[]> Crc32CTable = new(() =>
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F63B78 ^ (c >> 1) : c >> 1; // the reflected Castagnoli polynomial
            }

            table[n] = c;
        }

        return table;
    });

    /// <summary>What identifies a source's content: its full path, length, last-write time and gzip trailer.</summary>
    private sealed record Key(string Path, long Length, long Ticks, ulong Trailer)
    {
        // Null unless the file is a regular file that starts like gzip.
        public static Key? Of(string source)
        {
            try
            {
                using FileStream file = SafeFile.OpenRead(source, "IDX");
                Span<byte> bytes = stackalloc byte[8];
                if (file.Length < 18 || file.Read(bytes[..2]) != 2 || bytes[0] != 0x1F || bytes[1] != 0x8B)
                {
                    return null;
                }

                file.Seek(-8, SeekOrigin.End);
                file.ReadExactly(bytes);
                return new Key(System.IO.Path.GetFullPath(source), file.Length, File.GetLastWriteTimeUtc(source).Ticks, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        public bool Matches(BinaryReader reader)
        {
            int pathBytes = reader.ReadInt32();
            if (pathBytes is < 0 or > MaxPathBytes)
            {
                return false;
            }

            return Encoding.UTF8.GetString(reader.ReadBytes(pathBytes)) == Path
                && reader.ReadInt64() == Length && reader.ReadInt64() == Ticks && reader.ReadUInt64() == Trailer;
        }

        public void Write(BinaryWriter writer)
        {
            byte[] path = Encoding.UTF8.GetBytes(Path);
            writer.Write(path.Length);
            writer.Write(path);
            writer.Write(Length);
            writer.Write(Ticks);
            writer.Write(Trailer);
        }
    }
}
