// Renders one of the bundled test digits as the 28x28 PNG that `backprop predict --image` reads, for samples/.
//
// Usage (from the repository root):
//   dotnet run scripts/render-sample-digit.cs -- <test-index> <output.png>
//   dotnet run scripts/render-sample-digit.cs -- 17 samples/digit-7.png
//
// The digit is read with the library's MnistData.LoadBundled (the t10k files of data/mnist-10k) and written with
// SkiaSharp as an 8-bit grayscale PNG, white digit on black like MNIST: pixel byte = round(value * 255), which gives
// back the file's bytes exactly, so `predict --image` sees the same inputs as `predict --index <test-index>`.
#:project ../src/Backprop.Simd.Cli/Backprop.Simd.Cli.csproj

using Backprop.Simd.Data;
using SkiaSharp;

if (args.Length != 2 || !int.TryParse(args[0], out int index))
{
    Console.Error.WriteLine("usage: dotnet run scripts/render-sample-digit.cs -- <test-index> <output.png>");
    return 1;
}

Dataset test = MnistData.LoadBundled().Test;
ReadOnlySpan<float> pixels = test.Input(index);
using var bitmap = new SKBitmap(28, 28, SKColorType.Gray8, SKAlphaType.Opaque);
for (int i = 0; i < 28 * 28; i++)
{
    byte v = (byte)Math.Round(pixels[i] * 255);
    bitmap.SetPixel(i % 28, i / 28, new SKColor(v, v, v));
}

using (FileStream file = File.Create(args[1]))
{
    bitmap.Encode(file, SKEncodedImageFormat.Png, 100);
}

Console.WriteLine($"Wrote test image {index} (label {test.Label(index)}) to {args[1]} ({new FileInfo(args[1]).Length} bytes).");
return 0;
