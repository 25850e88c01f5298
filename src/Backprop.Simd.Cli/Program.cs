namespace Backprop.Simd.Cli;

internal static class Program
{
    private static int Main(string[] args) => BackpropCli.Run(args, Console.Out, Console.Error);
}
