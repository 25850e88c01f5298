using Backprop.Simd.Serialization;
using System.CommandLine;

namespace Backprop.Simd.Cli.Commands;

/// <summary><c>backprop info --model FILE</c>: what a model file holds.</summary>
internal static class InfoCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string> model = CommonOptions.Model(required: true);
        var command = new Command("info", "Print a model's layer sizes, parameter count, cost and activations.") { model };
        command.SetAction(parsed =>
        {
            string path = parsed.GetRequiredValue(model);
            LoadedModel loaded = LoadedModel.Load(path); // a float or an int8 model file
            ReadOnlySpan<int> sizes = loaded.Float is { } floats ? floats.Sizes : loaded.Int8!.Sizes;
            long parameters = 0;
            for (int l = 1; l < sizes.Length; l++)
            {
                parameters += ((long)sizes[l] * sizes[l - 1]) + sizes[l];
            }

            console.Out.WriteLine($"Model:       {path}");
            console.Out.WriteLine($"Sizes:       [{string.Join(", ", sizes.ToArray())}]");
            console.Out.WriteLine($"Layers:      {sizes.Length} ({CommonOptions.Count(sizes.Length - 1, "weight layer")})");
            console.Out.WriteLine($"Parameters:  {parameters:N0}");
            console.Out.WriteLine($"Cost:        {Names.Of(loaded.Float?.Cost ?? loaded.Int8!.Cost)}");
            console.Out.WriteLine($"Activations: {Names.Of(loaded.Float is { } network ? network.Activations : loaded.Int8!.Activations)}");
            if (loaded.Int8 is { } int8)
            {
                console.Out.WriteLine($"Precision:   int8 (weight codes with a scale per row, biases float; {int8.WeightBytes / 1024.0:F1} KiB of weights in memory)");
                console.Out.WriteLine($"Scales:      {(int8.IsCalibrated ? "calibrated (each layer's input scale fixed from data; values beyond it saturate)" : "dynamic (each layer's input scale chosen per sample)")}");
            }

            return 0;
        });
        return command;
    }
}
