namespace Backprop.Simd.Browser;

/// <summary>
/// Turns a drawing into the input MNIST's digits were made as: the ink's bounding box scaled (keeping its aspect
/// ratio, averaging the pixels each output pixel covers, so edges come out grey) to fit a 20x20 box, then placed in
/// a 28x28 field so that its centre of mass is the field's centre. A network trained on MNIST only recognises digits
/// of that size and position; a plain downsample of the whole pad would give small, off-centre digits.
/// </summary>
public static class DigitPreprocessor
{
    /// <summary>The side of the network's input image.</summary>
    public const int Side = 28;

    /// <summary>The side of the box the ink is scaled into (MNIST's).</summary>
    public const int Box = 20;

    // Canvas pixels at or below this (of 255) are background: antialiasing noise, not ink.
    private const byte InkThreshold = 16;

    /// <summary>
    /// Writes the 28x28 input (row-major, values 0 to 1, ink high) of the <paramref name="width"/> x
    /// <paramref name="height"/> grey image <paramref name="gray"/> (white ink on black) into
    /// <paramref name="input"/>; returns false, leaving it all zero, when there is no ink.
    /// </summary>
    public static bool ToInput(ReadOnlySpan<byte> gray, int width, int height, Span<float> input)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(gray.Length, width * height, nameof(gray));
        ArgumentOutOfRangeException.ThrowIfNotEqual(input.Length, Side * Side, nameof(input));
        input.Clear();
        if (!FindInk(gray, width, height, out int left, out int top, out int right, out int bottom))
        {
            return false;
        }

        // Scale the box's longer side to 20 pixels. Each source pixel adds its share to the output pixel it falls in;
        // dividing by the source pixels per output pixel (1/scale^2) makes that an average.
        int inkWidth = right - left + 1, inkHeight = bottom - top + 1;
        float scale = (float)Box / Math.Max(inkWidth, inkHeight);
        int scaledWidth = Math.Clamp((int)MathF.Ceiling(inkWidth * scale), 1, Box);
        int scaledHeight = Math.Clamp((int)MathF.Ceiling(inkHeight * scale), 1, Box);
        Span<float> scaled = stackalloc float[Box * Box];
        scaled.Clear();
        float share = scale * scale / 255f;
        for (int y = top; y <= bottom; y++)
        {
            int sy = Math.Min((int)((y - top) * scale), scaledHeight - 1);
            for (int x = left; x <= right; x++)
            {
                int sx = Math.Min((int)((x - left) * scale), scaledWidth - 1);
                scaled[(sy * Box) + sx] += gray[(y * width) + x] * share;
            }
        }

        // Centre of mass of the scaled ink, then the shift that puts it at the field's centre, kept inside the field.
        float mass = 0, massX = 0, massY = 0;
        for (int y = 0; y < scaledHeight; y++)
        {
            for (int x = 0; x < scaledWidth; x++)
            {
                float v = Math.Min(scaled[(y * Box) + x], 1f);
                mass += v;
                massX += v * (x + 0.5f);
                massY += v * (y + 0.5f);
            }
        }

        int offsetX = Math.Clamp((int)MathF.Round((Side / 2f) - (massX / mass)), 0, Side - scaledWidth);
        int offsetY = Math.Clamp((int)MathF.Round((Side / 2f) - (massY / mass)), 0, Side - scaledHeight);
        for (int y = 0; y < scaledHeight; y++)
        {
            for (int x = 0; x < scaledWidth; x++)
            {
                input[((y + offsetY) * Side) + x + offsetX] = Math.Min(scaled[(y * Box) + x], 1f);
            }
        }

        return true;
    }

    // The smallest rectangle holding every pixel brighter than the threshold.
    private static bool FindInk(ReadOnlySpan<byte> gray, int width, int height, out int left, out int top, out int right, out int bottom)
    {
        (left, top, right, bottom) = (width, height, -1, -1);
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = gray.Slice(y * width, width);
            int first = row.IndexOfAnyInRange((byte)(InkThreshold + 1), byte.MaxValue);
            if (first < 0)
            {
                continue;
            }

            int last = row.LastIndexOfAnyInRange((byte)(InkThreshold + 1), byte.MaxValue);
            (left, right) = (Math.Min(left, first), Math.Max(right, last));
            (top, bottom) = (Math.Min(top, y), y);
        }

        return right >= 0;
    }
}
