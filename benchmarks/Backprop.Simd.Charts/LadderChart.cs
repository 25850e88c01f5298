using System.Globalization;
using ScottPlot;

namespace Backprop.Simd.Charts;

/// <summary>
/// The optimization ladder (LadderBenchmarks): training samples/s of each rung, one cluster of bars per case, the
/// cases small to large (flops per sample), the rungs in the order the benchmark declares them, on a log axis, each bar labelled with its speed-up over the
/// case's first rung (the naive reference).
/// </summary>
internal static class LadderChart
{
    /// <summary>Draws the chart; returns null, or what was missing.</summary>
    public static string? Save(IReadOnlyList<WorkRow> rows, string path)
    {
        List<WorkRow> ladder = [.. rows.Where(r => r.Type == "LadderBenchmarks" && r.Samples > 0)];
        if (ladder.Count == 0)
        {
            return "it needs LadderBenchmarks rows (run '*LadderBenchmarks*')";
        }

        List<string> rungs = [.. ladder.Select(r => r.Method).Distinct()], cases = [.. ladder.OrderBy(r => r.Flops / Math.Max(r.Samples, 1)).Select(r => r.Parameters).Distinct()];
        double floor = Math.Floor(Math.Log10(ladder.Min(r => r.SamplesPerSecond)));
        var plot = new Plot();
        var bars = new List<Bar>();
        for (int c = 0; c < cases.Count; c++)
        {
            double baseline = ladder.First(r => r.Parameters == cases[c]).SamplesPerSecond;
            for (int k = 0; k < rungs.Count; k++)
            {
                WorkRow? row = ladder.FirstOrDefault(r => r.Parameters == cases[c] && r.Method == rungs[k]);
                if (row is null)
                {
                    continue;
                }

                bars.Add(new Bar
                {
                    Position = (c * (rungs.Count + 1)) + k,
                    ValueBase = floor,
                    Value = Math.Log10(row.SamplesPerSecond),
                    FillColor = Palette[k % Palette.Length],
                    Label = Speedup(row.SamplesPerSecond / baseline) + "\n" + Rate(row.SamplesPerSecond),
                });
            }
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 11;
        for (int k = 0; k < rungs.Count; k++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = rungs[k], FillColor = Palette[k % Palette.Length] });
        }

        double[] centres = [.. Enumerable.Range(0, cases.Count).Select(c => (c * (rungs.Count + 1)) + ((rungs.Count - 1) / 2.0))];
        plot.Axes.Bottom.SetTicks(centres, [.. cases]);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 14;
        LogAxes.Apply(plot.Axes.Left);
        plot.Axes.SetLimits(-1, cases.Count * (rungs.Count + 1) - 1, floor, Math.Log10(ladder.Max(r => r.SamplesPerSecond)) + 0.5);
        plot.Title("The optimization ladder: training samples/s per rung (median), speed-up over the naive reference");
        plot.YLabel("Training samples/s");
        plot.ShowLegend(Edge.Right);
        using Image image = plot.GetImage(1500, 800);
        image.SavePng(path);
        return null;
    }

    private static string Speedup(double ratio) => ratio.ToString(ratio < 10 ? "F1" : "F0", CultureInfo.InvariantCulture) + "x";

    private static string Rate(double samplesPerSecond) =>
        samplesPerSecond >= 1e6 ? (samplesPerSecond / 1e6).ToString("F2", CultureInfo.InvariantCulture) + "M/s"
        : samplesPerSecond >= 1e3 ? (samplesPerSecond / 1e3).ToString("F1", CultureInfo.InvariantCulture) + "k/s"
        : samplesPerSecond.ToString("F0", CultureInfo.InvariantCulture) + "/s";

    private static readonly Color[] Palette =
        [.. new[] { "#7f7f7f", "#8c564b", "#ff7f0e", "#bcbd22", "#2ca02c", "#1f77b4", "#9467bd", "#d62728", "#17becf", "#e377c2" }.Select(Color.FromHex)];
}
