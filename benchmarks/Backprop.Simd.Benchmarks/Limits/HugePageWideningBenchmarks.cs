using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Kernels;
using BenchmarkDotNet.Attributes;

namespace Backprop.Simd.Benchmarks.Limits;

/// <summary>
/// The trainer's input side per mini-batch on a Fashion-MNIST-sized byte set (60,000 x 784 bytes, 47 MB: beyond the
/// last-level cache, and each row on a different 4 KiB page), with and without 2 MiB pages for the bytes
/// (<see cref="HugePageArrays"/>; the setup prints how much of the array the kernel backs with huge pages). One
/// operation is one batch of 10 shuffled rows widened to floats by the trainer's kernel calls: <see cref="Cold"/>
/// without prefetching (a TLB miss and cache misses per row), <see cref="Prefetched"/> as the trainer does it, the
/// next batch's rows started on their way right after a batch is widened (in the trainer, a whole mini-batch of
/// work later; here at once, so the prefetch has less time).
/// </summary>
public class HugePageWideningBenchmarks
{
    private const int Samples = 60_000, Width = 784, Batch = 10, BatchesPerInvoke = 500;

    private byte[] _bytes = null!;
    private int[] _order = null!;
    private float[] _widened = null!;
    private int _next;

    /// <summary>Whether the byte array's range is advised <c>MADV_HUGEPAGE</c> before it is filled.</summary>
    [Params(false, true)]
    public bool HugePages { get; set; }

    /// <summary>Allocates the byte set (advised or not), fills it, and shuffles the order of the rows.</summary>
    [GlobalSetup]
    public void Setup()
    {
        MachineInfo.PrintOnce();
        _bytes = HugePageArrays.Allocate(Samples * Width, HugePages);
        new Random(1).NextBytes(_bytes);
        _order = [.. Enumerable.Range(0, Samples)];
        new Random(2).Shuffle(_order);
        _widened = new float[Batch * Width];
        Console.WriteLine($"// HugePages={HugePages}: {HugePageArrays.Report(_bytes)}");
    }

    /// <summary>One batch widened, nothing prefetched.</summary>
    [Benchmark(OperationsPerInvoke = BatchesPerInvoke)]
    public float Cold()
    {
        for (int b = 0; b < BatchesPerInvoke; b++)
        {
            Widening.GatherRows(_bytes, Rows(0), Width, 255f, _widened);
            Advance();
        }

        return _widened[0];
    }

    /// <summary>One batch widened, then the next batch's rows prefetched, as the trainer's widening shares do.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BatchesPerInvoke)]
    public float Prefetched()
    {
        for (int b = 0; b < BatchesPerInvoke; b++)
        {
            Widening.GatherRows(_bytes, Rows(0), Width, 255f, _widened);
            Widening.PrefetchRows(_bytes, Rows(1), Width);
            Advance();
        }

        return _widened[0];
    }

    // The rows of the batch `ahead` batches after the current one (Samples is a multiple of Batch: no batch wraps).
    private ReadOnlySpan<int> Rows(int ahead) => _order.AsSpan((_next + (ahead * Batch)) % Samples, Batch);

    private void Advance() => _next = (_next + Batch) % Samples;
}
