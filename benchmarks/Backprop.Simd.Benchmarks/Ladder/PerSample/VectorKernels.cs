using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Benchmarks.Ladder.PerSample;

/// <summary>The loop bound of the per-sample kernels' <see cref="Vector{T}"/> loops.</summary>
internal static class VectorLoops
{
    /// <summary>
    /// Where the whole <see cref="Vector{T}"/> steps of a loop over <paramref name="n"/> floats end: 0 where
    /// <see cref="Vector{T}"/> is not hardware accelerated, so that the scalar remainder loop does all the work
    /// instead of software-emulated vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int VectorEnd(int n) => Vector.IsHardwareAccelerated ? n - (n % Vector<float>.Count) : 0;
}

/// <summary>The library's multiply-add (<see cref="MultiplyAdds"/>) for <see cref="Vector{T}"/>, through the fixed-width vector of its size.</summary>
internal static class VectorMultiplyAdds
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Of(Vector<float> a, Vector<float> b, Vector<float> c)
    {
        if (Vector<float>.Count == Vector128<float>.Count)
        {
            return MultiplyAdds.Of(a.AsVector128(), b.AsVector128(), c.AsVector128()).AsVector();
        }

        if (Vector<float>.Count == Vector256<float>.Count)
        {
            return MultiplyAdds.Of(a.AsVector256(), b.AsVector256(), c.AsVector256()).AsVector();
        }

        if (Vector<float>.Count == Vector512<float>.Count)
        {
            return MultiplyAdds.Of(a.AsVector512(), b.AsVector512(), c.AsVector512()).AsVector();
        }

        return (a * b) + c;
    }
}

/// <summary>
/// The plain SGD step folded into the last rank-1 term of a gradient: <c>C = decay C + scale t</c>, with the same
/// unfused multiplications and additions, in the same order, as a separate update pass over a stored gradient.
/// </summary>
internal readonly record struct SgdFold(float Scale, float Decay)
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(float t, ref float c) => c = (c * Decay) + (Scale * t);
}
