using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

/// <summary>
/// The smooth activations and their derivatives: ELU, GELU, SiLU and the row-wise log-softmax. <see cref="TensorPrimitives"/>
/// does the exponentials and the sigmoid, into a scratch chunk on the stack; the rest is one vector loop
/// (<see cref="SimdWidth.Bits"/>) over the chunk, whose tail runs the very same generic code one lane at a time,
/// so every element gets the same bits wherever it falls. The error function, which .NET does not vectorise, is
/// written here (<see cref="Erf{TV}"/>). Outputs may be the inputs themselves; nothing allocates.
/// </summary>
internal static class SmoothActivations
{
    // Floats per scratch chunk: 1 KB on the stack, still in L1 when the vector loop reads it back.
    private const int Chunk = 256;

    // The shortest last chunk: TensorPrimitives computes an exponential in other code (other bits) below a few vectors,
    // so a chunk is cut short rather than leave fewer floats than this after it (callers pad runs shorter than this).
    private const int MinChunk = 16;

    private const float InvSqrt2 = 0.70710677f;    // 1 / sqrt 2, rounded to float
    private const float InvSqrt2Pi = 0.39894229f;  // 1 / sqrt(2 pi): phi(z) = e^(-z^2 / 2) / sqrt(2 pi)
    private const float MinusLn2 = -0.6931472f;    // below it, e^z <= 1/2 and e^z - 1 loses no digits

    /// <summary><c>a = z &gt; 0 ? z : e^z - 1</c> (ELU, alpha 1), within 3 units of roundoff of <c>|a|</c>.</summary>
    public static void ELU(ReadOnlySpan<float> z, Span<float> a) => ELU(z, a, SimdWidth.Bits);

    /// <summary><c>delta = delta (z &gt; 0 ? 1 : a + 1)</c>: ELU's derivative <c>e^z</c> taken from its value <c>a = e^z - 1</c>.</summary>
    public static void MultiplyByELUPrime(Span<float> delta, ReadOnlySpan<float> z, ReadOnlySpan<float> a) => MultiplyByELUPrime(delta, z, a, SimdWidth.Bits);

    /// <summary><c>a = z Phi(z) = z (1 + erf(z / sqrt 2)) / 2</c> (GELU, the exact form), with <see cref="Erf{TV}"/>.</summary>
    public static void GELU(ReadOnlySpan<float> z, Span<float> a) => GELU(z, a, SimdWidth.Bits);

    /// <summary><c>delta = delta (Phi(z) + z phi(z))</c>: GELU's derivative, with <c>phi(z) = e^(-z^2/2) / sqrt(2 pi)</c>.</summary>
    public static void MultiplyByGELUPrime(Span<float> delta, ReadOnlySpan<float> z) => MultiplyByGELUPrime(delta, z, SimdWidth.Bits);

    /// <summary><c>a = z sigmoid(z)</c> (SiLU), both by <see cref="TensorPrimitives"/>.</summary>
    public static void SiLU(ReadOnlySpan<float> z, Span<float> a)
    {
        Span<float> s = stackalloc float[Chunk];
        for (int start = 0, count; start < z.Length; start += count)
        {
            count = ChunkLength(z.Length - start);
            ReadOnlySpan<float> zc = z.Slice(start, count);
            TensorPrimitives.Sigmoid(zc, s[..count]);
            TensorPrimitives.Multiply(zc, s[..count], a.Slice(start, count));
        }
    }

    /// <summary><c>delta = delta s (1 + z (1 - s))</c> with <c>s = sigmoid(z)</c>: SiLU's derivative.</summary>
    public static void MultiplyBySiLUPrime(Span<float> delta, ReadOnlySpan<float> z) => MultiplyBySiLUPrime(delta, z, SimdWidth.Bits);

    /// <summary>
    /// The stable log-softmax of each row of <paramref name="width"/> floats, <c>(z - max z) - ln sum e^(z - max z)</c>:
    /// nothing overflows, and the sum is at least 1 (the maximum's own term), so its logarithm is finite.
    /// </summary>
    public static void LogSoftmaxRows(ReadOnlySpan<float> z, Span<float> a, int width)
    {
        Span<float> e = stackalloc float[Chunk];
        for (int start = 0; start < z.Length; start += width)
        {
            ReadOnlySpan<float> row = z.Slice(start, width);
            Span<float> result = a.Slice(start, width);
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, result); // z - max; z is not read again, so a may be z
            float sum = 0f;
            for (int j = 0; j < width; j += Chunk)
            {
                Span<float> part = e[..Math.Min(Chunk, width - j)];
                TensorPrimitives.Exp(result.Slice(j, part.Length), part);
                sum += TensorPrimitives.Sum(part);
            }

            TensorPrimitives.Subtract(result, MathF.Log(sum), result);
        }
    }

    // Floats in the next chunk of `remaining`: Chunk, unless that would leave a last chunk shorter than MinChunk.
    private static int ChunkLength(int remaining) =>
        remaining <= Chunk ? remaining : remaining - Chunk >= MinChunk ? Chunk : remaining - MinChunk;

    internal static void ELU(ReadOnlySpan<float> z, Span<float> a, int bits)
    {
        Span<float> e = stackalloc float[Chunk];
        for (int start = 0, count; start < z.Length; start += count)
        {
            count = ChunkLength(z.Length - start);
            ReadOnlySpan<float> zc = z.Slice(start, count);
            TensorPrimitives.Exp(zc, e[..count]); // overflows to infinity only where z > 0, where it is not used
            Map(zc, e, zc, a.Slice(start, count), default(Elu), bits);
        }
    }

    internal static void MultiplyByELUPrime(Span<float> delta, ReadOnlySpan<float> z, ReadOnlySpan<float> a, int bits) =>
        Map(delta, z, a, delta, default(EluPrime), bits);

    internal static void GELU(ReadOnlySpan<float> z, Span<float> a, int bits) => Map(z, z, z, a, default(Gelu), bits);

    internal static void MultiplyByGELUPrime(Span<float> delta, ReadOnlySpan<float> z, int bits)
    {
        Span<float> e = stackalloc float[Chunk];
        for (int start = 0, count; start < z.Length; start += count)
        {
            count = ChunkLength(z.Length - start);
            ReadOnlySpan<float> zc = z.Slice(start, count);
            Span<float> ec = e[..count];
            TensorPrimitives.Multiply(zc, zc, ec);   // z^2
            TensorPrimitives.Multiply(ec, -0.5f, ec); // -z^2 / 2, exactly halved
            TensorPrimitives.Exp(ec, ec);             // e^(-z^2 / 2)
            Span<float> d = delta.Slice(start, count);
            Map(d, zc, ec, d, default(GeluPrime), bits);
        }
    }

    internal static void MultiplyBySiLUPrime(Span<float> delta, ReadOnlySpan<float> z, int bits)
    {
        Span<float> t = stackalloc float[Chunk];
        for (int start = 0, count; start < z.Length; start += count)
        {
            count = ChunkLength(z.Length - start);
            ReadOnlySpan<float> zc = z.Slice(start, count);
            Span<float> tc = t[..count];
            TensorPrimitives.Abs(zc, tc);
            TensorPrimitives.Negate(tc, tc);
            TensorPrimitives.Exp(tc, tc); // e^-|z|, in (0, 1]: never overflows
            Span<float> d = delta.Slice(start, count);
            Map(d, zc, tc, d, default(SiluPrime), bits);
        }
    }

    /// <summary><c>result = erf x</c> element-wise, for the tests of <see cref="Erf{TV}"/> at each width.</summary>
    internal static void Erf(ReadOnlySpan<float> x, Span<float> result, int bits) => Map(x, x, x, result, default(ErfOp), bits);

    /// <summary>
    /// The error function in float, within 1.5 units in the last place of <c>erf x</c> (so within <c>3u |erf x|</c>,
    /// <c>u = 2^-24</c>): measured against a double-precision erf at every float from 0 to 6, at most 1.12 ulp with
    /// fused multiply-adds and 1.34 without. Odd, so it works on <c>|x|</c>, clamped to 4 (beyond about 3.84,
    /// erf x rounds to 1 in float). On <c>[0, 1]</c>, <c>erf x = x + x R(x^2)</c>, the small correction added last so
    /// that its rounding hardly shows; on <c>[1, 4]</c>, <c>erf x = 1 - E(x - 5/2)</c> with <c>E</c> close to erfc. R
    /// (degree 6) and E (degree 14) are Chebyshev interpolants, near-minimax, of <c>erf(x)/x - 1</c> in <c>x^2</c> and
    /// of <c>erfc x</c>, computed in double and rounded to float; their truncation error is below 0.3 ulp, the rest
    /// is float rounding. NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Erf<TV>(TV x)
        where TV : struct, ISimd<TV>
    {
        TV negative = TV.LessThan(x, TV.Zero);
        TV ax = TV.Select(negative, TV.Subtract(TV.Zero, x), x);
        ax = TV.Select(TV.GreaterThan(ax, TV.Broadcast(4f)), TV.Broadcast(4f), ax);
        TV near = TV.MultiplyAdd(ax, Polynomial(TV.Multiply(ax, ax), SmallR), ax);
        TV far = TV.Subtract(TV.Broadcast(1f), Polynomial(TV.Subtract(ax, TV.Broadcast(2.5f)), LargeE));
        TV magnitude = TV.Select(TV.GreaterThan(ax, TV.Broadcast(1f)), far, near);
        return TV.Select(negative, TV.Subtract(TV.Zero, magnitude), magnitude);
    }

    // R of erf x = x + x R(x^2) on [0, 1], constant term first.
    private static ReadOnlySpan<float> SmallR =>
        [0.12837917f, -0.37612626f, 0.11283594f, -0.026854211f, 0.0051890872f, -0.00080168643f, 7.8758756E-05f];

    // E of erf x = 1 - E(x - 2.5) on [1, 4], constant term first.
    private static ReadOnlySpan<float> LargeE =>
    [
        0.00040695202f, -0.0021781803f, 0.0054457025f, -0.008351824f, 0.008622514f, -0.0061089164f, 0.002797779f, -0.0005606544f,
        -0.00025899912f, 0.000270836f, -8.0933416E-05f, -1.7837625E-05f, 1.5667485E-05f, -4.8799006E-07f, -8.8379664E-07f,
    ];

    // Taylor coefficients 1/k! of e^z - 1 = z + z^2 (1/2! + z/3! + ... + z^7/9!), for |z| < ln 2: the first term left
    // out, |z|^10/10!, is below 2^-26 |e^z - 1| there.
    private static ReadOnlySpan<float> Expm1Taylor =>
        [1f / 2, 1f / 6, 1f / 24, 1f / 120, 1f / 720, 1f / 5040, 1f / 40320, 1f / 362880];

    // c[0] + x (c[1] + x (c[2] + ...)), by Horner's rule with multiply-adds.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Polynomial<TV>(TV x, ReadOnlySpan<float> c)
        where TV : struct, ISimd<TV>
    {
        TV p = TV.Broadcast(c[^1]);
        for (int i = c.Length - 2; i >= 0; i--)
        {
            p = TV.MultiplyAdd(p, x, TV.Broadcast(c[i]));
        }

        return p;
    }

    // result[i] = op(u[i], v[i], w[i]): whole vectors, then the tail one lane at a time through the same generic
    // code (SimdScalar's operations round like a vector lane's, multiply-adds included).
    private static void Map<TOp>(ReadOnlySpan<float> u, ReadOnlySpan<float> v, ReadOnlySpan<float> w, Span<float> result, TOp op, int bits)
        where TOp : struct, ITernaryOp
    {
        var kernel = new MapKernel<TOp>(u, v, w, result, op);
        SimdDispatch.Run(ref kernel, bits);
    }

    /// <summary>One element-wise operation of up to three inputs, written once for any width.</summary>
    private interface ITernaryOp
    {
        TV Apply<TV>(TV u, TV v, TV w)
            where TV : struct, ISimd<TV>;
    }

    private readonly ref struct MapKernel<TOp>(ReadOnlySpan<float> u, ReadOnlySpan<float> v, ReadOnlySpan<float> w, Span<float> result, TOp op) : ISimdKernel
        where TOp : struct, ITernaryOp
    {
        private readonly ReadOnlySpan<float> u = u;
        private readonly ReadOnlySpan<float> v = v;
        private readonly ReadOnlySpan<float> w = w;
        private readonly Span<float> result = result;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // fully optimized from the first call: no tier-0 epoch
        public void Run<TV>()
            where TV : struct, ISimd<TV>
        {
            ref float u0 = ref MemoryMarshal.GetReference(u);
            ref float v0 = ref MemoryMarshal.GetReference(v);
            ref float w0 = ref MemoryMarshal.GetReference(w);
            ref float r0 = ref MemoryMarshal.GetReference(result);
            int n = u.Length, width = TV.Count;
            int i = 0;
            for (; i <= n - width; i += width)
            {
                TV.Store(op.Apply(TV.Load(ref u0, (nuint)i), TV.Load(ref v0, (nuint)i), TV.Load(ref w0, (nuint)i)), ref r0, (nuint)i);
            }

            for (; i < n; i++)
            {
                SimdScalar.Store(op.Apply(SimdScalar.Load(ref u0, (nuint)i), SimdScalar.Load(ref v0, (nuint)i), SimdScalar.Load(ref w0, (nuint)i)), ref r0, (nuint)i);
            }
        }
    }

    // (z, e = e^z, unused) -> z > 0 ? z : e^z - 1. Near 0, e^z - 1 would cancel: there the Taylor series instead.
    private readonly struct Elu : ITernaryOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Apply<TV>(TV z, TV e, TV unused)
            where TV : struct, ISimd<TV>
        {
            TV series = TV.MultiplyAdd(TV.Multiply(z, z), Polynomial(z, Expm1Taylor), z);
            TV negative = TV.Select(TV.GreaterThan(z, TV.Broadcast(MinusLn2)), series, TV.Subtract(e, TV.Broadcast(1f)));
            return TV.Select(TV.GreaterThan(z, TV.Zero), z, negative);
        }
    }

    // (delta, z, a) -> z > 0 ? delta : delta (a + 1)
    private readonly struct EluPrime : ITernaryOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Apply<TV>(TV d, TV z, TV a)
            where TV : struct, ISimd<TV> =>
            TV.Select(TV.GreaterThan(z, TV.Zero), d, TV.Multiply(d, TV.Add(a, TV.Broadcast(1f))));
    }

    // (z, unused, unused) -> z/2 (1 + erf(z / sqrt 2)), as PyTorch computes it
    private readonly struct Gelu : ITernaryOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Apply<TV>(TV z, TV unused1, TV unused2)
            where TV : struct, ISimd<TV> =>
            TV.Multiply(TV.Multiply(TV.Broadcast(0.5f), z), TV.Add(TV.Broadcast(1f), Erf(TV.Multiply(z, TV.Broadcast(InvSqrt2)))));
    }

    // (delta, z, e = e^(-z^2/2)) -> delta (Phi(z) + z phi(z)), Phi(z) = (1 + erf(z / sqrt 2)) / 2
    private readonly struct GeluPrime : ITernaryOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Apply<TV>(TV d, TV z, TV e)
            where TV : struct, ISimd<TV>
        {
            TV phi = TV.Multiply(TV.Broadcast(0.5f), TV.Add(TV.Broadcast(1f), Erf(TV.Multiply(z, TV.Broadcast(InvSqrt2)))));
            return TV.Multiply(d, TV.MultiplyAdd(z, TV.Multiply(e, TV.Broadcast(InvSqrt2Pi)), phi));
        }
    }

    // (delta, z, t = e^-|z|) -> delta s (1 + z (1 - s)). With r = 1 / (1 + t) and q = t r, one of them is s and the
    // other 1 - s (r for z > 0, q otherwise): both are computed without cancellation, whatever the sign of z.
    private readonly struct SiluPrime : ITernaryOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Apply<TV>(TV d, TV z, TV t)
            where TV : struct, ISimd<TV>
        {
            TV r = TV.Divide(TV.Broadcast(1f), TV.Add(TV.Broadcast(1f), t));
            TV q = TV.Multiply(t, r);
            TV positive = TV.GreaterThan(z, TV.Zero);
            TV s = TV.Select(positive, r, q), oneMinusS = TV.Select(positive, q, r);
            return TV.Multiply(d, TV.Multiply(s, TV.MultiplyAdd(z, oneMinusS, TV.Broadcast(1f))));
        }
    }

    private readonly struct ErfOp : ITernaryOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Apply<TV>(TV x, TV unused1, TV unused2)
            where TV : struct, ISimd<TV> => Erf(x);
    }
}
