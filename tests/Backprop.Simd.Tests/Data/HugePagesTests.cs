using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Backprop.Simd.Data;

namespace Backprop.Simd.Tests.Data;

/// <summary>The images' arrays: the asked length, and on Linux with transparent huge pages, a large one advised for
/// 2 MiB pages (the kernel marks an advised mapping "hg" in /proc/self/smaps, whether or not it found the pages).</summary>
public class HugePagesTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(784 * 1000)]
    [InlineData((8 << 20) + 123)]
    public void Arrays_have_the_asked_length_and_hold_what_is_written(int length)
    {
        byte[] array = HugePages.Allocate(length);
        Assert.Equal(length, array.Length);
        for (int i = 0; i < length; i += 4093)
        {
            array[i] = (byte)i;
        }

        for (int i = 0; i < length; i += 4093)
        {
            Assert.Equal((byte)i, array[i]);
        }
    }

    [Fact]
    public void A_large_array_is_advised_for_huge_pages_on_Linux()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && File.Exists("/sys/kernel/mm/transparent_hugepage/enabled"),
            "transparent huge pages are a Linux feature, and this kernel has none");
        Assert.SkipWhen(File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled").Contains("[never]", StringComparison.Ordinal),
            "transparent huge pages are off on this machine");

        // Only the advice is checked, not its absence for small arrays: the GC may place one where an advised array was.
        byte[] large = HugePages.Allocate(16 << 20);
        Assert.True(Advised(large), "no mapping of the 16 MiB array is advised MADV_HUGEPAGE");
        GC.KeepAlive(large);
    }

    // Whether a mapping that overlaps the array's middle carries the "hg" flag (advised MADV_HUGEPAGE); skips where
    // /proc/self/smaps has no VmFlags lines (old kernels, sandboxes).
    private static unsafe bool Advised(byte[] array)
    {
        ulong middle = (ulong)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)) + ((ulong)array.Length / 2);
        bool inside = false;
        Assert.SkipUnless(File.Exists("/proc/self/smaps") && File.ReadLines("/proc/self/smaps").Any(l => l.StartsWith("VmFlags:", StringComparison.Ordinal)),
            "/proc/self/smaps shows no mapping flags here");
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-', StringComparison.Ordinal), space = line.IndexOf(' ', StringComparison.Ordinal);
            if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong low)
                && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong high))
            {
                inside = low <= middle && middle < high;
            }
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                return line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("hg");
            }
        }

        return false;
    }
}
