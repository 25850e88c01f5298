using System.CommandLine;
using Backprop.Simd.Data;

namespace Backprop.Simd.Cli.Commands;

/// <summary><c>backprop predict --model FILE --image FILE.png | --index K</c>: classify one digit.</summary>
internal static class PredictCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string> model = CommonOptions.Model(required: true);
        Option<string> image = new("--image") { Description = "A 28x28 grayscale PNG, white digit on black like MNIST.", HelpName = "FILE.png" };
        Option<int?> index = new("--index") { Description = "Classify test image K of --data instead (0-based).", HelpName = "K" };
        Option<string> data = CommonOptions.Data();
        var command = new Command("predict", "Classify one image and print the output activations.") { model, image, index, data };
        command.Validators.Add(result =>
        {
            bool hasImage = result.GetValue(image) is not null, hasIndex = result.GetValue(index) is not null;
            if (hasImage == hasIndex)
            {
                result.AddError("predict needs exactly one of --image FILE.png or --index K.");
            }
        });
        command.SetAction(parsed =>
        {
            string modelPath = parsed.GetRequiredValue(model);
            Network network = CommonOptions.LoadModel(modelPath);
            float[] pixels;
            string what;
            int? label = null;
            if (parsed.GetValue(image) is string path)
            {
                pixels = DigitImage.Load(path);
                what = path;
            }
            else
            {
                int k = parsed.GetValue(index)!.Value;
                MnistSplit split = CommonOptions.LoadData(parsed.GetValue(data));
                if (k < 0 || k >= split.Test.Count)
                {
                    throw new UserErrorException($"--index is {k}, but the test set of {CommonOptions.DataName(parsed.GetValue(data))} has images 0 to {split.Test.Count - 1}.");
                }

                pixels = split.Test.Input(k).ToArray();
                label = split.Test.Label(k);
                what = $"test image {k} of {CommonOptions.DataName(parsed.GetValue(data))}";
            }

            if (pixels.Length != network.InputSize)
            {
                throw new UserErrorException($"{what} has {pixels.Length} pixels, but {modelPath} takes {network.InputSize} inputs.");
            }

            var workspace = new Workspace(network);
            ReadOnlySpan<float> output = network.FeedForward(pixels, workspace);
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
