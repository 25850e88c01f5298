namespace Backprop.Simd.Data;

/// <summary>
/// The images of an IDX image file: <see cref="Count"/> images of <see cref="Rows"/> x <see cref="Columns"/> pixels,
/// held in ONE contiguous buffer, image after image, each row-major, every pixel scaled from its byte to [0, 1].
/// </summary>
public sealed class IdxImages
{
    /// <summary>Wraps existing pixels (not copied).</summary>
    /// <param name="pixels"><paramref name="count"/> x <paramref name="rows"/> x <paramref name="columns"/> floats.</param>
    /// <param name="count">Number of images, at least 1.</param>
    /// <param name="rows">Rows per image, at least 1.</param>
    /// <param name="columns">Columns per image, at least 1.</param>
    /// <exception cref="ArgumentException">A size is below 1 or <paramref name="pixels"/> has the wrong length.</exception>
    public IdxImages(float[] pixels, int count, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        Guard.Positive(count);
        Guard.Positive(rows);
        Guard.Positive(columns);
        long expected = (long)count * rows * columns;
        if (pixels.LongLength != expected)
        {
            throw new ArgumentException(
                $"pixels has length {pixels.LongLength}, expected {expected} ({count} images of {rows}x{columns}).", nameof(pixels));
        }

        Pixels = pixels;
        Count = count;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>Rows per image.</summary>
    public int Rows { get; }

    /// <summary>Columns per image.</summary>
    public int Columns { get; }

    /// <summary>Pixels per image, <see cref="Rows"/> x <see cref="Columns"/>.</summary>
    public int PixelsPerImage => Rows * Columns;

    /// <summary>
    /// All pixels, <see cref="Count"/> x <see cref="Rows"/> x <see cref="Columns"/> floats: image <c>i</c> starts at
    /// <c>i * PixelsPerImage</c>, pixel <c>(r, c)</c> of it is at offset <c>r * Columns + c</c>. A pixel byte
    /// <c>b</c> is stored as <c>b / 255f</c>, so 0 is 0 and 255 is 1.
    /// </summary>
    public float[] Pixels { get; }

    /// <summary>The pixels of image <paramref name="index"/>, row-major.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside 0 to <see cref="Count"/> - 1.</exception>
    public ReadOnlySpan<float> Image(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"index is {index}, expected 0 to {Count - 1}.");
        }

        return new ReadOnlySpan<float>(Pixels, index * PixelsPerImage, PixelsPerImage);
    }
}
