using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Backprop.Simd.Benchmarks.Onnx;

/// <summary>What <c>scripts/torch-peer.py --about</c> prints: torch's version and the OpenBLAS it runs on.</summary>
internal sealed record About(string? Torch, string? Blas);

/// <summary>What one run of scripts/torch-peer.py measured (medians), as it prints it.</summary>
internal sealed record TorchResult(string Torch, int Threads, double TrainSamplesPerSecond, int TrainRounds,
    double? LatencyMicroseconds, int? LatencyCalls, double InferenceSamplesPerSecond, int InferenceRounds);

/// <summary>
/// PyTorch as a subprocess: scripts/torch-peer.py run by a Python that has torch and numpy. The interpreter is
/// <c>$BACKPROP_PYTHON</c> when set, else the first of /usr/bin/python3 (Debian's python3-torch) and python3 on the
/// PATH that imports both; each run gets its thread count through OMP_NUM_THREADS and OPENBLAS_NUM_THREADS, and
/// OMP_WAIT_POLICY=PASSIVE: Debian's torch has two thread pools, OpenMP's and OpenBLAS's, and with OpenMP's threads
/// spinning after each operation (its default) the two fight for the 2 cores: training [784,100,10] at 2 threads ran
/// at 47,000 samples/s instead of 119,000 in one test. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which override what
/// OpenBLAS reads of the CPU, are not passed on; OPENBLAS_CORETYPE is set only when the harness is given a core
/// (<c>--torch-coretype NAME</c>). Without one OpenBLAS picks its kernels for the CPU, where an environment that named
/// Haswell's had it multiply at half the width this AVX-512 host has (docs/optimizing-backprop.md, nineteenth session).
/// </summary>
internal sealed class TorchPeer
{
    /// <summary>The environment variable that names the Python interpreter to use.</summary>
    public const string PythonVariable = "BACKPROP_PYTHON";

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The environment variable through which OpenBLAS is told which CPU's kernels to run.</summary>
    public const string CoreTypeVariable = "OPENBLAS_CORETYPE";

    private readonly string? _coreType;

    private TorchPeer(string python, string script, string version, string blas, string? coreType)
    {
        Python = python;
        Script = script;
        Version = version;
        Blas = blas;
        _coreType = coreType;
    }

    public string Python { get; }

    public string Script { get; }

    /// <summary>torch.__version__ of the interpreter.</summary>
    public string Version { get; }

    /// <summary>The OpenBLAS the script runs on and its kernels, as the script reports them (<c>--about</c>).</summary>
    public string Blas { get; }

    /// <summary>The peer, or null with the reason it cannot run here; <paramref name="coreType"/>, when not null, is passed
    /// to OpenBLAS as OPENBLAS_CORETYPE, which otherwise picks its own kernels.</summary>
    public static TorchPeer? Find(string? coreType, out string reason)
    {
        string? script = FindScript();
        if (script is null)
        {
            reason = $"scripts/torch-peer.py was not found above {AppContext.BaseDirectory}; run from the repository";
            return null;
        }

        string? chosen = Environment.GetEnvironmentVariable(PythonVariable);
        string[] candidates = string.IsNullOrEmpty(chosen) ? ["/usr/bin/python3", "python3"] : [chosen];
        var failures = new List<string>();
        foreach (string python in candidates)
        {
            (int exit, string output, string error) = RunProcess(python, [script, "--about"], ChildEnvironment(1, coreType), TimeSpan.FromMinutes(1));
            if (exit == 0 && ParseAbout(LastLine(output)) is { Torch: not null, Blas: not null } about)
            {
                reason = "";
                return new TorchPeer(python, script, about.Torch, about.Blas, coreType);
            }

            failures.Add($"{python}: {(exit == 0 ? "no description from --about" : LastLine(error))}");
        }

        reason = $"no Python with torch and numpy ({string.Join("; ", failures)}); set {PythonVariable} to one";
        return null;
    }

    /// <summary>Runs the script on <paramref name="directory"/> with <paramref name="threads"/> threads.</summary>
    public TorchResult Run(string directory, int threads, bool check)
    {
        string t = threads.ToString(CultureInfo.InvariantCulture);
        List<string> arguments = [Script, directory, t];
        if (check)
        {
            arguments.Add("--check");
        }

        (int exit, string output, string error) = RunProcess(Python, arguments, ChildEnvironment(threads, _coreType), TimeSpan.FromMinutes(15));
        if (exit != 0)
        {
            throw new InvalidOperationException($"{Python} {Script} exited with {exit}: {error.Trim()}");
        }

        return JsonSerializer.Deserialize<TorchResult>(LastLine(output), Json)
            ?? throw new InvalidOperationException($"{Script} printed no result.");
    }

    /// <summary>Writes <paramref name="values"/> as raw little-endian float32, the script's format.</summary>
    public static void Write(string path, ReadOnlySpan<float> values) => File.WriteAllBytes(path, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>Reads raw float64 or float32 (by the extension .f64 or .f32) as doubles.</summary>
    public static double[] Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return path.EndsWith(".f64", StringComparison.Ordinal)
            ? MemoryMarshal.Cast<byte, double>(bytes).ToArray()
            : [.. MemoryMarshal.Cast<byte, float>(bytes).ToArray().Select(v => (double)v)];
    }

    // The script's environment: the thread counts, passive OpenMP threads, OPENBLAS_CORETYPE only when chosen, and no
    // OPENBLAS_L2_SIZE (a null value removes a variable the harness itself may have inherited).
    private static (string Name, string? Value)[] ChildEnvironment(int threads, string? coreType)
    {
        string t = threads.ToString(CultureInfo.InvariantCulture);
        return [("OMP_NUM_THREADS", t), ("OPENBLAS_NUM_THREADS", t), ("MKL_NUM_THREADS", t), ("OMP_WAIT_POLICY", "PASSIVE"),
            (CoreTypeVariable, coreType), ("OPENBLAS_L2_SIZE", null)];
    }

    // The --about line, or null when it is not the JSON the script prints (something else wrote the last line).
    private static About? ParseAbout(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<About>(line, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no output)";

    private static (int Exit, string Output, string Error) RunProcess(string file, IEnumerable<string> arguments,
        IEnumerable<(string Name, string? Value)> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach ((string name, string? value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        try
        {
            using Process process = Process.Start(start)!;
            Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return (-1, "", $"timed out after {timeout.TotalMinutes} minutes");
            }

            return (process.ExitCode, output.Result, error.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, "", e.Message);
        }
    }

    private static string? FindScript()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (DirectoryInfo? directory = new(start); directory is not null; directory = directory.Parent)
            {
                string candidate = Path.Combine(directory.FullName, "scripts", "torch-peer.py");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
