using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>
/// The kernels' multiply-add rounds once where this machine fuses and twice where it does not, and every width
/// rounds as the scalar does. CI runs these under <c>DOTNET_EnableAVX2=0</c> and <c>DOTNET_EnableHWIntrinsic=0</c> too.
/// </summary>
public class MultiplyAddTests
{
    // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: the last term is lost when the product is rounded first, so with c = -1 a
    // fused multiply-add gives 2^-11 + 2^-24 and a multiply then an add gives 2^-11.
    private const float A = 1f + (1f / 4096f);
    private const float C = -1f;

    private static float Expected => MultiplyAdds.AreFused ? (1f / 2048f) + (1f / 16_777_216f) : 1f / 2048f;

    [Fact]
    public void Scalar_rounds_once_exactly_where_the_machine_fuses()
    {
        Assert.Equal(Expected, MultiplyAdds.Scalar(A, A, C));
    }

    [Fact]
    public void Every_width_rounds_as_the_scalar_does()
    {
        float expected = Expected;
        Assert.All(Lanes(MultiplyAdds.Of(Vector128.Create(A), Vector128.Create(A), Vector128.Create(C))), lane => Assert.Equal(expected, lane));
        Assert.All(Lanes(MultiplyAdds.Of(Vector256.Create(A), Vector256.Create(A), Vector256.Create(C))), lane => Assert.Equal(expected, lane));
        Assert.All(Lanes(MultiplyAdds.Of(Vector512.Create(A), Vector512.Create(A), Vector512.Create(C))), lane => Assert.Equal(expected, lane));
        Vector<float> v = Backprop.Simd.Benchmarks.Ladder.PerSample.VectorMultiplyAdds.Of(new Vector<float>(A), new Vector<float>(A), new Vector<float>(C));
        for (int i = 0; i < Vector<float>.Count; i++)
        {
            Assert.Equal(expected, v[i]);
        }

        float[] lanes = new float[1];
        SimdScalar.Store(SimdScalar.MultiplyAdd(SimdScalar.Broadcast(A), SimdScalar.Broadcast(A), SimdScalar.Broadcast(C)), ref lanes[0], 0);
        Assert.Equal(expected, lanes[0]);
    }

    [Fact]
    public void The_blocked_kernels_fall_back_to_scalars_only_without_SIMD()
    {
        Assert.Equal(Vector128.IsHardwareAccelerated ? 128 : 32, Math.Min(SimdWidth.DefaultBits, 128));
        Assert.Equal(32, SimdWidth.Choose("32"));
        Assert.Equal(SimdWidth.DefaultBits, SimdWidth.Choose("64"));
    }

    private static float[] Lanes<T>(T vector)
        where T : struct
    {
        int count = System.Runtime.CompilerServices.Unsafe.SizeOf<T>() / sizeof(float);
        var lanes = new float[count];
        System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref System.Runtime.CompilerServices.Unsafe.As<float, byte>(ref lanes[0]), vector);
        return lanes;
    }
}
