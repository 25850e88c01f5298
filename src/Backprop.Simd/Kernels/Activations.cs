using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Every <see cref="Activation"/> and its derivative, element-wise. Sigmoid, tanh, ReLU and the softmax pieces come
/// from <see cref="TensorPrimitives"/>; leaky ReLU and the derivative products are written by hand because
/// TensorPrimitives has no fused form of them.
/// </summary>
public static class Activations
{
    /// <summary>Slope of <see cref="Activation.LeakyReLU"/> for negative inputs.</summary>
    public const float LeakySlope = 0.01f;

    /// <summary><c>a = f(z)</c>. <paramref name="a"/> may be <paramref name="z"/> itself.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Apply(Activation f, ReadOnlySpan<float> z, Span<float> a)
    {
        Guard.Length(a.Length, z.Length, "z.Length");
        ApplyUnchecked(f, z, a);
    }

    /// <summary><c>delta = delta ⊙ f'(z)</c>, using the activation <c>a = f(z)</c> where that is cheaper. Not defined for softmax, whose Jacobian is not diagonal.</summary>
    /// <exception cref="ArgumentException">The lengths differ, or <paramref name="f"/> is <see cref="Activation.Softmax"/>.</exception>
    public static void MultiplyByDerivative(Activation f, Span<float> delta, ReadOnlySpan<float> z, ReadOnlySpan<float> a)
    {
        Guard.Length(z.Length, delta.Length, "delta.Length");
        Guard.Length(a.Length, delta.Length, "delta.Length");
        if (f == Activation.Softmax)
        {
            throw new ArgumentException("softmax has no element-wise derivative; pair it with the log-likelihood cost, whose output error is a - y.", nameof(f));
        }

        MultiplyByDerivativeUnchecked(f, delta, z, a);
    }

    internal static void ApplyUnchecked(Activation f, ReadOnlySpan<float> z, Span<float> a)
    {
        switch (f)
        {
            case Activation.Sigmoid:
                TensorPrimitives.Sigmoid(z, a);
                break;
            case Activation.Tanh:
                TensorPrimitives.Tanh(z, a);
                break;
            case Activation.ReLU:
                TensorPrimitives.Max(z, 0f, a);
                break;
            case Activation.LeakyReLU:
                LeakyReLU(z, a);
                break;
            case Activation.Identity:
                z.CopyTo(a);
                break;
            case Activation.Softmax:
                Softmax(z, a);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(f), f, "unknown activation");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyByDerivativeUnchecked(Activation f, Span<float> delta, ReadOnlySpan<float> z, ReadOnlySpan<float> a)
    {
        ref float d0 = ref MemoryMarshal.GetReference(delta);
        ref float z0 = ref MemoryMarshal.GetReference(z);
        ref float a0 = ref MemoryMarshal.GetReference(a);
        int n = delta.Length;
        int width = Vector<float>.Count;
        int vectorEnd = VectorLoops.VectorEnd(n);
        int i = 0;
        switch (f)
        {
            case Activation.Sigmoid: // f' = a (1 - a)
                Elementwise.MultiplyBySigmoidPrimeUnchecked(delta, a);
                return;
            case Activation.Tanh: // f' = 1 - a^2
                for (; i < vectorEnd; i += width)
                {
                    Vector<float> av = Vector.LoadUnsafe(ref a0, (nuint)i);
                    (Vector.LoadUnsafe(ref d0, (nuint)i) * (Vector<float>.One - (av * av))).StoreUnsafe(ref d0, (nuint)i);
                }

                for (; i < n; i++)
                {
                    float ai = Unsafe.Add(ref a0, i);
                    Unsafe.Add(ref d0, i) *= 1f - (ai * ai);
                }

                return;
            case Activation.ReLU:
            case Activation.LeakyReLU: // f' = 1 for z > 0, else 0 (ReLU) or the leaky slope
                float negative = f == Activation.ReLU ? 0f : LeakySlope;
                Vector<float> slope = new(negative);
                for (; i < vectorEnd; i += width)
                {
                    Vector<float> zv = Vector.LoadUnsafe(ref z0, (nuint)i);
                    Vector<float> dv = Vector.LoadUnsafe(ref d0, (nuint)i);
                    Vector.ConditionalSelect(Vector.GreaterThan(zv, Vector<float>.Zero), dv, dv * slope).StoreUnsafe(ref d0, (nuint)i);
                }

                for (; i < n; i++)
                {
                    if (Unsafe.Add(ref z0, i) <= 0f)
                    {
                        Unsafe.Add(ref d0, i) *= negative;
                    }
                }

                return;
            case Activation.Identity: // f' = 1
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(f), f, "no element-wise derivative");
        }
    }

    private static void LeakyReLU(ReadOnlySpan<float> z, Span<float> a)
    {
        ref float z0 = ref MemoryMarshal.GetReference(z);
        ref float a0 = ref MemoryMarshal.GetReference(a);
        int n = z.Length;
        int width = Vector<float>.Count;
        int vectorEnd = VectorLoops.VectorEnd(n);
        Vector<float> slope = new(LeakySlope);
        int i = 0;
        for (; i < vectorEnd; i += width)
        {
            Vector<float> zv = Vector.LoadUnsafe(ref z0, (nuint)i);
            Vector.ConditionalSelect(Vector.GreaterThan(zv, Vector<float>.Zero), zv, zv * slope).StoreUnsafe(ref a0, (nuint)i);
        }

        for (; i < n; i++)
        {
            float zi = Unsafe.Add(ref z0, i);
            Unsafe.Add(ref a0, i) = zi > 0f ? zi : zi * LeakySlope;
        }
    }

    // Stable softmax: a = e^(z - max z) / sum e^(z - max z); the largest exponent is 0, so nothing overflows.
    private static void Softmax(ReadOnlySpan<float> z, Span<float> a)
    {
        float max = TensorPrimitives.Max(z);
        TensorPrimitives.Subtract(z, max, a);
        TensorPrimitives.Exp(a, a);
        TensorPrimitives.Divide(a, TensorPrimitives.Sum(a), a);
    }
}
