using System.CommandLine;
using Backprop.Simd.Serialization;

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
            Network network = CommonOptions.LoadModel(path);
            console.Out.WriteLine($"Model:      {path}");
            console.Out.WriteLine($"Sizes:      [{string.Join(", ", network.Sizes.ToArray())}]");
            console.Out.WriteLine($"Layers:     {network.Sizes.Length} ({network.OutputLayer} weight layers)");
            console.Out.WriteLine($"Parameters: {network.ParameterCount:N0}");
            console.Out.WriteLine($"Cost:       {ModelJson.CostName(network.Cost)}");
            console.Out.WriteLine($"Activations: {string.Join(", ", network.Activations.ToArray().Select(ModelJson.ActivationName))}");
            return 0;
        });
        return command;
    }
}
