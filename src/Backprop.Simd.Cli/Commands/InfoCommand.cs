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
            Network network = CommonOptions.LoadModel(path);
            console.Out.WriteLine($"Model:       {path}");
            console.Out.WriteLine($"Sizes:       [{string.Join(", ", network.Sizes.ToArray())}]");
            console.Out.WriteLine($"Layers:      {network.Sizes.Length} ({CommonOptions.Count(network.OutputLayer, "weight layer")})");
            console.Out.WriteLine($"Parameters:  {network.ParameterCount:N0}");
            console.Out.WriteLine($"Cost:        {Names.Of(network.Cost)}");
            console.Out.WriteLine($"Activations: {Names.Of(network.Activations)}");
            return 0;
        });
        return command;
    }
}
