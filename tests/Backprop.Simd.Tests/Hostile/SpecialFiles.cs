using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Tests.Hostile;

/// <summary>Device nodes and FIFOs made inside a test's own temporary directory (never the real /dev).</summary>
public static class SpecialFiles
{
    /// <summary>Makes a FIFO at <paramref name="path"/> with coreutils' <c>mkfifo</c>.</summary>
    public static void MakeFifo(string path) => Assert.True(RunTool("mkfifo", path), $"mkfifo {path} failed");

    /// <summary>Makes a character device like /dev/full (1, 7) at <paramref name="path"/>; false when not allowed (not root).</summary>
    public static bool TryMakeFullDevice(string path) => RunTool("mknod", path, "c", "1", "7");

    /// <summary>Makes a character device like /dev/zero (1, 5) at <paramref name="path"/>; false when not allowed (not root).</summary>
    public static bool TryMakeZeroDevice(string path) => RunTool("mknod", path, "c", "1", "5");

    /// <summary>Whether the process runs as root (effective uid 0, whatever the account is called), for whom directory permissions do not apply.</summary>
    public static bool IsRoot => !OperatingSystem.IsWindows() && GetEffectiveUserId() == 0;

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();

    private static bool RunTool(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode == 0;
    }
}
