using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Data;

/// <summary>
/// Large byte arrays (a data set's images) that ask Linux for 2 MiB pages before their first write. With transparent
/// huge pages in <c>madvise</c> mode, the usual setting, an ordinary array gets 4 KiB pages, and writing a data set's
/// images into fresh memory takes one page fault per 4 KiB (docs/optimizing-backprop.md, twelfth session).
/// </summary>
internal static partial class HugePages
{
    private const int HugePage = 2 << 20, AdviseHugePage = 14; // MADV_HUGEPAGE

    /// <summary>An array of <paramref name="length"/> bytes, not zeroed: the caller writes every one. From two huge
    /// pages up, on Linux, it is pinned and its whole 2 MiB pages are advised; where the advice is refused or
    /// unknown the array simply keeps small pages.</summary>
    public static byte[] Allocate(int length)
    {
        if (length < 2 * HugePage || !OperatingSystem.IsLinux())
        {
            return GC.AllocateUninitializedArray<byte>(length);
        }

        byte[] array = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        Advise(array);
        return array;
    }

    private static unsafe void Advise(byte[] array)
    {
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        nint first = (start + HugePage - 1) & ~(nint)(HugePage - 1), end = (start + array.Length) & ~(nint)(HugePage - 1);
        try
        {
            _ = Madvise(first, (nuint)(end - first), AdviseHugePage);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A C library without madvise: small pages, as without the advice.
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
