using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

/// <summary>
/// The data caches' geometry where the processor reports it (x86's CPUID: leaves 0x80000005/6 on AMD, leaf 4 on Intel),
/// read once, at the first use (under Native AOT too), for kernels whose blocking depends on it; 0 (unknown) elsewhere,
/// on hybrid processors and wherever a virtual machine hides it, and the kernels then keep what suits the smallest
/// caches they target.
/// </summary>
internal static class CacheInfo
{
    private static readonly (int L1Ways, int L2Bytes) s_geometry = Read();

    /// <summary>Ways of the first-level data cache (0: unknown).</summary>
    public static int L1Ways => s_geometry.L1Ways;

    /// <summary>Bytes of the second-level cache (0: unknown).</summary>
    public static int L2Bytes => s_geometry.L2Bytes;

    /// <summary>AMD's leaves: L1D ways in bits 23-16 of 0x80000005's ECX (0xFF: fully associative), L2 KiB in bits 31-16 of 0x80000006's ECX.</summary>
    internal static (int L1Ways, int L2Bytes) FromAmd(uint l1Ecx, uint l2Ecx)
    {
        int ways = (int)((l1Ecx >> 16) & 0xFF);
        return (ways == 0xFF ? 64 : ways, (int)(l2Ecx >> 16) * 1024);
    }

    /// <summary>One subleaf of Intel's leaf 4: its level, whether it holds data, its ways and its bytes (0 levels: no more caches).</summary>
    internal static (int Level, bool Data, int Ways, int Bytes) FromLeaf4(uint eax, uint ebx, uint ecx)
    {
        int type = (int)(eax & 0x1F), level = (int)((eax >> 5) & 0x7);
        int ways = (int)(ebx >> 22) + 1, partitions = (int)((ebx >> 12) & 0x3FF) + 1, line = (int)(ebx & 0xFFF) + 1;
        double bytes = (double)ways * partitions * line * ((double)ecx + 1); // no wrap-around, whatever the registers hold
        return (type == 0 ? 0 : level, type is 1 or 3, ways, (int)Math.Min(bytes, int.MaxValue));
    }

    private static (int L1Ways, int L2Bytes) Read()
    {
        if (!X86Base.IsSupported)
        {
            return (0, 0);
        }

        (int maxLeaf, int b, int c, int d) = X86Base.CpuId(0, 0);

        // A hybrid processor's cores have different caches (an efficient core's L1 has 8 ways where a performance
        // core's has 12, and four of them share one L2), and a thread may run on either: unknown.
        if (maxLeaf >= 7 && (X86Base.CpuId(7, 0).Edx & (1 << 15)) != 0)
        {
            return (0, 0);
        }

        bool amd = (b, d, c) == (0x68747541, 0x69746E65, 0x444D4163) || (b, d, c) == (0x6F677948, 0x6E65476E, 0x656E6975); // AuthenticAMD, HygonGenuine
        if (amd)
        {
            (int maxExtended, _, _, _) = X86Base.CpuId(unchecked((int)0x80000000), 0);
            if ((uint)maxExtended < 0x80000006)
            {
                return (0, 0);
            }

            (_, _, int l1, _) = X86Base.CpuId(unchecked((int)0x80000005), 0);
            (_, _, int l2, _) = X86Base.CpuId(unchecked((int)0x80000006), 0);
            return FromAmd((uint)l1, (uint)l2);
        }

        int l1Ways = 0, l2Bytes = 0;
        for (int sub = 0; maxLeaf >= 4 && sub < 16; sub++)
        {
            (int eax, int ebx, int ecx, _) = X86Base.CpuId(4, sub);
            (int level, bool data, int ways, int bytes) = FromLeaf4((uint)eax, (uint)ebx, (uint)ecx);
            if (level == 0)
            {
                break;
            }

            if (data && level == 1)
            {
                l1Ways = ways;
            }
            else if (data && level == 2)
            {
                l2Bytes = bytes;
            }
        }

        return (l1Ways, l2Bytes);
    }
}
