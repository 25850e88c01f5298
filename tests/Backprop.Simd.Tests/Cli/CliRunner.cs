using Backprop.Simd.Cli;

namespace Backprop.Simd.Tests.Cli;

/// <summary>Runs <c>backprop</c> in process, as the command line would, capturing what it prints.</summary>
internal static class CliRunner
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = BackpropCli.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
