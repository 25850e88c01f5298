using SkiaSharp;

namespace Backprop.Simd.Cli;

/// <summary>Reads a 28x28 PNG as MNIST does: one float per pixel, gray level / 255, row by row.</summary>
internal static class DigitImage
{
    public const int Side = 28;

    public static float[] Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"image file not found: {path}", path);
        }

        using SKBitmap? bitmap = SKBitmap.Decode(path);
        if (bitmap is null)
        {
            throw new InvalidDataException($"{path} is not an image this program can read (expected a PNG).");
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
}
