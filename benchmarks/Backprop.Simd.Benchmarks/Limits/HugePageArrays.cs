using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Benchmarks.Limits;

/// <summary>
/// Byte arrays with or without 2 MiB pages, for measuring what transparent huge pages do to random rows of a data set:
/// on Linux in <c>madvise</c> mode (<c>/sys/kernel/mm/transparent_hugepage/enabled</c>) .NET arrays get 4 KiB pages
/// unless their range is advised <c>MADV_HUGEPAGE</c> before it is first written.
/// </summary>
internal static partial class HugePageArrays
{
    private const int HugePage = 2 << 20, AdviseHugePage = 14; // MADV_HUGEPAGE

    /// <summary>A pinned array of <paramref name="length"/> bytes, its whole aligned 2 MiB pages advised when
    /// <paramref name="huge"/> (Linux only; a refusal leaves small pages, which <see cref="Report"/> shows).</summary>
    public static byte[] Allocate(int length, bool huge)
    {
        byte[] array = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        (nint first, nint end) = WholePages(array);
        if (huge && OperatingSystem.IsLinux() && end > first)
        {
            _ = Madvise(first, (nuint)(end - first), AdviseHugePage);
        }

        return array;
    }

    /// <summary>"N of M kB in huge pages": the AnonHugePages of the /proc/self/smaps mappings that overlap the array,
    /// summed (advice splits a mapping at the advised range's ends), against the array's size.</summary>
    public static unsafe string Report(byte[] array)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "huge pages not measured (not Linux)";
        }

        ulong from = (ulong)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)), to = from + (ulong)array.Length;
        bool overlaps = false;
        long kilobytes = 0;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-', StringComparison.Ordinal), space = line.IndexOf(' ', StringComparison.Ordinal);
            if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong low)
                && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong high))
            {
                overlaps = low < to && high > from;
            }
            else if (overlaps && line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
            {
                kilobytes += long.Parse(line.AsSpan("AnonHugePages:".Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        return $"{kilobytes} of {array.Length >> 10} kB in huge pages";
    }

    // The whole aligned huge pages inside the (pinned) array: [first, end), empty when there are none.
    private static unsafe (nint First, nint End) WholePages(byte[] array)
    {
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return ((start + HugePage - 1) & ~(nint)(HugePage - 1), (start + array.Length) & ~(nint)(HugePage - 1));
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
