using ScottPlot;

namespace Backprop.Simd.Cli;

/// <summary>The accuracy per epoch as a PNG line chart (ScottPlot, rendered headless through SkiaSharp).</summary>
internal static class AccuracyPlot
{
    public static void Save(string path, IReadOnlyList<double> accuracyPercent, string title)
    {
        var plot = new Plot();
        double[] epochs = Enumerable.Range(0, accuracyPercent.Count).Select(e => (double)e).ToArray();
        var line = plot.Add.Scatter(epochs, accuracyPercent.ToArray());
        line.LegendText = "accuracy";
        plot.Title(title);
        plot.XLabel("Epoch");
        plot.YLabel("Accuracy (%)");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };

        // Render next to the target, then rename: a failed or interrupted write never leaves a broken PNG behind.
        string full = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp.png");
        try
        {
            plot.SavePng(temporary, 900, 540);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
