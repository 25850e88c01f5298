namespace Backprop.Simd;

/// <summary>
/// Checks a large allocation against the memory this process may use before making it, so that an absurd size
/// becomes an <see cref="ArgumentOutOfRangeException"/> that says how much was asked for, instead of an
/// <see cref="OutOfMemoryException"/> (or minutes of swapping) halfway through construction.
/// </summary>
internal static class MemoryBudget
{
    /// <summary>
    /// Bytes the garbage collector may still hand out: its limit (physical memory, a container's limit or
    /// <c>DOTNET_GCHeapHardLimit</c>) less what the managed heap holds now, garbage not yet collected included.
    /// </summary>
    public static long Available => AvailableAfter(forceFullCollection: false);

    /// <summary>Throws unless <paramref name="bytes"/> fit in <see cref="Available"/>, after a full collection if needed.</summary>
    /// <param name="bytes">What the allocation needs.</param>
    /// <param name="paramName">The parameter that decides its size.</param>
    /// <param name="what">What is being allocated, e.g. "the parameters of [784, 30, 10]".</param>
    /// <param name="plural">Whether <paramref name="what"/> is plural ("the parameters ... need", not "needs").</param>
    public static void Check(Int128 bytes, string paramName, string what, bool plural = false)
    {
        if (bytes <= Available)
        {
            return;
        }

        // The heap's count includes garbage (e.g. a reader's discarded buffers) that the allocation would reclaim:
        // only a check that still fails after a full blocking collection refuses the work.
        long available = AvailableAfter(forceFullCollection: true);
        if (bytes > available)
        {
            throw new ArgumentOutOfRangeException(paramName,
                $"{what} {(plural ? "need" : "needs")} {Describe(bytes)} of memory, but this process has only {Describe(available)} available.");
        }
    }

    private static long AvailableAfter(bool forceFullCollection)
    {
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return limit <= 0 ? long.MaxValue : Math.Max(0, limit - GC.GetTotalMemory(forceFullCollection));
    }

    /// <summary>A byte count for people: <c>3.4 GiB</c>, <c>120.5 MiB</c>, <c>512 bytes</c>.</summary>
    public static string Describe(Int128 bytes) =>
        bytes >= (1L << 30) ? $"{(double)bytes / (1L << 30):F1} GiB"
        : bytes >= (1L << 20) ? $"{(double)bytes / (1L << 20):F1} MiB"
        : bytes >= (1L << 10) ? $"{(double)bytes / (1L << 10):F1} KiB"
        : $"{bytes} bytes";
}
