using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

/// <summary>
/// The element-wise pieces of backpropagation. Where <see cref="TensorPrimitives"/> already does the job
/// (sigmoid, add, axpy) it is called directly; only the fused BP1/BP2 expressions are written by hand, because
/// fusing them saves a pass over memory and a temporary buffer.
/// </summary>
/// <remarks>
/// The derivative of the sigmoid is taken from the activation, <c>sigma'(z) = sigma(z) (1 - sigma(z)) = a (1 - a)</c>,
/// so the backward pass never evaluates <c>exp</c> again.
/// </remarks>
public static partial class Elementwise
{
    /// <summary><c>a = sigma(z) = 1 / (1 + e^-z)</c>, element-wise. <paramref name="a"/> may be <paramref name="z"/> itself.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Sigmoid(ReadOnlySpan<float> z, Span<float> a)
    {
        Guard.Length(a.Length, z.Length, "z.Length");
        TensorPrimitives.Sigmoid(z, a);
    }

    /// <summary><c>result = sigma'(z) = sigma(z) (1 - sigma(z))</c>, element-wise. <paramref name="result"/> may be <paramref name="z"/> itself.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void SigmoidPrime(ReadOnlySpan<float> z, Span<float> result)
    {
        Guard.Length(result.Length, z.Length, "z.Length");
        TensorPrimitives.Sigmoid(z, result);
        ref float r0 = ref MemoryMarshal.GetReference(result);
        int n = result.Length;
        int width = Vector<float>.Count;
        int vectorEnd = VectorLoops.VectorEnd(n);
        int i = 0;
        for (; i < vectorEnd; i += width)
        {
            Vector<float> s = Vector.LoadUnsafe(ref r0, (nuint)i);
            (s * (Vector<float>.One - s)).StoreUnsafe(ref r0, (nuint)i);
        }

        for (; i < n; i++)
        {
            float s = Unsafe.Add(ref r0, i);
            Unsafe.Add(ref r0, i) = s * (1f - s);
        }
    }

    /// <summary>
    /// BP1 for the quadratic cost: <c>delta = (a - y) ⊙ sigma'(z)</c> with <c>sigma'(z) = a (1 - a)</c>.
    /// </summary>
    /// <param name="a">Output activation <c>a^L</c>.</param>
    /// <param name="y">Target <c>y</c>, same length.</param>
    /// <param name="delta">Output error <c>delta^L</c>, same length; overwritten.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void OutputErrorQuadratic(ReadOnlySpan<float> a, ReadOnlySpan<float> y, Span<float> delta)
    {
        Guard.Length(y.Length, a.Length, "a.Length");
        Guard.Length(delta.Length, a.Length, "a.Length");
        OutputErrorQuadraticUnchecked(a, y, delta);
    }

    /// <summary>
    /// Second half of BP2: <c>delta = delta ⊙ sigma'(z)</c> with <c>sigma'(z) = a (1 - a)</c>.
    /// </summary>
    /// <param name="delta">On entry <c>(W^{l+1})^T delta^{l+1}</c>, on return <c>delta^l</c>.</param>
    /// <param name="a">Activation <c>a^l</c>, same length.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void MultiplyBySigmoidPrime(Span<float> delta, ReadOnlySpan<float> a)
    {
        Guard.Length(a.Length, delta.Length, "delta.Length");
        MultiplyBySigmoidPrimeUnchecked(delta, a);
    }

    /// <summary><c>y = y + alpha * x</c> (axpy), element-wise.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.Length(y.Length, x.Length, "x.Length");
        TensorPrimitives.MultiplyAdd(x, alpha, y, y);
    }

    /// <summary>Whether every value is finite (no NaN, no infinity): one vectorized pass, used by the divergence guard.</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        // x * 0 is 0 for every finite x and NaN for NaN and both infinities; NaN then sticks in the accumulator.
        ref float v0 = ref MemoryMarshal.GetReference(values);
        int n = values.Length;
        int width = Vector<float>.Count;
        int vectorEnd = VectorLoops.VectorEnd(n);
        Vector<float> acc = Vector<float>.Zero;
        int i = 0;
        for (; i < vectorEnd; i += width)
        {
            acc += Vector.LoadUnsafe(ref v0, (nuint)i) * Vector<float>.Zero;
        }

        float tail = 0f;
        for (; i < n; i++)
        {
            tail += Unsafe.Add(ref v0, i) * 0f;
        }

        return Vector.EqualsAll(acc, Vector<float>.Zero) && tail == 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // fully optimized from the first call: no tier-0 epoch
    internal static void OutputErrorQuadraticUnchecked(ReadOnlySpan<float> a, ReadOnlySpan<float> y, Span<float> delta)
    {
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        ref float d0 = ref MemoryMarshal.GetReference(delta);
        int n = a.Length;
        int width = Vector<float>.Count;
        int vectorEnd = VectorLoops.VectorEnd(n);
        int i = 0;
        for (; i < vectorEnd; i += width)
        {
            Vector<float> av = Vector.LoadUnsafe(ref a0, (nuint)i);
            Vector<float> yv = Vector.LoadUnsafe(ref y0, (nuint)i);
            ((av - yv) * (av * (Vector<float>.One - av))).StoreUnsafe(ref d0, (nuint)i);
        }

        for (; i < n; i++)
        {
            float ai = Unsafe.Add(ref a0, i);
            Unsafe.Add(ref d0, i) = (ai - Unsafe.Add(ref y0, i)) * (ai * (1f - ai));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // fully optimized from the first call: no tier-0 epoch
    internal static void MultiplyBySigmoidPrimeUnchecked(Span<float> delta, ReadOnlySpan<float> a)
    {
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float d0 = ref MemoryMarshal.GetReference(delta);
        int n = delta.Length;
        int width = Vector<float>.Count;
        int vectorEnd = VectorLoops.VectorEnd(n);
        int i = 0;
        for (; i < vectorEnd; i += width)
        {
            Vector<float> av = Vector.LoadUnsafe(ref a0, (nuint)i);
            (Vector.LoadUnsafe(ref d0, (nuint)i) * (av * (Vector<float>.One - av))).StoreUnsafe(ref d0, (nuint)i);
        }

        for (; i < n; i++)
        {
            float ai = Unsafe.Add(ref a0, i);
            Unsafe.Add(ref d0, i) *= ai * (1f - ai);
        }
    }
}
