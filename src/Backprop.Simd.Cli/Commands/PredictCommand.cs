using System.CommandLine;
using Backprop.Simd.Data;

namespace Backprop.Simd.Cli.Commands;

/// <summary><c>backprop predict --model FILE --image FILE | --index N</c>: classify one digit.</summary>
internal static class PredictCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string> model = CommonOptions.Model(required: true);
        Option<string> image = new("--image") { Description = "A 28x28 grayscale PNG image, white digit on black like MNIST.", HelpName = "FILE" };
        Option<int> index = CommonOptions.WholeNumber("--index", "Classify test image N of --data instead (0-based).", defaultValue: null, minimum: 0);
        Option<string> data = CommonOptions.Data();
        var command = new Command("predict", "Classify one image and print the output activations.") { model, image, index, data };
        command.Validators.Add(result =>
        {
            bool hasImage = result.GetResult(image) is not null, hasIndex = result.GetResult(index) is not null;
            if (hasImage == hasIndex)
            {
                result.AddError("predict needs exactly one of --image FILE or --index N.");
            }
        });
        command.SetAction(parsed =>
        {
            string modelPath = parsed.GetRequiredValue(model);
            LoadedModel loaded = LoadedModel.Load(modelPath); // a float or an int8 model file
            float[] pixels;
            string what;
            int? label = null;
            if (parsed.GetValue(image) is string path)
            {
                pixels = CommonOptions.About("--image", () => DigitImage.Load(path));
                what = path;
            }
            else
            {
                int k = parsed.GetValue(index);
                MnistSplit split = CommonOptions.LoadData(parsed.GetValue(data));
                if (k >= split.Test.Count)
                {
                    throw new UserErrorException(
                        $"--index must be {CommonOptions.WholeNumberRange(0, split.Test.Count - 1)}, the test images of {CommonOptions.DataName(parsed.GetValue(data))}, but was {k}.");
                }

                pixels = new float[split.Test.InputSize];
                split.Test.Input(k, pixels);
                label = split.Test.Label(k);
                what = $"test image {k} of {CommonOptions.DataName(parsed.GetValue(data))}";
            }

            if (pixels.Length != loaded.InputSize)
            {
                throw new UserErrorException($"{what} has {pixels.Length} pixels, but {modelPath} takes {loaded.InputSize} inputs.");
            }

            ReadOnlySpan<float> output = loaded.Int8 is { } int8
                ? int8.FeedForward(pixels, new QuantizedWorkspace(int8))
                : loaded.Float!.FeedForward(pixels, new Workspace(loaded.Float!));
            int predicted = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(output);
            console.Out.WriteLine($"Predicted: {predicted}{(label is int l ? $" (label {l})" : "")}");
            for (int j = 0; j < output.Length; j++)
            {
                console.Out.WriteLine($"  {j}: {output[j]:F4}{(j == predicted ? "  <" : "")}");
            }

            return 0;
        });
        return command;
    }
}
