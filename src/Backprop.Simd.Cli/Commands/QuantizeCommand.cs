using System.CommandLine;
using Backprop.Simd.IO;

namespace Backprop.Simd.Cli.Commands;

/// <summary><c>backprop quantize --model FILE --out FILE</c>: a float model file as an int8 model file, which
/// <c>evaluate</c>, <c>predict</c>, <c>bench</c>, <c>export</c> and <c>info</c> (and <see cref="QuantizedNetwork.Load"/>) read without the float model.</summary>
internal static class QuantizeCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string> model = CommonOptions.Model(required: true);
        Option<string> output = new("--out") { Description = "The int8 model file to write (replaced atomically if it exists).", HelpName = "FILE", Required = true };
        var command = new Command("quantize", "Quantize a saved model to int8 (weights per row, see docs/quantization.md) and save it as an int8 model file.") { model, output };
        command.SetAction(parsed =>
        {
            string modelPath = parsed.GetRequiredValue(model), outPath = parsed.GetRequiredValue(output);
            CommonOptions.About("--out", () => SafeFile.CheckWritable(outPath)); // before the work, so a bad destination is reported first
            LoadedModel loaded = LoadedModel.Load(modelPath);
            if (loaded.Float is not { } network)
            {
                throw new UserErrorException($"--model: {modelPath} is already an int8 model file; give the float model it came from.");
            }

            QuantizedNetwork quantized = CommonOptions.About("--model", () => QuantizedNetwork.From(network));
            CommonOptions.About("--out", () => quantized.Save(outPath));
            console.Out.WriteLine($"Quantized {loaded.Describe()} from {modelPath} to {outPath} ({new FileInfo(outPath).Length:N0} bytes; int8 weights {quantized.WeightBytes / 1024.0:F1} KiB in memory).");
            return 0;
        });
        return command;
    }
}
