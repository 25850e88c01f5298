using System.Globalization;

namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>What the hand-written harnesses (<c>--latency</c>, <c>--paired</c>) share: their one numeric option and their percentiles.</summary>
public static class HarnessArguments
{
    /// <summary>
    /// The whole number after <paramref name="name"/> in <paramref name="args"/>, or <paramref name="fallback"/> when the
    /// option is absent; false (with the reason on standard error) when it has no number or one below <paramref name="minimum"/>.
    /// </summary>
    public static bool TryCount(string[] args, string name, int fallback, int minimum, out int value)
    {
        value = fallback;
        int at = Array.IndexOf(args, name);
        if (at >= 0 && (at + 1 >= args.Length || !int.TryParse(args[at + 1], NumberStyles.None, CultureInfo.InvariantCulture, out value) || value < minimum))
        {
            Console.Error.WriteLine($"{name} needs a whole number of at least {minimum}.");
            return false;
        }

        return true;
    }

    /// <summary>Nearest-rank quantile <paramref name="q"/> (0 to 1) of an array sorted in increasing order.</summary>
    public static T Quantile<T>(T[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
