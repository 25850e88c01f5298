using System.CommandLine;
using Backprop.Simd.IO;
using Backprop.Simd.Onnx;

namespace Backprop.Simd.Cli.Commands;

/// <summary><c>backprop export --model FILE --onnx OUT.onnx</c>: a model file as an ONNX model.</summary>
internal static class ExportCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string> model = CommonOptions.Model(required: true);
        Option<string> onnx = new("--onnx") { Description = "The ONNX model to write (replaced atomically if it exists).", HelpName = "FILE", Required = true };
        var command = new Command("export", $"Export a model as ONNX (IR {OnnxModel.IrVersion}, opset {OnnxModel.OpsetVersion}): one Gemm and one activation node per layer, input [N, n_in].") { model, onnx };
        command.SetAction(parsed =>
        {
            string modelPath = parsed.GetRequiredValue(model), onnxPath = parsed.GetRequiredValue(onnx);
            CommonOptions.About("--onnx", () => SafeFile.CheckWritable(onnxPath)); // before the work, so a bad destination is reported first
            Network network = CommonOptions.LoadModel(modelPath);
            CommonOptions.About("--onnx", () => OnnxModel.Save(network, onnxPath));
            console.Out.WriteLine($"Exported {CommonOptions.Describe(network)} from {modelPath} to {onnxPath} ({new FileInfo(onnxPath).Length:N0} bytes, ONNX IR {OnnxModel.IrVersion}, opset {OnnxModel.OpsetVersion}).");
            return 0;
        });
        return command;
    }
}
