using System.CommandLine;
using Backprop.Simd.Data;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Cli.Commands;

/// <summary><c>backprop evaluate --model FILE [--data DIR] [--precision float32|int8]</c>: accuracy on the test set.</summary>
internal static class EvaluateCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string> model = CommonOptions.Model(required: true);
        Option<string> data = CommonOptions.Data();
        Option<string> precision = CommonOptions.Precision();
        var command = new Command("evaluate", "Count the test images (the t10k files) a saved model classifies correctly.") { model, data, precision };
        command.SetAction(parsed =>
        {
            string modelPath = parsed.GetRequiredValue(model);
            Network network = CommonOptions.LoadModel(modelPath);
            MnistSplit split = CommonOptions.LoadData(parsed.GetValue(data));
            CommonOptions.CheckFits(network, split.Test, modelPath, CommonOptions.DataName(parsed.GetValue(data)));
            int correct;
            if (parsed.GetValue(precision) == "int8")
            {
                QuantizedNetwork quantized = CommonOptions.About("--model", () => QuantizedNetwork.From(network));
                correct = quantized.Evaluate(split.Test, new QuantizedWorkspace(quantized));
            }
            else
            {
                correct = Evaluation.Evaluate(network, new Workspace(network), split.Test);
            }

            console.Out.WriteLine($"{correct} / {split.Test.Count} ({CommonOptions.Percent(correct, split.Test.Count)})");
            return 0;
        });
        return command;
    }
}
