using System.Text.RegularExpressions;
using ScottPlot;

namespace Backprop.Simd.Charts;

/// <summary>
/// The roofline of one core: the measured FMA peak (PeakFlopsBenchmarks, the fastest row) as the flat roof, one
/// sloped roof per cache level from the read bandwidth measured there (ReadBandwidthBenchmarks, the fastest row per
/// level), and every benchmark with flops and compulsory bytes as a point at (flops / byte, GFLOP/s), both axes log.
/// Kernels are one series per class and method, labelled with their shape; end-to-end training rows one series per
/// class and case, labelled with their method.
/// </summary>
internal static partial class RooflineChart
{
    private static readonly string[] Limits = ["PeakFlopsBenchmarks", "ReadBandwidthBenchmarks"];

    private static readonly string[] EndToEnd = ["LadderBenchmarks", "EpochBenchmarks"];

    /// <summary>Draws the chart; returns null, or what was missing.</summary>
    public static string? Save(IReadOnlyList<WorkRow> rows, string path)
    {
        WorkRow? peak = rows.Where(r => r.Type == "PeakFlopsBenchmarks" && r.Flops > 0).MaxBy(r => r.Gflops);
        var roofs = rows.Where(r => r.Type == "ReadBandwidthBenchmarks" && r.Bytes > 0)
            .GroupBy(r => Level(r.Parameters))
            .Select(g => (Level: g.Key, Bandwidth: g.Max(r => r.GigabytesPerSecond)))
            .OrderByDescending(r => r.Bandwidth).ToList();
        List<WorkRow> points = [.. rows.Where(r => r.Flops > 0 && r.Bytes > 0 && !Limits.Contains(r.Type))];
        if (peak is null || roofs.Count == 0 || points.Count == 0)
        {
            return "it needs PeakFlopsBenchmarks, ReadBandwidthBenchmarks and at least one benchmark with flops and bytes (run '*Limits*' and the kernels)";
        }

        double xMin = Math.Floor(Math.Log10(points.Min(p => p.Intensity)) - 0.3);
        double xMax = Math.Ceiling(Math.Log10(Math.Max(points.Max(p => p.Intensity), peak.Gflops / roofs[^1].Bandwidth)) + 0.3);
        var plot = new Plot();
        double top = Math.Log10(peak.Gflops);
        var peakLine = plot.Add.Line(xMin, top, xMax, top);
        peakLine.Color = Colors.Black;
        peakLine.LineWidth = 2;
        Label(plot, $"FMA peak ({peak.Method}), {peak.Gflops:F0} GFLOP/s", xMin + 0.05, top, Colors.Black, Alignment.LowerLeft, 13);
        foreach ((string level, double bandwidth) in roofs)
        {
            // GFLOP/s = bandwidth * intensity up to the ridge point, where it meets the peak.
            double ridge = Math.Log10(peak.Gflops / bandwidth);
            var roof = plot.Add.Line(xMin, Math.Log10(bandwidth) + xMin, ridge, top);
            roof.Color = Colors.Gray;
            roof.LineWidth = 1.5f;
            roof.LinePattern = LinePattern.Dashed;
            double labelX = xMin + 0.1;
            Label(plot, $"{level} {bandwidth:F0} GB/s", labelX, Math.Log10(bandwidth) + labelX, Colors.DimGray, Alignment.LowerLeft, 12);
        }

        int series = 0;
        var labels = new List<(string Text, double X, double Y, Color Color, int Priority)>();
        foreach (var group in points.GroupBy(p => EndToEnd.Contains(p.Type) ? $"{p.ShortType}, {p.Parameters}" : $"{p.ShortType}.{p.Method}"))
        {
            Color color = Palette[series % Palette.Length];
            var scatter = plot.Add.ScatterPoints(
                group.Select(p => Math.Log10(p.Intensity)).ToArray(), group.Select(p => Math.Log10(p.Gflops)).ToArray());
            scatter.Color = color;
            scatter.MarkerShape = EndToEnd.Contains(group.First().Type) ? MarkerShape.FilledDiamond
                : group.First().Type == "GemmBenchmarks" ? MarkerShape.FilledSquare : MarkerShape.FilledCircle;
            scatter.MarkerSize = 9;
            scatter.LegendText = group.Key;
            foreach (WorkRow p in group)
            {
                // End-to-end rows name their rung, kernels their shape; where labels would collide, the first placed wins.
                int priority = EndToEnd.Contains(p.Type) ? 0 : p.Type == "GemmBenchmarks" ? 1 : p.Method == "Hand" ? 2 : 3;
                labels.Add((EndToEnd.Contains(p.Type) ? p.Method : p.Parameters, Math.Log10(p.Intensity), Math.Log10(p.Gflops), color, priority));
            }

            series++;
        }

        plot.Title("Roofline of one core: measured FMA peak and read bandwidths; every kernel and training benchmark");
        plot.XLabel("Arithmetic intensity (flops per compulsory byte read or written)");
        plot.YLabel("GFLOP/s (median)");
        LogAxes.Apply(plot.Axes.Bottom);
        LogAxes.Apply(plot.Axes.Left);
        double yMin = Math.Floor(Math.Log10(points.Min(p => p.Gflops)) - 0.2);
        plot.Axes.SetLimits(xMin, xMax, yMin, top + 0.35);
        plot.ShowLegend(Edge.Right);
        plot.Legend.FontSize = 11;
        const int Width = 1900, Height = 1100;
        plot.GetImage(Width, Height).Dispose(); // lays the plot out, so that GetPixel maps coordinates to pixels
        var taken = new List<Box>();
        foreach (var label in labels.OrderBy(l => l.Priority))
        {
            // Right of the point, else left, else above or below on the right; where all collide, no label.
            const float Size = 10, Gap = 7;
            Pixel at = plot.GetPixel(new Coordinates(label.X, label.Y));
            float width = label.Text.Length * Size * 0.55f, half = Size * 0.65f;
            (Box Box, Alignment Alignment, float Dx, float Dy)[] candidates =
            [
                (new Box(at.X + Gap, at.X + Gap + width, at.Y - half, at.Y + half), Alignment.MiddleLeft, Gap, 0),
                (new Box(at.X - Gap - width, at.X - Gap, at.Y - half, at.Y + half), Alignment.MiddleRight, -Gap, 0),
                (new Box(at.X + Gap, at.X + Gap + width, at.Y - (3 * half), at.Y - half), Alignment.MiddleLeft, Gap, -2 * half),
                (new Box(at.X + Gap, at.X + Gap + width, at.Y + half, at.Y + (3 * half)), Alignment.MiddleLeft, Gap, 2 * half),
            ];
            foreach (var (box, alignment, dx, dy) in candidates)
            {
                if (!taken.Any(box.Overlaps))
                {
                    taken.Add(box);
                    Label(plot, label.Text, label.X, label.Y, label.Color, alignment, Size, dx, dy);
                    break;
                }
            }
        }

        using Image image = plot.GetImage(Width, Height);
        image.SavePng(path);
        return null;
    }

    /// <summary>A label's extent in pixels, y growing downwards.</summary>
    private readonly record struct Box(float Left, float Right, float Top, float Bottom)
    {
        public bool Overlaps(Box other) => Left < other.Right && other.Left < Right && Top < other.Bottom && other.Top < Bottom;
    }

    // "16 KiB (L1)" -> "L1"
    private static string Level(string parameters) => LevelPattern().Match(parameters) is { Success: true } m ? m.Groups[1].Value : parameters;

    [GeneratedRegex(@"\(([^)]+)\)")]
    private static partial Regex LevelPattern();

    private static void Label(Plot plot, string text, double x, double y, Color color, Alignment alignment, float size, float offsetX = 0, float offsetY = 0)
    {
        var label = plot.Add.Text(text, x, y);
        label.LabelFontColor = color;
        label.LabelFontSize = size;
        label.LabelAlignment = alignment;
        label.OffsetX = offsetX;
        label.OffsetY = offsetY;
    }

    // Distinct colours dark enough for text on white.
    private static readonly Color[] Palette =
    [
        .. new[]
        {
            "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#555555", "#9a9a00", "#17a2b8",
            "#000080", "#800000", "#006400", "#b8860b", "#4b0082", "#ff1493", "#008080", "#a0522d", "#6b8e23", "#dc143c",
        }.Select(Color.FromHex),
    ];
}
