using System.Buffers.Binary;
using Backprop.Simd.IO;
using SkiaSharp;

namespace Backprop.Simd.Cli;

/// <summary>Reads a 28x28 PNG as MNIST does: one float per pixel, gray level / 255, row by row.</summary>
/// <remarks>
/// Only PNG files of exactly 28x28 pixels, at most <see cref="MaxFileBytes"/> long, are accepted. The size is read
/// from the PNG's IHDR chunk before anything is decoded, so a header claiming 100000x100000 pixels is refused
/// without allocating its pixels.
/// </remarks>
internal static class DigitImage
{
    public const int Side = 28;

    /// <summary>Largest PNG file read: 16 MiB, thousands of times what a 28x28 image needs, even with metadata.</summary>
    public const int MaxFileBytes = 16 << 20;

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private const int HeaderLength = 24; // signature (8), IHDR length (4) and type (4), width (4), height (4)

    public static float[] Load(string path)
    {
        using FileStream file = SafeFile.OpenRead(path, "PNG image");
        if (file.Length > MaxFileBytes)
        {
            throw new InvalidDataException($"{path} has {file.Length:N0} bytes, more than the {MaxFileBytes:N0} a {Side}x{Side} PNG may have.");
        }

        CheckHeader(file, path);
        file.Position = 0;
        using SKBitmap? bitmap = SKBitmap.Decode(file);
        if (bitmap is null)
        {
            throw new InvalidDataException($"{path} is not an image this program can read: its PNG data is damaged.");
        }

        if (bitmap.Width != Side || bitmap.Height != Side)
        {
            throw new InvalidDataException($"{path} is {bitmap.Width}x{bitmap.Height} pixels, expected {Side}x{Side} like the MNIST digits.");
        }

        var pixels = new float[Side * Side];
        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                SKColor c = bitmap.GetPixel(x, y);
                // Rec. 601 luma; a transparent pixel counts as background (black).
                double gray = ((0.299 * c.Red) + (0.587 * c.Green) + (0.114 * c.Blue)) * c.Alpha / 255.0;
                pixels[(y * Side) + x] = (float)(Math.Round(gray) / 255.0);
            }
        }

        return pixels;
    }

    // A PNG starts with its 8-byte signature and then the IHDR chunk, whose first fields are the width and height.
    private static void CheckHeader(Stream file, string path)
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        int got = file.ReadAtLeast(header, HeaderLength, throwOnEndOfStream: false);
        if (got < HeaderLength || !header[..8].SequenceEqual(PngSignature) || !header[12..16].SequenceEqual("IHDR"u8))
        {
            throw new InvalidDataException($"{path} is not an image this program can read: expected a PNG file, which starts with the PNG signature and an IHDR chunk.");
        }

        uint width = BinaryPrimitives.ReadUInt32BigEndian(header[16..]), height = BinaryPrimitives.ReadUInt32BigEndian(header[20..]);
        if (width != Side || height != Side)
        {
            throw new InvalidDataException($"{path} is {width}x{height} pixels (its PNG header says so), expected {Side}x{Side} like the MNIST digits.");
        }
    }
}
