using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Kernels;
using BenchmarkDotNet.Attributes;

namespace Backprop.Simd.Benchmarks.Kernels;

// TEMPORARY A/B: the AVX2 kernel as it was (copied) against the strategy-generic one.
public class Int8KernelAB
{
    private sbyte[] _w = null!;
    private byte[] _u = null!;
    private int[] _quads = null!;
    private int[] _y = null!;
    private int _count;

    [Params(30, 100, 10)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int cols = Rows == 10 ? 100 : 784;
        int padded = Int8MatrixVector.PaddedRows(Rows), quadCount = Int8MatrixVector.Quads(cols);
        var random = new Random(1);
        _w = new sbyte[quadCount * padded * 4];
        for (int i = 0; i < _w.Length; i++) _w[i] = (sbyte)random.Next(-127, 128);
        _u = new byte[quadCount * 4];
        var digits = BundledDigits.Load();
        float[] x = new float[784];
        digits.Input(0, x);
        for (int k = 0; k < cols; k++) _u[k] = Rows == 10 ? (byte)(random.Next(2) * random.Next(128)) : (byte)Math.Round(x[k] * 127);
        _quads = new int[(quadCount + 7) & ~7];
        _count = Int8Quantize.NonzeroQuads(_u, quadCount, _quads);
        _y = new int[padded];
        Old(); New();
        if (!Check()) throw new InvalidOperationException("differ");
    }

    private bool Check() { Old(); int[] a = (int[])_y.Clone(); New(); return a.AsSpan().SequenceEqual(_y); }

    [Benchmark(Baseline = true)]
    public int Old()
    {
        OldKernel.MultiplyAvx2(ref MemoryMarshal.GetArrayDataReference(_w), Int8MatrixVector.PaddedRows(Rows), _u.Length / 4, ref MemoryMarshal.GetArrayDataReference(_u), _quads.AsSpan(0, _count), ref MemoryMarshal.GetArrayDataReference(_y));
        return _y[0];
    }

    [Benchmark]
    public int New()
    {
        Int8MatrixVector.Multiply(_w, Rows, _u.Length / 4, _u, _quads.AsSpan(0, _count), _y, Int8Path.Avx2);
        return _y[0];
    }
}

internal static class OldKernel
{
    // A listed quad's four codes, broadcast to every 4-byte lane; the index checked against the quads there are.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Codes(ref byte u0, int q, int quadCount) =>
        (uint)q < (uint)quadCount ? Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref u0, (nint)q * 4)) : throw new ArgumentOutOfRangeException(nameof(q), q, $"a listed quad must be below {quadCount}.");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> Step(Vector256<byte> x, ref sbyte w, Vector256<short> ones) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, Vector256.LoadUnsafe(ref w)), ones);

    // Up to four 8-row groups share each broadcast of a quad's codes, one accumulator each; one pass over the list per block.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyAvx2(ref sbyte w0, int padded, int quadCount, ref byte u0, ReadOnlySpan<int> quads, ref int y0)
    {
        Vector256<short> ones = Vector256.Create((short)1);
        int block = padded * 4, groups = padded / 8, g = 0; // bytes per quad; 8-row groups
        ref int q0 = ref MemoryMarshal.GetReference(quads);
        int count = quads.Length;
        for (; g + 4 <= groups; g += 4)
        {
            Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0; t < count; t++)
            {
                int q = Unsafe.Add(ref q0, t);
                Vector256<byte> x = Vector256.Create(Codes(ref u0, q, quadCount)).AsByte();
                ref sbyte wq = ref Unsafe.Add(ref w0, ((nint)q * block) + (g * 32));
                a0 = Avx2.Add(a0, Step(x, ref wq, ones));
                a1 = Avx2.Add(a1, Step(x, ref Unsafe.Add(ref wq, 32), ones));
                a2 = Avx2.Add(a2, Step(x, ref Unsafe.Add(ref wq, 64), ones));
                a3 = Avx2.Add(a3, Step(x, ref Unsafe.Add(ref wq, 96), ones));
            }

            ref int yg = ref Unsafe.Add(ref y0, g * 8);
            a0.StoreUnsafe(ref yg);
            a1.StoreUnsafe(ref yg, 8);
            a2.StoreUnsafe(ref yg, 16);
            a3.StoreUnsafe(ref yg, 24);
        }

        for (; g + 2 <= groups; g += 2)
        {
            Vector256<int> a0 = Vector256<int>.Zero, a1 = a0;
            for (int t = 0; t < count; t++)
            {
                int q = Unsafe.Add(ref q0, t);
                Vector256<byte> x = Vector256.Create(Codes(ref u0, q, quadCount)).AsByte();
                ref sbyte wq = ref Unsafe.Add(ref w0, ((nint)q * block) + (g * 32));
                a0 = Avx2.Add(a0, Step(x, ref wq, ones));
                a1 = Avx2.Add(a1, Step(x, ref Unsafe.Add(ref wq, 32), ones));
            }

            a0.StoreUnsafe(ref Unsafe.Add(ref y0, g * 8));
            a1.StoreUnsafe(ref Unsafe.Add(ref y0, g * 8), 8);
        }

        if (g < groups)
        {
            Vector256<int> a0 = Vector256<int>.Zero;
            for (int t = 0; t < count; t++)
            {
                int q = Unsafe.Add(ref q0, t);
                a0 = Avx2.Add(a0, Step(Vector256.Create(Codes(ref u0, q, quadCount)).AsByte(), ref Unsafe.Add(ref w0, ((nint)q * block) + (g * 32)), ones));
            }

            a0.StoreUnsafe(ref Unsafe.Add(ref y0, g * 8));
        }
    }

}
