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
            LoadedModel loaded = LoadedModel.Load(modelPath); // an int8 model file exports its int8 graph (MatMulInteger)
            CommonOptions.About("--onnx", () =>
            {
                if (loaded.Int8 is { } int8)
                {
                    OnnxModel.Save(int8, onnxPath);
                }
                else
                {
                    OnnxModel.Save(loaded.Float!, onnxPath);
                }
            });
            console.Out.WriteLine($"Exported {(loaded.Int8 is null ? "" : "int8 ")}{loaded.Describe()} from {modelPath} to {onnxPath} ({new FileInfo(onnxPath).Length:N0} bytes, ONNX IR {OnnxModel.IrVersion}, opset {OnnxModel.OpsetVersion}).");
            return 0;
        });
        return command;
    }
}
