using Backprop.Simd.Kernels;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>The caches' geometry read from CPUID's registers, as the forward product's blocking uses it.</summary>
public class CacheInfoTests
{
    [Fact]
    public void Amd_leaves_give_the_first_level_ways_and_the_second_level_size()
    {
        // A Zen 5 guest (this project's host): 48 KiB L1D of 12 ways (0x80000005 ECX), 1 MiB L2 (0x80000006 ECX).
        Assert.Equal((12, 1024 * 1024), CacheInfo.FromAmd(0x300C0140, 0x04006140));

        // A Zen 2: 32 KiB L1D of 8 ways, 512 KiB L2; a fully associative L1 (0xFF) counts as many ways.
        Assert.Equal((8, 512 * 1024), CacheInfo.FromAmd(0x20080140, 0x02006140));
        Assert.Equal(64, CacheInfo.FromAmd(0x20FF0140, 0).L1Ways);
    }

    [Fact]
    public void Intel_leaf_4_gives_each_level_its_ways_and_size()
    {
        // A Skylake: L1D data cache, 8 ways x 64 sets x 64 bytes; L2 unified, 4 ways x 1024 sets; then no more caches.
        Assert.Equal((1, true, 8, 32 * 1024), CacheInfo.FromLeaf4(0x1C004121, 0x01C0003F, 0x3F));
        Assert.Equal((2, true, 4, 256 * 1024), CacheInfo.FromLeaf4(0x1C004143, 0x00C0003F, 0x3FF));
        Assert.Equal(1, CacheInfo.FromLeaf4(0x1C004122, 0x01C0003F, 0x3F).Level); // the L1 instruction cache holds no data
        Assert.False(CacheInfo.FromLeaf4(0x1C004122, 0x01C0003F, 0x3F).Data);
        Assert.Equal(0, CacheInfo.FromLeaf4(0, 0, 0).Level);
    }

    [Fact]
    public void This_machine_reports_a_plausible_geometry_or_none()
    {
        Assert.True(CacheInfo.L1Ways == 0 || CacheInfo.L1Ways is >= 2 and <= 64, $"L1 ways {CacheInfo.L1Ways}");
        Assert.True(CacheInfo.L2Bytes == 0 || CacheInfo.L2Bytes is >= 64 * 1024 and <= 64 * 1024 * 1024, $"L2 bytes {CacheInfo.L2Bytes}");
    }
}
