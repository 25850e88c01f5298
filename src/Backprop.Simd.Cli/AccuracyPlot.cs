using Backprop.Simd.IO;
using ScottPlot;

namespace Backprop.Simd.Cli;

/// <summary>
/// The per-epoch series as a PNG line chart (ScottPlot, rendered headless through SkiaSharp): accuracies in percent
/// on the left axis, costs, when monitored, on the right.
/// </summary>
internal static class AccuracyPlot
{
    public static void Save(string path, string title, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> accuracies,
        IReadOnlyList<(string Name, IReadOnlyList<double> Values)> costs)
    {
        var plot = new Plot();
        foreach ((string name, IReadOnlyList<double> values) in accuracies)
        {
            var line = plot.Add.Scatter(Epochs(values.Count), values.ToArray());
            line.LegendText = name;
        }

        foreach ((string name, IReadOnlyList<double> values) in costs)
        {
            var line = plot.Add.Scatter(Epochs(values.Count), values.ToArray());
            line.LegendText = name;
            line.LinePattern = LinePattern.Dashed;
            line.Axes.YAxis = plot.Axes.Right;
        }

        plot.Title(title);
        plot.XLabel("Epoch");
        plot.YLabel("Accuracy (%)");
        if (costs.Count > 0)
        {
            plot.Axes.Right.Label.Text = "Cost";
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Edge.Bottom);

        // Rendered in memory, then written with the library's atomic write: never a broken PNG, never a device replaced.
        using ScottPlot.Image image = plot.GetImage(900, 540);
        byte[] png = image.GetImageBytes(ImageFormat.Png, 100);
        SafeFile.WriteAtomically(path, stream => stream.Write(png));
    }

    private static double[] Epochs(int count) => Enumerable.Range(0, count).Select(e => (double)e).ToArray();
}
