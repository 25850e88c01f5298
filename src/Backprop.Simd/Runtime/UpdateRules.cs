using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Runtime;

/// <summary>
/// The parameter updates of each <see cref="Optimizer"/>, one fused vectorized pass per span. For weights the
/// gradient of the regularised cost is <c>g = nabla/m + (lambda/n) w + (l1/n) sgn(w)</c>; biases are not decayed, so
/// callers pass 0 for both regularisation strengths there.
/// </summary>
internal static class UpdateRules
{
    /// <summary>
    /// Plain SGD in network2's form: <c>w = (1 - eta lambda/n) w - (eta l1/n) sgn(w) - (eta/m) nabla</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sgd(Span<float> p, ReadOnlySpan<float> nabla, float scale, float decay, float l1Step)
    {
        ref float p0 = ref MemoryMarshal.GetReference(p);
        ref float n0 = ref MemoryMarshal.GetReference(nabla);
        int n = p.Length, width = Vector<float>.Count, i = 0, vectorEnd = VectorLoops.VectorEnd(n);
        Vector<float> vScale = new(scale), vDecay = new(decay), vL1 = new(l1Step);
        for (; i < vectorEnd; i += width)
        {
            Vector<float> w = Vector.LoadUnsafe(ref p0, (nuint)i);
            Vector<float> updated = (w * vDecay) - (vL1 * Sign(w)) + (vScale * Vector.LoadUnsafe(ref n0, (nuint)i));
            updated.StoreUnsafe(ref p0, (nuint)i);
        }

        for (; i < n; i++)
        {
            float w = Unsafe.Add(ref p0, i);
            Unsafe.Add(ref p0, i) = (w * decay) - (l1Step * Sign(w)) + (scale * Unsafe.Add(ref n0, i));
        }
    }

    /// <summary>
    /// Momentum-based gradient descent (Nielsen, chapter 3): <c>v = mu v - eta g</c>, <c>w = w + v</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Momentum(Span<float> p, Span<float> velocity, ReadOnlySpan<float> nabla, float inverseM, float l2, float l1, float mu, float eta)
    {
        ref float p0 = ref MemoryMarshal.GetReference(p);
        ref float v0 = ref MemoryMarshal.GetReference(velocity);
        ref float n0 = ref MemoryMarshal.GetReference(nabla);
        int n = p.Length, width = Vector<float>.Count, i = 0, vectorEnd = VectorLoops.VectorEnd(n);
        Vector<float> vInv = new(inverseM), vL2 = new(l2), vL1 = new(l1), vMu = new(mu), vEta = new(eta);
        for (; i < vectorEnd; i += width)
        {
            Vector<float> w = Vector.LoadUnsafe(ref p0, (nuint)i);
            Vector<float> g = (Vector.LoadUnsafe(ref n0, (nuint)i) * vInv) + (vL2 * w) + (vL1 * Sign(w));
            Vector<float> v = (vMu * Vector.LoadUnsafe(ref v0, (nuint)i)) - (vEta * g);
            v.StoreUnsafe(ref v0, (nuint)i);
            (w + v).StoreUnsafe(ref p0, (nuint)i);
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

    /// <summary>
    /// Adam (Kingma and Ba): <c>m = b1 m + (1 - b1) g</c>, <c>v = b2 v + (1 - b2) g^2</c>,
    /// <c>w = w - stepSize m / (sqrt(v secondCorrection) + epsilon)</c>, with <c>stepSize = eta / (1 - b1^t)</c> and
    /// <c>secondCorrection = 1 / (1 - b2^t)</c> the bias corrections of step <c>t</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Adam(Span<float> p, Span<float> first, Span<float> second, ReadOnlySpan<float> nabla, float inverseM, float l2, float l1,
        float beta1, float beta2, float stepSize, float secondCorrection, float epsilon)
    {
        ref float p0 = ref MemoryMarshal.GetReference(p);
        ref float m0 = ref MemoryMarshal.GetReference(first);
        ref float s0 = ref MemoryMarshal.GetReference(second);
        ref float n0 = ref MemoryMarshal.GetReference(nabla);
        int n = p.Length, width = Vector<float>.Count, i = 0, vectorEnd = VectorLoops.VectorEnd(n);
        Vector<float> vInv = new(inverseM), vL2 = new(l2), vL1 = new(l1), vB1 = new(beta1), vB2 = new(beta2);
        Vector<float> vC1 = new(1 - beta1), vC2 = new(1 - beta2), vStep = new(stepSize), vCorr = new(secondCorrection), vEps = new(epsilon);
        for (; i < vectorEnd; i += width)
        {
            Vector<float> w = Vector.LoadUnsafe(ref p0, (nuint)i);
            Vector<float> g = (Vector.LoadUnsafe(ref n0, (nuint)i) * vInv) + (vL2 * w) + (vL1 * Sign(w));
            Vector<float> m = (vB1 * Vector.LoadUnsafe(ref m0, (nuint)i)) + (vC1 * g);
            Vector<float> v = (vB2 * Vector.LoadUnsafe(ref s0, (nuint)i)) + (vC2 * (g * g));
            m.StoreUnsafe(ref m0, (nuint)i);
            v.StoreUnsafe(ref s0, (nuint)i);
            (w - (vStep * m / (Vector.SquareRoot(v * vCorr) + vEps))).StoreUnsafe(ref p0, (nuint)i);
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

    // sgn(w): 1, -1, or 0 for 0 (and NaN), as numpy's sign.
    private static Vector<float> Sign(Vector<float> w) =>
        Vector.ConditionalSelect(Vector.GreaterThan(w, Vector<float>.Zero), Vector<float>.One,
            Vector.ConditionalSelect(Vector.LessThan(w, Vector<float>.Zero), -Vector<float>.One, Vector<float>.Zero));

    private static float Sign(float w) => w > 0 ? 1f : w < 0 ? -1f : 0f;
}
