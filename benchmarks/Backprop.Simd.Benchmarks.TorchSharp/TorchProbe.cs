using System.Runtime.InteropServices;
using TorchSharp;

namespace Backprop.Simd.Benchmarks.TorchSharp;

/// <summary>
/// Whether LibTorch's native library loads in this process, tried once (a <c>torch.zeros</c> in a try/catch).
/// TorchSharp 0.107 (LibTorch 2.10) needs a libstdc++ with <c>GLIBCXX_3.4.32</c> (GCC 13 or newer); on older systems,
/// such as Debian 12, the load fails and TorchSharp's own message does not say why, so the probe then loads the
/// native library directly to get the loader's one-line reason.
/// </summary>
public static class TorchProbe
{
    private static readonly Lazy<string?> s_failure = new(Probe);

    /// <summary>Null when LibTorch works here; otherwise one line saying why it does not.</summary>
    public static string? FailureReason => s_failure.Value;

    /// <summary>Throws <see cref="NotSupportedException"/> with <see cref="FailureReason"/> when LibTorch does not load.</summary>
    public static void EnsureAvailable()
    {
        if (FailureReason is { } reason)
        {
            throw new NotSupportedException(reason);
        }
    }

    private static string? Probe()
    {
        try
        {
            using torch.Tensor probe = torch.zeros(1);
            return null;
        }
        catch (Exception e)
        {
            return $"LibTorch (TorchSharp {typeof(torch).Assembly.GetName().Version}) does not load on this machine: {LoaderReason() ?? FirstLine(e)}";
        }
    }

    /// <summary>The dynamic loader's own message for TorchSharp's native bridge, or null when it loads or is not found.</summary>
    private static string? LoaderReason()
    {
        string library = Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native",
            OperatingSystem.IsWindows() ? "LibTorchSharp.dll" : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so");
        if (!File.Exists(library))
        {
            return null;
        }

        try
        {
            NativeLibrary.Free(NativeLibrary.Load(library));
            return null;
        }
        catch (Exception e)
        {
            // .NET wraps dlerror() in a longer sentence (over several lines); the loader's part is the useful one.
            string message = $"{e.GetType().Name}: {string.Join(' ', e.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}";
            int glibcxx = message.IndexOf("version `GLIBCXX", StringComparison.Ordinal);
            if (glibcxx >= 0)
            {
                int start = message.LastIndexOf(": /", glibcxx, StringComparison.Ordinal);
                message = message[(start < 0 ? glibcxx : start + 2)..].Trim() + " (the system libstdc++ is older than GCC 13's)";
            }

            return message.Replace(library, Path.GetFileName(library), StringComparison.Ordinal);
        }
    }

    private static string FirstLine(Exception e)
    {
        Exception innermost = e;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        string text = innermost.Message;
        int newline = text.IndexOfAny(['\r', '\n']);
        return $"{innermost.GetType().Name}: {(newline < 0 ? text : text[..newline]).Trim()}";
    }
}
