using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Runtime;

/// <summary>
/// The parameter updates of each <see cref="Optimizer"/>, one fused vectorized pass per span at <see cref="SimdWidth.Bits"/>. For weights the
/// gradient of the regularised cost is <c>g = nabla/m + (lambda/n) w + (l1/n) sgn(w)</c>; biases are not decayed, so
/// callers pass 0 for both regularisation strengths there.
/// </summary>
internal static class UpdateRules
{
    /// <summary>
    /// Plain SGD in network2's form: <c>w = (1 - eta lambda/n) w - (eta l1/n) sgn(w) - (eta/m) nabla</c>.
    /// </summary>
    public static void Sgd(Span<float> p, ReadOnlySpan<float> nabla, float scale, float decay, float l1Step)
    {
        var kernel = new SgdKernel(p, nabla, scale, decay, l1Step);
        SimdDispatch.Run(ref kernel, SimdWidth.Bits);
    }

    /// <summary>
    /// Momentum-based gradient descent (Nielsen, chapter 3): <c>v = mu v - eta g</c>, <c>w = w + v</c>.
    /// </summary>
    public static void Momentum(Span<float> p, Span<float> velocity, ReadOnlySpan<float> nabla, float inverseM, float l2, float l1, float mu, float eta)
    {
        var kernel = new MomentumKernel(p, velocity, nabla, inverseM, l2, l1, mu, eta);
        SimdDispatch.Run(ref kernel, SimdWidth.Bits);
    }

    /// <summary>
    /// Adam (Kingma and Ba): <c>m = b1 m + (1 - b1) g</c>, <c>v = b2 v + (1 - b2) g^2</c>,
    /// <c>w = w - stepSize m / (sqrt(v secondCorrection) + epsilon)</c>, with <c>stepSize = eta / (1 - b1^t)</c> and
    /// <c>secondCorrection = 1 / (1 - b2^t)</c> the bias corrections of step <c>t</c>.
    /// </summary>
    public static void Adam(Span<float> p, Span<float> first, Span<float> second, ReadOnlySpan<float> nabla, float inverseM, float l2, float l1,
        float beta1, float beta2, float stepSize, float secondCorrection, float epsilon)
    {
        var kernel = new AdamKernel(p, first, second, nabla, inverseM, l2, l1, beta1, beta2, stepSize, secondCorrection, epsilon);
        SimdDispatch.Run(ref kernel, SimdWidth.Bits);
    }

    // Each rule: a vector loop, then a scalar loop with the same arithmetic for the tail (for everything without SIMD).
    private static int VectorEnd<TV>(int n)
        where TV : struct, ISimd<TV> => TV.Count == 1 ? 0 : n - (n % TV.Count);

    private readonly ref struct SgdKernel(Span<float> p, ReadOnlySpan<float> nabla, float scale, float decay, float l1Step) : ISimdKernel
    {
        private readonly Span<float> p = p;
        private readonly ReadOnlySpan<float> nabla = nabla;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TV>()
            where TV : struct, ISimd<TV>
        {
            ref float p0 = ref MemoryMarshal.GetReference(p);
            ref float n0 = ref MemoryMarshal.GetReference(nabla);
            int n = p.Length, width = TV.Count, i = 0, vectorEnd = VectorEnd<TV>(n);
            TV vScale = TV.Broadcast(scale), vDecay = TV.Broadcast(decay), vL1 = TV.Broadcast(l1Step);
            for (; i < vectorEnd; i += width)
            {
                TV w = TV.Load(ref p0, (nuint)i);
                TV updated = TV.Add(TV.Subtract(TV.Multiply(w, vDecay), TV.Multiply(vL1, Sign(w))), TV.Multiply(vScale, TV.Load(ref n0, (nuint)i)));
                TV.Store(updated, ref p0, (nuint)i);
            }

            for (; i < n; i++)
            {
                float w = Unsafe.Add(ref p0, i);
                Unsafe.Add(ref p0, i) = (w * decay) - (l1Step * Sign(w)) + (scale * Unsafe.Add(ref n0, i));
            }
        }
    }

    private readonly ref struct MomentumKernel(Span<float> p, Span<float> velocity, ReadOnlySpan<float> nabla, float inverseM, float l2, float l1, float mu, float eta) : ISimdKernel
    {
        private readonly Span<float> p = p;
        private readonly Span<float> velocity = velocity;
        private readonly ReadOnlySpan<float> nabla = nabla;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TV>()
            where TV : struct, ISimd<TV>
        {
            ref float p0 = ref MemoryMarshal.GetReference(p);
            ref float v0 = ref MemoryMarshal.GetReference(velocity);
            ref float n0 = ref MemoryMarshal.GetReference(nabla);
            int n = p.Length, width = TV.Count, i = 0, vectorEnd = VectorEnd<TV>(n);
            TV vInv = TV.Broadcast(inverseM), vL2 = TV.Broadcast(l2), vL1 = TV.Broadcast(l1), vMu = TV.Broadcast(mu), vEta = TV.Broadcast(eta);
            for (; i < vectorEnd; i += width)
            {
                TV w = TV.Load(ref p0, (nuint)i);
                TV g = Gradient(TV.Load(ref n0, (nuint)i), w, vInv, vL2, vL1);
                TV v = TV.Subtract(TV.Multiply(vMu, TV.Load(ref v0, (nuint)i)), TV.Multiply(vEta, g));
                TV.Store(v, ref v0, (nuint)i);
                TV.Store(TV.Add(w, v), ref p0, (nuint)i);
            }

            for (; i < n; i++)
            {
                float w = Unsafe.Add(ref p0, i);
                float g = (Unsafe.Add(ref n0, i) * inverseM) + (l2 * w) + (l1 * Sign(w));
                float v = (mu * Unsafe.Add(ref v0, i)) - (eta * g);
                Unsafe.Add(ref v0, i) = v;
                Unsafe.Add(ref p0, i) = w + v;
            }
        }
    }

    private readonly ref struct AdamKernel(Span<float> p, Span<float> first, Span<float> second, ReadOnlySpan<float> nabla, float inverseM, float l2, float l1,
        float beta1, float beta2, float stepSize, float secondCorrection, float epsilon) : ISimdKernel
    {
        private readonly Span<float> p = p;
        private readonly Span<float> first = first;
        private readonly Span<float> second = second;
        private readonly ReadOnlySpan<float> nabla = nabla;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TV>()
            where TV : struct, ISimd<TV>
        {
            ref float p0 = ref MemoryMarshal.GetReference(p);
            ref float m0 = ref MemoryMarshal.GetReference(first);
            ref float s0 = ref MemoryMarshal.GetReference(second);
            ref float n0 = ref MemoryMarshal.GetReference(nabla);
            int n = p.Length, width = TV.Count, i = 0, vectorEnd = VectorEnd<TV>(n);
            TV vInv = TV.Broadcast(inverseM), vL2 = TV.Broadcast(l2), vL1 = TV.Broadcast(l1), vB1 = TV.Broadcast(beta1), vB2 = TV.Broadcast(beta2);
            TV vC1 = TV.Broadcast(1 - beta1), vC2 = TV.Broadcast(1 - beta2), vStep = TV.Broadcast(stepSize), vCorr = TV.Broadcast(secondCorrection), vEps = TV.Broadcast(epsilon);
            for (; i < vectorEnd; i += width)
            {
                TV w = TV.Load(ref p0, (nuint)i);
                TV g = Gradient(TV.Load(ref n0, (nuint)i), w, vInv, vL2, vL1);
                TV m = TV.Add(TV.Multiply(vB1, TV.Load(ref m0, (nuint)i)), TV.Multiply(vC1, g));
                TV v = TV.Add(TV.Multiply(vB2, TV.Load(ref s0, (nuint)i)), TV.Multiply(vC2, TV.Multiply(g, g)));
                TV.Store(m, ref m0, (nuint)i);
                TV.Store(v, ref s0, (nuint)i);
                TV.Store(TV.Subtract(w, TV.Divide(TV.Multiply(vStep, m), TV.Add(TV.SquareRoot(TV.Multiply(v, vCorr)), vEps))), ref p0, (nuint)i);
            }

            for (; i < n; i++)
            {
                float w = Unsafe.Add(ref p0, i);
                float g = (Unsafe.Add(ref n0, i) * inverseM) + (l2 * w) + (l1 * Sign(w));
                float m = (beta1 * Unsafe.Add(ref m0, i)) + ((1 - beta1) * g);
                float v = (beta2 * Unsafe.Add(ref s0, i)) + ((1 - beta2) * (g * g));
                Unsafe.Add(ref m0, i) = m;
                Unsafe.Add(ref s0, i) = v;
                Unsafe.Add(ref p0, i) = w - (stepSize * m / (MathF.Sqrt(v * secondCorrection) + epsilon));
            }
        }
    }

    // g = nabla/m + l2 w + l1 sgn(w), added in that order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Gradient<TV>(TV nabla, TV w, TV inverseM, TV l2, TV l1)
        where TV : struct, ISimd<TV> => TV.Add(TV.Add(TV.Multiply(nabla, inverseM), TV.Multiply(l2, w)), TV.Multiply(l1, Sign(w)));

    // sgn(w): 1, -1, or 0 for 0 (and NaN), as numpy's sign.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Sign<TV>(TV w)
        where TV : struct, ISimd<TV> =>
        TV.Select(TV.GreaterThan(w, TV.Zero), TV.Broadcast(1f), TV.Select(TV.LessThan(w, TV.Zero), TV.Broadcast(-1f), TV.Zero));

    private static float Sign(float w) => w > 0 ? 1f : w < 0 ? -1f : 0f;
}
