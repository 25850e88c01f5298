using System.Runtime.CompilerServices;
using Backprop.Simd.Data;

namespace Backprop.Simd.Tests.Data;

/// <summary>
/// Points the command line's IDX cache (<see cref="IdxCache.FromEnvironment"/>) at a temporary directory for this test
/// process and the <c>backprop</c> processes it starts, so that running the tests never writes into the user's
/// <c>~/.cache</c>; the directory is deleted when the process exits.
/// </summary>
internal static class CacheIsolation
{
    [ModuleInitializer]
    internal static void Isolate()
    {
        if (Environment.GetEnvironmentVariable(IdxCache.EnvironmentVariable) is { Length: > 0 })
        {
            return;
        }

        string directory = Path.Combine(Path.GetTempPath(), $"backprop-simd-test-cache-{Environment.ProcessId}");
        Environment.SetEnvironmentVariable(IdxCache.EnvironmentVariable, directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        };
    }
}
