using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Backprop.Simd.Charts;

/// <summary>ScottPlot has no logarithmic axis: values are plotted as log10 and the ticks labelled as powers of ten.</summary>
internal static class LogAxes
{
    public static void Apply(IAxis axis) => axis.TickGenerator = new NumericAutomatic
    {
        MinorTickGenerator = new LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = Label,
    };

    /// <summary>10^<paramref name="exponent"/> written out: 0.01, 1, 1000, 1M.</summary>
    public static string Label(double exponent)
    {
        double value = Math.Pow(10, Math.Round(exponent));
        return value >= 1e6 ? (value / 1e6).ToString("G3", CultureInfo.InvariantCulture) + "M"
            : value.ToString(value >= 1 ? "N0" : "G3", CultureInfo.InvariantCulture);
    }
}
