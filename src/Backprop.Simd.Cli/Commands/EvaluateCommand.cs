using System.CommandLine;
using Backprop.Simd.Data;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Cli.Commands;

/// <summary><c>backprop evaluate --model FILE [--data DIR] [--precision float32|int8]</c>: accuracy on the test set (an int8
/// model file runs in int8).</summary>
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
            LoadedModel loaded = LoadedModel.Load(modelPath);
            QuantizedNetwork? quantized = loaded.ForPrecision(parsed.GetValue(precision)!, parsed.GetResult(precision) is { Implicit: false });
            MnistSplit split = CommonOptions.LoadData(parsed.GetValue(data));
            if (loaded.InputSize != split.Test.InputSize || loaded.OutputSize != split.Test.TargetSize)
            {
                throw new UserErrorException(
                    $"{modelPath} has sizes {loaded.Describe()}, but the data in {CommonOptions.DataName(parsed.GetValue(data))} need {split.Test.InputSize} inputs and {split.Test.TargetSize} outputs.");
            }

            int correct = quantized is not null
                ? quantized.Evaluate(split.Test, new QuantizedWorkspace(quantized))
                : Evaluation.Evaluate(loaded.Float!, new Workspace(loaded.Float!), split.Test);

            console.Out.WriteLine($"{correct} / {split.Test.Count} ({CommonOptions.Percent(correct, split.Test.Count)})");
            return 0;
        });
        return command;
    }
}
