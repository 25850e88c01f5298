using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

// The outer-product kernel's zero skipping: the bitmap of the steps p where some row of a block of eight is non-zero,
// and the 8-row tiles of GemmOuter.cs over those steps only.
internal static partial class Gemm
{
    // Sets bit p of the bitmap when any of the eight rows (k apart from a) is non-zero at p; returns how many are.
    private static int NonZeroColumns<TV>(ref float a, int k, Span<ulong> columns)
        where TV : struct, ISimd<TV>
    {
        columns.Clear();
        int w = TV.Count; // 1, 4, 8 or 16: a vector's bits never straddle two words
        int p = 0;
        for (; p + w <= k; p += w)
        {
            ref float x = ref Unsafe.Add(ref a, p);
            TV any = TV.Or(TV.Or(TV.Or(TV.Load(ref x, 0), TV.Load(ref x, (nuint)k)), TV.Or(TV.Load(ref x, (nuint)(2 * k)), TV.Load(ref x, (nuint)(3 * k)))),
                TV.Or(TV.Or(TV.Load(ref x, (nuint)(4 * k)), TV.Load(ref x, (nuint)(5 * k))), TV.Or(TV.Load(ref x, (nuint)(6 * k)), TV.Load(ref x, (nuint)(7 * k)))));
            columns[p >> 6] |= TV.NonZeroLanes(any) << (p & 63);
        }

        for (; p < k; p++)
        {
            for (int s = 0; s < 8; s++)
            {
                if (Unsafe.Add(ref a, (s * k) + p) != 0)
                {
                    columns[p >> 6] |= 1UL << (p & 63);
                    break;
                }
            }
        }

        int count = 0;
        foreach (ulong word in columns)
        {
            count += BitOperations.PopCount(word);
        }

        return count;
    }

    // Outer8x2 and Outer8x1 over the columns set in the bitmap only.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sparse8x2<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, ReadOnlySpan<ulong> columns, int q0, int q1)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0), b1 = TV.Load(ref bias, (nuint)q1);
        TV c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        TV c40 = b0, c41 = b1, c50 = b0, c51 = b1, c60 = b0, c61 = b1, c70 = b0, c71 = b1;
        nint k1 = k, k2 = 2 * k1, k3 = 3 * k1, k4 = 4 * k1;
        nuint d1 = (nuint)(q1 - q0); // the second vector, from the first
        ref float b0q = ref Unsafe.Add(ref bt, q0); // B at the tile's first column
        for (int word = 0; word < columns.Length; word++)
        {
            for (ulong bits = columns[word]; bits != 0; bits &= bits - 1)
            {
                nint p = (word * 64) + BitOperations.TrailingZeroCount(bits);
                ref float row = ref Unsafe.Add(ref b0q, p * n);
                ref float x = ref Unsafe.Add(ref a, p);
                TV w0 = TV.Load(ref row, 0), w1 = TV.Load(ref row, d1);
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
    private static void Sparse8x1<TV>(ref float a, ref float bt, ref float bias, ref float c, int n, int k, ReadOnlySpan<ulong> columns, int q0)
        where TV : struct, ISimd<TV>
    {
        TV b0 = TV.Load(ref bias, (nuint)q0);
        TV c00 = b0, c10 = b0, c20 = b0, c30 = b0, c40 = b0, c50 = b0, c60 = b0, c70 = b0;
        nint k1 = k, k2 = 2 * k1, k3 = 3 * k1, k4 = 4 * k1;
        ref float b0q = ref Unsafe.Add(ref bt, q0); // B at the tile's first column
        for (int word = 0; word < columns.Length; word++)
        {
            for (ulong bits = columns[word]; bits != 0; bits &= bits - 1)
            {
                nint p = (word * 64) + BitOperations.TrailingZeroCount(bits);
                ref float row = ref Unsafe.Add(ref b0q, p * n);
                ref float x = ref Unsafe.Add(ref a, p);
                TV w0 = TV.Load(ref row, 0);
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
}
