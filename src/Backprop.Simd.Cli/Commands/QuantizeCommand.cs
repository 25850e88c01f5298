using System.CommandLine;
using Backprop.Simd.Data;
using Backprop.Simd.IO;

namespace Backprop.Simd.Cli.Commands;

/// <summary><c>backprop quantize --model FILE --out FILE [--calibrate [--data DIR]]</c>: a float model file as an int8
/// model file, which <c>evaluate</c>, <c>predict</c>, <c>bench</c>, <c>export</c> and <c>info</c> (and
/// <see cref="QuantizedNetwork.Load"/>) read without the float model; with <c>--calibrate</c>, each layer's input
/// scale fixed from the training images (<see cref="QuantizedNetwork.From(Network, Dataset)"/>).</summary>
internal static class QuantizeCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string> model = CommonOptions.Model(required: true);
        Option<string> output = new("--out") { Description = "The int8 model file to write (replaced atomically if it exists).", HelpName = "FILE", Required = true };
        Option<bool> calibrate = new("--calibrate")
        {
            Description = "Fix each layer's input scale from the training images of --data (the range the float network's values take there) instead of choosing it per sample: faster, and values beyond the range saturate.",
        };
        Option<string> data = CommonOptions.Data();
        data.Description = $"With --calibrate: directory of the MNIST-format files whose training images calibrate the scales. {CommonOptions.Default("the training part of the bundled 10,000 MNIST digits")}";
        var command = new Command("quantize", "Quantize a saved model to int8 (weights per row, see docs/quantization.md) and save it as an int8 model file.") { model, output, calibrate, data };
        command.SetAction(parsed =>
        {
            string modelPath = parsed.GetRequiredValue(model), outPath = parsed.GetRequiredValue(output);
            string? directory = parsed.GetValue(data);
            bool calibrated = parsed.GetValue(calibrate);
            if (directory is not null && !calibrated)
            {
                throw new UserErrorException("--data is only read with --calibrate (the training images calibrate the input scales); add --calibrate, or leave --data out for scales chosen per sample.");
            }

            CommonOptions.About("--out", () => SafeFile.CheckWritable(outPath)); // before the work, so a bad destination is reported first
            LoadedModel loaded = LoadedModel.Load(modelPath);
            if (loaded.Float is not { } network)
            {
                throw new UserErrorException($"--model: {modelPath} is already an int8 model file; give the float model it came from.");
            }

            string scales = "input scales per sample";
            QuantizedNetwork quantized;
            if (calibrated)
            {
                Dataset training = CommonOptions.LoadData(directory).Training;
                if (training.InputSize != network.InputSize)
                {
                    throw new UserErrorException($"--data: {CommonOptions.DataName(directory)} hold images of {training.InputSize} pixels, but the model takes {network.InputSize} inputs.");
                }

                quantized = CommonOptions.About("--calibrate", () => QuantizedNetwork.From(network, training));
                scales = $"input scales calibrated on {CommonOptions.Count(training.Count, "training image")} of {CommonOptions.DataName(directory)}";
            }
            else
            {
                quantized = CommonOptions.About("--model", () => QuantizedNetwork.From(network));
            }

            CommonOptions.About("--out", () => quantized.Save(outPath));
            console.Out.WriteLine($"Quantized {loaded.Describe()} from {modelPath} to {outPath} ({new FileInfo(outPath).Length:N0} bytes; int8 weights {quantized.WeightBytes / 1024.0:F1} KiB in memory; {scales}).");
            return 0;
        });
        return command;
    }
}
