using System.CommandLine;
using Backprop.Simd.IO;
using Backprop.Simd.Onnx;
using Backprop.Simd.Serialization;

namespace Backprop.Simd.Cli.Commands;

/// <summary><c>backprop import --onnx IN.onnx --save FILE</c>: an ONNX model of fully connected layers as a model file.</summary>
internal static class ImportCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string> onnx = new("--onnx") { Description = "An ONNX model of fully connected layers (Gemm, or MatMul + Add) and their activations, e.g. from torch.onnx.export of an nn.Sequential (see docs/onnx.md for the forms read).", HelpName = "FILE", Required = true };
        Option<string> save = new("--save") { Description = "The model file to write (network2.py's JSON layout).", HelpName = "FILE", Required = true };
        var command = new Command("import", "Import an ONNX model of fully connected layers and save it as a model file.") { onnx, save };
        command.SetAction(parsed =>
        {
            string onnxPath = parsed.GetRequiredValue(onnx), savePath = parsed.GetRequiredValue(save);
            CommonOptions.About("--save", () => SafeFile.CheckWritable(savePath)); // before the work, so a bad destination is reported first
            Network network = CommonOptions.About("--onnx", () => OnnxModel.Load(onnxPath));
            CommonOptions.About("--save", () => ModelJson.Save(network, savePath));
            console.Out.WriteLine($"Imported {CommonOptions.Describe(network)} from {onnxPath} and saved it to {savePath}.");
            return 0;
        });
        return command;
    }
}
