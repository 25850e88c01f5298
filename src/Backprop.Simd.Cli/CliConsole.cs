using System.Diagnostics;

namespace Backprop.Simd.Cli;

/// <summary>Where a command writes: standard output and error, and whether a live progress line makes sense.</summary>
internal sealed class CliConsole(TextWriter output, TextWriter error, bool interactive)
{
    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    public ProgressLine Progress { get; } = new(output, interactive);
}

/// <summary>
/// A single progress line redrawn in place (carriage return) at most ten times a second, only on a terminal;
/// when output is redirected it draws nothing, so logs get plain lines.
/// </summary>
internal sealed class ProgressLine(TextWriter output, bool enabled)
{
    private long _lastDraw;
    private bool _visible;

    public void Report(string label, int done, int total)
    {
        if (!enabled || Stopwatch.GetElapsedTime(_lastDraw).TotalMilliseconds < 100 || done >= total)
        {
            return;
        }

        _lastDraw = Stopwatch.GetTimestamp();
        const int width = 30;
        int filled = (int)((long)done * width / total);
        output.Write($"\r{label} [{new string('#', filled)}{new string('.', width - filled)}] {100.0 * done / total,5:F1}%");
        _visible = true;
    }

    public void Clear()
    {
        if (_visible)
        {
            output.Write("\r" + new string(' ', 60) + "\r");
            _visible = false;
        }
    }
}
