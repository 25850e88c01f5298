using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

// C = A B + 1 bias^T with B the k x n row-major matrix (the forward pass with B = W^T): each step p broadcasts A[i, p]
// for eight rows of A and multiplies vectors of row p of B into accumulators that run along the outputs, so there are
// no horizontal sums and each load of B serves eight samples.
internal static partial class Gemm
{
    /// <summary>Most inputs per row for which the outer-product kernel keeps its bitmap of non-zero columns on the stack (4 KiB).</summary>
    private const int MaxSkippingInputs = 32_768;

    // Skipping zero inputs: an image's blank pixels, say (81% of an MNIST digit, 53% of the pixels of a block of eight
    // digits). Where all eight rows of a block have A[i, p] = 0 the step adds 0 * B[p, j] = 0 to every accumulator,
    // which changes nothing when B is finite (at most the sign of a zero sum), so a bitmap of the columns where some
    // row is non-zero, built with one vector OR per eight loads, lets the block visit only those. Blocks where nearly
    // every column is non-zero (dense inputs) keep the plain loop; the caller decides when scanning is worth it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Outer<TV>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, bool skipZeroInputs)
        where TV : struct, ISimd<TV>
    {
        int w = TV.Count;
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float bias0 = ref MemoryMarshal.GetReference(bias);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        if (n < w)
        {
            // 128-bit vectors and fewer than four outputs: scalars, summed in the same order as the vector lanes.
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    float sum = Unsafe.Add(ref bias0, j);
                    for (int p = 0; p < k; p++)
                    {
                        sum = MultiplyAdds.Scalar(Unsafe.Add(ref a0, ((nint)i * k) + p), Unsafe.Add(ref b0, ((nint)p * n) + j), sum);
                    }

                    Unsafe.Add(ref c0, ((nint)i * n) + j) = sum;
                }
            }

            return 0;
        }

        // The output vectors start at 0, w, 2w, ...; when n is not a multiple of w the last one is [n - w, n), which
        // overlaps the one before it: the shared lanes are computed twice in the same order, so both stores agree.
        int vectors = (n + w - 1) / w;
        Span<ulong> columns = skipZeroInputs && m >= 8 && k <= MaxSkippingInputs ? stackalloc ulong[(k + 63) / 64] : default;
        int sparseBlocks = 0;
        int i0 = 0;
        for (; i0 + 8 <= m; i0 += 8)
        {
            ref float ai = ref Unsafe.Add(ref a0, (nint)i0 * k);
            ref float ci = ref Unsafe.Add(ref c0, (nint)i0 * n);
            int v = 0;
            // Eight rows by two vectors is 16 accumulators: only with 32 registers; with 16, one vector at a time.
            if (!columns.IsEmpty && NonZeroColumns<TV>(ref ai, k, columns) <= k - (k / 8))
            {
                sparseBlocks++;
                for (; SimdRegisters.Many && v + 2 <= vectors; v += 2)
                {
                    Sparse8x2<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, columns, VectorStart(v, w, n), VectorStart(v + 1, w, n));
                }

                for (; v < vectors; v++)
                {
                    Sparse8x1<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, columns, VectorStart(v, w, n));
                }

                continue;
            }

            for (; SimdRegisters.Many && v + 2 <= vectors; v += 2)
            {
                Outer8x2<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n), VectorStart(v + 1, w, n));
            }

            for (; v < vectors; v++)
            {
                Outer8x1<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n));
            }
        }

        for (; i0 + 4 <= m; i0 += 4)
        {
            ref float ai = ref Unsafe.Add(ref a0, (nint)i0 * k);
            ref float ci = ref Unsafe.Add(ref c0, (nint)i0 * n);
            int v = 0;
            for (; v + 2 <= vectors; v += 2)
            {
                Outer4x2<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n), VectorStart(v + 1, w, n));
            }

            if (v < vectors)
            {
                Outer4x1<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n));
            }
        }

        for (; i0 < m; i0++)
        {
            ref float ai = ref Unsafe.Add(ref a0, (nint)i0 * k);
            ref float ci = ref Unsafe.Add(ref c0, (nint)i0 * n);
            int v = 0;
            for (; v + 2 <= vectors; v += 2)
            {
                Outer1x2<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n), VectorStart(v + 1, w, n));
            }

            if (v < vectors)
            {
                Outer1x1<TV>(ref ai, ref b0, ref bias0, ref ci, n, k, VectorStart(v, w, n));
            }
        }

        return sparseBlocks;
    }

    private static int VectorStart(int v, int w, int n) => Math.Min(v * w, n - w);

    // The tiles of Outer: S rows of A (k apart) against one or two vectors of outputs, S x V accumulators that start
    // at the bias. Generated shapes, one method each so the JIT inlines every vector operation. A step addresses its
    // rows from two bases (rows 0-3 and 4-7) plus native-sized multiples of k, and broadcasts each A[i, p] inside
    // MultiplyAddBroadcast: no integer arithmetic per row and the multiply-add into the accumulator's own register
    // (with 32-bit offsets and a separate broadcast, a step took twice the instructions).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer8x2<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0, int q1)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0), b1 = TV.Load(ref bias, (nuint)q1);
        TV c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        TV c40 = b0, c41 = b1, c50 = b0, c51 = b1, c60 = b0, c61 = b1, c70 = b0, c71 = b1;
        nint k1 = k, k2 = 2 * k1, k3 = 3 * k1, k4 = 4 * k1;
        nuint d1 = (nuint)(q1 - q0); // the second vector, from the first
        ref float row = ref Unsafe.Add(ref bt, q0); // B at the tile's first column; row p at offset p * n
        nint rowStep = n, at = 0;
        for (nint p = 0; p < k; p++, at += rowStep)
        {
            ref float x = ref Unsafe.Add(ref a, p);
            TV w0 = TV.Load(ref row, (nuint)at), w1 = TV.Load(ref row, (nuint)at + d1);
            ref float y = ref Unsafe.Add(ref x, k4);
            c00 = TV.MultiplyAddBroadcast(ref x, w0, c00);
            c01 = TV.MultiplyAddBroadcast(ref x, w1, c01);
            c10 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k1), w0, c10);
            c11 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k1), w1, c11);
            c20 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k2), w0, c20);
            c21 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k2), w1, c21);
            c30 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k3), w0, c30);
            c31 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k3), w1, c31);
            c40 = TV.MultiplyAddBroadcast(ref y, w0, c40);
            c41 = TV.MultiplyAddBroadcast(ref y, w1, c41);
            c50 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref y, k1), w0, c50);
            c51 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref y, k1), w1, c51);
            c60 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref y, k2), w0, c60);
            c61 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref y, k2), w1, c61);
            c70 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref y, k3), w0, c70);
            c71 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref y, k3), w1, c71);
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c01, ref c, (nuint)q1);
        TV.Store(c10, ref Unsafe.Add(ref c, n), (nuint)q0);
        TV.Store(c11, ref Unsafe.Add(ref c, n), (nuint)q1);
        TV.Store(c20, ref Unsafe.Add(ref c, 2 * n), (nuint)q0);
        TV.Store(c21, ref Unsafe.Add(ref c, 2 * n), (nuint)q1);
        TV.Store(c30, ref Unsafe.Add(ref c, 3 * n), (nuint)q0);
        TV.Store(c31, ref Unsafe.Add(ref c, 3 * n), (nuint)q1);
        TV.Store(c40, ref Unsafe.Add(ref c, 4 * n), (nuint)q0);
        TV.Store(c41, ref Unsafe.Add(ref c, 4 * n), (nuint)q1);
        TV.Store(c50, ref Unsafe.Add(ref c, 5 * n), (nuint)q0);
        TV.Store(c51, ref Unsafe.Add(ref c, 5 * n), (nuint)q1);
        TV.Store(c60, ref Unsafe.Add(ref c, 6 * n), (nuint)q0);
        TV.Store(c61, ref Unsafe.Add(ref c, 6 * n), (nuint)q1);
        TV.Store(c70, ref Unsafe.Add(ref c, 7 * n), (nuint)q0);
        TV.Store(c71, ref Unsafe.Add(ref c, 7 * n), (nuint)q1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer8x1<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0);
        TV c00 = b0, c10 = b0, c20 = b0, c30 = b0, c40 = b0, c50 = b0, c60 = b0, c70 = b0;
        nint k1 = k, k2 = 2 * k1, k3 = 3 * k1, k4 = 4 * k1;
        ref float row = ref Unsafe.Add(ref bt, q0); // B at the tile's first column; row p at offset p * n
        nint rowStep = n, at = 0;
        for (nint p = 0; p < k; p++, at += rowStep)
        {
            ref float x = ref Unsafe.Add(ref a, p);
            TV w0 = TV.Load(ref row, (nuint)at);
            ref float y = ref Unsafe.Add(ref x, k4);
            c00 = TV.MultiplyAddBroadcast(ref x, w0, c00);
            c10 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k1), w0, c10);
            c20 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k2), w0, c20);
            c30 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k3), w0, c30);
            c40 = TV.MultiplyAddBroadcast(ref y, w0, c40);
            c50 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref y, k1), w0, c50);
            c60 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref y, k2), w0, c60);
            c70 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref y, k3), w0, c70);
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c10, ref Unsafe.Add(ref c, n), (nuint)q0);
        TV.Store(c20, ref Unsafe.Add(ref c, 2 * n), (nuint)q0);
        TV.Store(c30, ref Unsafe.Add(ref c, 3 * n), (nuint)q0);
        TV.Store(c40, ref Unsafe.Add(ref c, 4 * n), (nuint)q0);
        TV.Store(c50, ref Unsafe.Add(ref c, 5 * n), (nuint)q0);
        TV.Store(c60, ref Unsafe.Add(ref c, 6 * n), (nuint)q0);
        TV.Store(c70, ref Unsafe.Add(ref c, 7 * n), (nuint)q0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer4x2<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0, int q1)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0), b1 = TV.Load(ref bias, (nuint)q1);
        TV c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        nint k1 = k, k2 = 2 * k1, k3 = 3 * k1;
        nuint d1 = (nuint)(q1 - q0); // the second vector, from the first
        ref float row = ref Unsafe.Add(ref bt, q0); // B at the tile's first column; row p at offset p * n
        nint rowStep = n, at = 0;
        for (nint p = 0; p < k; p++, at += rowStep)
        {
            ref float x = ref Unsafe.Add(ref a, p);
            TV w0 = TV.Load(ref row, (nuint)at), w1 = TV.Load(ref row, (nuint)at + d1);
            c00 = TV.MultiplyAddBroadcast(ref x, w0, c00);
            c01 = TV.MultiplyAddBroadcast(ref x, w1, c01);
            c10 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k1), w0, c10);
            c11 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k1), w1, c11);
            c20 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k2), w0, c20);
            c21 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k2), w1, c21);
            c30 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k3), w0, c30);
            c31 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k3), w1, c31);
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c01, ref c, (nuint)q1);
        TV.Store(c10, ref Unsafe.Add(ref c, n), (nuint)q0);
        TV.Store(c11, ref Unsafe.Add(ref c, n), (nuint)q1);
        TV.Store(c20, ref Unsafe.Add(ref c, 2 * n), (nuint)q0);
        TV.Store(c21, ref Unsafe.Add(ref c, 2 * n), (nuint)q1);
        TV.Store(c30, ref Unsafe.Add(ref c, 3 * n), (nuint)q0);
        TV.Store(c31, ref Unsafe.Add(ref c, 3 * n), (nuint)q1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer4x1<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0);
        TV c00 = b0, c10 = b0, c20 = b0, c30 = b0;
        nint k1 = k, k2 = 2 * k1, k3 = 3 * k1;
        ref float row = ref Unsafe.Add(ref bt, q0); // B at the tile's first column; row p at offset p * n
        nint rowStep = n, at = 0;
        for (nint p = 0; p < k; p++, at += rowStep)
        {
            ref float x = ref Unsafe.Add(ref a, p);
            TV w0 = TV.Load(ref row, (nuint)at);
            c00 = TV.MultiplyAddBroadcast(ref x, w0, c00);
            c10 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k1), w0, c10);
            c20 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k2), w0, c20);
            c30 = TV.MultiplyAddBroadcast(ref Unsafe.Add(ref x, k3), w0, c30);
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c10, ref Unsafe.Add(ref c, n), (nuint)q0);
        TV.Store(c20, ref Unsafe.Add(ref c, 2 * n), (nuint)q0);
        TV.Store(c30, ref Unsafe.Add(ref c, 3 * n), (nuint)q0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer1x2<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0, int q1)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0), b1 = TV.Load(ref bias, (nuint)q1);
        TV c00 = b0, c01 = b1;
        nuint d1 = (nuint)(q1 - q0); // the second vector, from the first
        ref float row = ref Unsafe.Add(ref bt, q0); // B at the tile's first column; row p at offset p * n
        nint rowStep = n, at = 0;
        for (nint p = 0; p < k; p++, at += rowStep)
        {
            ref float x = ref Unsafe.Add(ref a, p);
            TV w0 = TV.Load(ref row, (nuint)at), w1 = TV.Load(ref row, (nuint)at + d1);
            c00 = TV.MultiplyAddBroadcast(ref x, w0, c00);
            c01 = TV.MultiplyAddBroadcast(ref x, w1, c01);
        }

        TV.Store(c00, ref c, (nuint)q0);
        TV.Store(c01, ref c, (nuint)q1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Outer1x1<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, int q0)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0);
        TV c00 = b0;
        ref float row = ref Unsafe.Add(ref bt, q0); // B at the tile's first column; row p at offset p * n
        nint rowStep = n, at = 0;
        for (nint p = 0; p < k; p++, at += rowStep)
        {
            ref float x = ref Unsafe.Add(ref a, p);
            TV w0 = TV.Load(ref row, (nuint)at);
            c00 = TV.MultiplyAddBroadcast(ref x, w0, c00);
        }

        TV.Store(c00, ref c, (nuint)q0);
    }
}
