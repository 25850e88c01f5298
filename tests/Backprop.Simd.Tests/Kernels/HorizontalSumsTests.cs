using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Simd.Kernels;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>
/// The forward tile's twelve horizontal sums done together give, bit for bit, what <c>Vector128/256/512.Sum</c> gives
/// for each vector, at every width this processor runs (values of mixed signs and magnitudes, so that a different
/// order of additions would round differently).
/// </summary>
public class HorizontalSumsTests
{
    [Property(MaxTest = 200)]
    public void Twelve_sums_at_once_are_the_bits_of_each_vector_sum(ulong seed)
    {
        var random = new SeededRandom(seed);
        float[] lanes = TestData.Mixed(12 * 16, ref random);
        Check<Vector128<float>>(lanes, v => Vector128.Sum(v));
        Check<Vector256<float>>(lanes, v => Vector256.Sum(v));
        Check<Vector512<float>>(lanes, v => Vector512.Sum(v));
    }

    private static void Check<TVector>(float[] lanes, Func<TVector, float> sum)
        where TVector : struct
    {
        if (!HorizontalSums.Batched<SimdVector<TVector>>())
        {
            return; // this width takes the one-at-a-time path on this processor
        }

        int w = Unsafe.SizeOf<TVector>() / sizeof(float);
        var v = new SimdVector<TVector>[12];
        for (int i = 0; i < 12; i++)
        {
            v[i] = Unsafe.As<float, SimdVector<TVector>>(ref lanes[i * w]);
        }

        var sums = new float[16];
        HorizontalSums.Of12(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], sums);
        for (int i = 0; i < 12; i++)
        {
            float expected = sum(Unsafe.As<float, TVector>(ref lanes[i * w]));
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(sums[i]),
                $"{w} lanes, vector {i}: {sums[i]:R} where Sum gives {expected:R}");
        }
    }
}
