using System.CommandLine;
using Backprop.Simd.Cli.Commands;

namespace Backprop.Simd.Cli;

/// <summary>The <c>backprop</c> command line: a thin layer over the library, one file per command.</summary>
public static class BackpropCli
{
    /// <summary>Exit code for a user error (bad option, missing or corrupt file, size mismatch).</summary>
    public const int UserError = 1;

    /// <summary>Exit code for an unexpected failure, which is a bug.</summary>
    public const int InternalError = 2;

    /// <summary>Parses <paramref name="args"/> and runs the command, writing to the given writers.</summary>
    /// <returns>The process exit code: 0 on success.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var console = new CliConsole(output, error, interactive: ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected);
        var root = new RootCommand("backprop: train and run small fully connected networks with Backprop.Simd (SIMD, zero-allocation backpropagation).")
        {
            TrainCommand.Create(console),
            EvaluateCommand.Create(console),
            PredictCommand.Create(console),
            InfoCommand.Create(console),
            ExportCommand.Create(console),
            ImportCommand.Create(console),
            BenchCommand.Create(console),
            QuantizeCommand.Create(console),
        };

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is System.CommandLine.Invocation.ParseErrorAction)
        {
            // One line, not the whole help text: scripts read stderr too.
            string command = string.Join(' ', parsed.CommandResult.Command is RootCommand ? ["backprop"] : ["backprop", parsed.CommandResult.Command.Name]);
            string messages = System.Text.RegularExpressions.Regex.Replace(string.Join(" ", parsed.Errors.Select(e => e.Message)), @"\s+", " ");
            error.WriteLine($"backprop: {messages} (see '{command} --help')");
            return UserError;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            console.Progress.Clear();
            error.WriteLine($"backprop: {OneLine(e)}");
            return UserError;
        }
        catch (OutOfMemoryException)
        {
            // The checks before each large allocation should prevent this; if memory still runs out, say so in one line.
            console.Progress.Clear();
            error.WriteLine($"backprop: out of memory: this process may use {MemoryLimit()} (physical memory, a container's limit or DOTNET_GCHeapHardLimit) and the command needed more. {SmallerHint(parsed.CommandResult.Command)}");
            return UserError;
        }
        catch (Exception e) when (MissingNativeLibrary(e) is not null)
        {
            // The tool package carries SkiaSharp's natives for the common platforms only (see the project file).
            console.Progress.Clear();
            error.WriteLine($"backprop: drawing or reading PNG images needs SkiaSharp's native library, libSkiaSharp, and it could not be loaded on {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier} (the tool package carries it for linux-x64, linux-arm64, linux-musl-x64, osx, win-x64 and win-arm64); every other command and option works without it.");
            return UserError;
        }
        catch (Exception e)
        {
            console.Progress.Clear();
            error.WriteLine($"backprop: internal error ({e.GetType().Name}): {e.Message}");
            if (Environment.GetEnvironmentVariable("BACKPROP_TRACE") == "1")
            {
                error.WriteLine(e);
            }
            else
            {
                error.WriteLine("backprop: this is a bug; set BACKPROP_TRACE=1 to see where it happened.");
            }

            return InternalError;
        }
    }

    // Library errors name the parameter in a suffix and sometimes add the actual value on a second line;
    // the message itself already says both.
    internal static string OneLine(Exception e)
    {
        string message = e.Message.Split('\n')[0].TrimEnd();
        return e is ArgumentException { ParamName: string name } ? message.Replace($" (Parameter '{name}')", "") : message;
    }

    private static string MemoryLimit()
    {
        double mib = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024);
        return mib >= 1024 ? $"{mib / 1024:F1} GiB" : $"{mib:F1} MiB";
    }

    // What to try after running out of memory, in the options of the command that ran: only train has --sizes and --batch-size.
    internal static string SmallerHint(Command command) => command.Options.Any(o => o.Name == "--sizes") && command.Options.Any(o => o.Name == "--batch-size")
        ? "Try smaller --sizes or --batch-size, or smaller data."
        : "Try a smaller model or smaller data.";

    // A native library that could not be loaded, possibly wrapped in the type initializers that tried to load it.
    private static DllNotFoundException? MissingNativeLibrary(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is DllNotFoundException missing)
            {
                return missing;
            }
        }

        return null;
    }

    private static bool IsUserError(Exception e) =>
        e is UserErrorException or IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException;
}
