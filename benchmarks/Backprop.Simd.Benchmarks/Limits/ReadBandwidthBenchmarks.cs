using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Backprop.Simd.Benchmarks.Infrastructure;
using BenchmarkDotNet.Attributes;

namespace Backprop.Simd.Benchmarks.Limits;

/// <summary>A buffer size; reading the whole buffer once is its size in bytes.</summary>
public sealed record BufferSize(int Bytes, string Level) : IWork, IComparable<BufferSize>
{
    /// <summary>L1 (16 KiB), L2 (256 KiB), the 1024x1024 kernel matrix (4 MiB: last-level cache) and DRAM (64 MiB).</summary>
    public static IReadOnlyList<BufferSize> All { get; } =
        [new(16 << 10, "L1"), new(256 << 10, "L2"), new(4 << 20, "L3"), new(64 << 20, "DRAM")];

    /// <inheritdoc />
    public double Flops => 0;

    /// <inheritdoc />
    double IWork.Bytes => Bytes;

    /// <summary>Orders buffers by size.</summary>
    public int CompareTo(BufferSize? other) => other is null ? 1 : Bytes.CompareTo(other.Bytes);

    /// <inheritdoc />
    public override string ToString() => Bytes >= 1 << 20 ? $"{Bytes >> 20} MiB ({Level})" : $"{Bytes >> 10} KiB ({Level})";
}

/// <summary>
/// Read bandwidth of one core from a buffer that fits a given cache level: the buffer is summed with 8 independent
/// accumulators (so the adds never limit), 64-byte aligned. This bounds every kernel that streams a matrix once.
/// </summary>
[MemoryDiagnoser]
public unsafe class ReadBandwidthBenchmarks
{
    private float* _buffer;
    private int _count;

    /// <summary>The buffer size.</summary>
    [ParamsSource(nameof(Sizes))]
    public BufferSize Size { get; set; } = BufferSize.All[0];

    /// <summary>The values of <see cref="Size"/>.</summary>
    public static IEnumerable<BufferSize> Sizes => BufferSize.All;

    /// <summary>Allocates and fills the aligned buffer.</summary>
    [GlobalSetup]
    public void Setup()
    {
        MachineInfo.PrintOnce();
        _count = Size.Bytes / sizeof(float);
        _buffer = (float*)NativeMemory.AlignedAlloc((nuint)Size.Bytes, 64);
        new Span<float>(_buffer, _count).Fill(1f);
    }

    /// <summary>Frees the buffer.</summary>
    [GlobalCleanup]
    public void Cleanup() => NativeMemory.AlignedFree(_buffer);

    /// <summary>32-byte loads.</summary>
    [Benchmark(Baseline = true)]
    public Vector256<float> Read256()
    {
        ref float p = ref Unsafe.AsRef<float>(_buffer);
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (nuint i = 0; i < (nuint)_count; i += 64)
        {
            s0 += Vector256.LoadUnsafe(ref p, i);
            s1 += Vector256.LoadUnsafe(ref p, i + 8);
            s2 += Vector256.LoadUnsafe(ref p, i + 16);
            s3 += Vector256.LoadUnsafe(ref p, i + 24);
            s4 += Vector256.LoadUnsafe(ref p, i + 32);
            s5 += Vector256.LoadUnsafe(ref p, i + 40);
            s6 += Vector256.LoadUnsafe(ref p, i + 48);
            s7 += Vector256.LoadUnsafe(ref p, i + 56);
        }

        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /// <summary>64-byte loads.</summary>
    [Benchmark]
    public Vector512<float> Read512()
    {
        ref float p = ref Unsafe.AsRef<float>(_buffer);
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (nuint i = 0; i < (nuint)_count; i += 128)
        {
            s0 += Vector512.LoadUnsafe(ref p, i);
            s1 += Vector512.LoadUnsafe(ref p, i + 16);
            s2 += Vector512.LoadUnsafe(ref p, i + 32);
            s3 += Vector512.LoadUnsafe(ref p, i + 48);
            s4 += Vector512.LoadUnsafe(ref p, i + 64);
            s5 += Vector512.LoadUnsafe(ref p, i + 80);
            s6 += Vector512.LoadUnsafe(ref p, i + 96);
            s7 += Vector512.LoadUnsafe(ref p, i + 112);
        }

        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }
}
