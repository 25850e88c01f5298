using Backprop.Simd.Data;

namespace Backprop.Simd.Browser.Tests;

/// <summary>The page's MNIST-style preprocessing of a drawing, natively (no browser needed).</summary>
public sealed class DigitPreprocessorTests
{
    private const int Pad = 280;
    private const int Side = DigitPreprocessor.Side;

    [Fact]
    public void An_empty_pad_gives_no_input()
    {
        float[] input = [.. Enumerable.Repeat(0.5f, Side * Side)];
        Assert.False(DigitPreprocessor.ToInput(new byte[Pad * Pad], Pad, Pad, input));
        Assert.All(input, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void A_bar_is_scaled_to_20_pixels_high_and_centred_by_its_mass()
    {
        // A solid bar 40 wide and 200 high near the pad's corner: 20 high and 4 wide after scaling, all ink 1.
        byte[] gray = new byte[Pad * Pad];
        for (int row = 10; row < 210; row++)
        {
            gray.AsSpan((row * Pad) + 5, 40).Fill(255);
        }

        float[] input = new float[Side * Side];
        Assert.True(DigitPreprocessor.ToInput(gray, Pad, Pad, input));
        (int left, int top, int right, int bottom) = Box(input);
        Assert.Equal(DigitPreprocessor.Box, bottom - top + 1);
        Assert.Equal(4, right - left + 1);
        // Each output pixel sums 100 shares of 1/100 in float: full ink within a few units in the last place of 1.
        Assert.All(input, v => Assert.True(v == 0f || Math.Abs(v - 1f) < 1e-5f, $"{v} is neither background nor full ink"));
        (float x, float y) = CentreOfMass(input);
        Assert.InRange(x, (Side / 2f) - 0.5f, (Side / 2f) + 0.5f);
        Assert.InRange(y, (Side / 2f) - 0.5f, (Side / 2f) + 0.5f);
    }

    [Fact]
    public void Bundled_test_digits_enlarged_tenfold_come_back_as_they_were_up_to_a_pixel()
    {
        // MNIST's digits are already what the preprocessing makes (ink in a 20x20 box, centred by mass), so a digit
        // drawn ten times larger anywhere on the pad must come back as itself, moved by at most a pixel (the rounding
        // of the centre), wherever its ink touches the 20-pixel box on its longer side.
        Dataset test = MnistData.LoadBundled().Test;
        float[] digit = new float[Side * Side], input = new float[Side * Side];
        int compared = 0;
        for (int i = 0; i < 200; i++)
        {
            test.Input(i, digit);
            (int left, int top, int right, int bottom) = Box(digit);
            if (Math.Max(right - left, bottom - top) + 1 != DigitPreprocessor.Box)
            {
                continue;
            }

            // Moved by up to 6 pad pixels either way, as far as the ink stays on the pad.
            int shiftX = Math.Clamp((3 * (i % 5)) - 6, -10 * left, 10 * (Side - 1 - right));
            int shiftY = Math.Clamp((2 * (i % 7)) - 6, -10 * top, 10 * (Side - 1 - bottom));
            byte[] gray = Enlarge(digit, shiftX, shiftY);
            Assert.True(DigitPreprocessor.ToInput(gray, Pad, Pad, input));
            // Ten pixels per pixel, averaged back: inside the ink's box only the bytes' rounding (1/255) may differ;
            // outside it, faint pixels at or below the ink threshold (16 of 255) are left out, as noise.
            bool found = false;
            for (int dy = -1; dy <= 1 && !found; dy++)
            {
                for (int dx = -1; dx <= 1 && !found; dx++)
                {
                    (double inside, double outside) = MaxDifference(digit, input, dx, dy, (left, top, right, bottom));
                    found = inside <= 1.5 / 255 && outside <= 16.5 / 255;
                }
            }

            Assert.True(found, $"test digit {i} does not come back within a pixel's shift (ink box {Box(digit)}, after {Box(input)})");
            compared++;
        }

        Assert.True(compared >= 50, $"only {compared} of 200 digits span the full 20-pixel box");
    }

    // The digit as bytes, each pixel a 10x10 block, moved by the shift (in pad pixels).
    private static byte[] Enlarge(float[] digit, int shiftX, int shiftY)
    {
        byte[] gray = new byte[Pad * Pad];
        for (int y = Math.Max(0, shiftY); y < Math.Min(Pad, (Side * 10) + shiftY); y++)
        {
            for (int x = Math.Max(0, shiftX); x < Math.Min(Pad, (Side * 10) + shiftX); x++)
            {
                gray[(y * Pad) + x] = (byte)MathF.Round(digit[(((y - shiftY) / 10) * Side) + ((x - shiftX) / 10)] * 255f);
            }
        }

        return gray;
    }

    // The largest differences between expected and actual moved by (dx, dy), inside the box and outside it.
    private static (double Inside, double Outside) MaxDifference(float[] expected, float[] actual, int dx, int dy, (int Left, int Top, int Right, int Bottom) box)
    {
        double inside = 0, outside = 0;
        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                int sx = x + dx, sy = y + dy;
                float shifted = sx is >= 0 and < Side && sy is >= 0 and < Side ? actual[(sy * Side) + sx] : 0f;
                double difference = Math.Abs(expected[(y * Side) + x] - shifted);
                if (x >= box.Left && x <= box.Right && y >= box.Top && y <= box.Bottom)
                {
                    inside = Math.Max(inside, difference);
                }
                else
                {
                    outside = Math.Max(outside, difference);
                }
            }
        }

        return (inside, outside);
    }

    // The box of the pixels above the preprocessing's ink threshold (16 of 255).
    private static (int Left, int Top, int Right, int Bottom) Box(float[] image)
    {
        (int left, int top, int right, int bottom) = (Side, Side, -1, -1);
        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                if (image[(y * Side) + x] > 16.5f / 255)
                {
                    (left, right, top, bottom) = (Math.Min(left, x), Math.Max(right, x), Math.Min(top, y), Math.Max(bottom, y));
                }
            }
        }

        return (left, top, right, bottom);
    }

    private static (float X, float Y) CentreOfMass(float[] image)
    {
        float mass = 0, x = 0, y = 0;
        for (int i = 0; i < image.Length; i++)
        {
            mass += image[i];
            x += image[i] * ((i % Side) + 0.5f);
            y += image[i] * ((i / Side) + 0.5f);
        }

        return (x / mass, y / mass);
    }
}
