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
    /// <c>DOTNET_GCHeapHardLimit</c>) less what the managed heap holds now.
    /// </summary>
    public static long Available
    {
        get
        {
            long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            return limit <= 0 ? long.MaxValue : Math.Max(0, limit - GC.GetTotalMemory(forceFullCollection: false));
        }
    }

    /// <summary>Throws unless <paramref name="bytes"/> fit in <see cref="Available"/>.</summary>
    /// <param name="bytes">What the allocation needs.</param>
    /// <param name="paramName">The parameter that decides its size.</param>
    /// <param name="what">What is being allocated, e.g. "the parameters of [784, 30, 10]".</param>
    public static void Check(Int128 bytes, string paramName, string what)
    {
        long available = Available;
        if (bytes > available)
        {
            throw new ArgumentOutOfRangeException(paramName, $"{what} need {Describe(bytes)} of memory, but this process has only {Describe(available)} available.");
        }
    }

    /// <summary>A byte count for people: <c>3.4 GiB</c>, <c>120.5 MiB</c>, <c>512 bytes</c>.</summary>
    public static string Describe(Int128 bytes) =>
        bytes >= (1L << 30) ? $"{(double)bytes / (1L << 30):F1} GiB"
        : bytes >= (1L << 20) ? $"{(double)bytes / (1L << 20):F1} MiB"
        : bytes >= (1L << 10) ? $"{(double)bytes / (1L << 10):F1} KiB"
        : $"{bytes} bytes";
}
