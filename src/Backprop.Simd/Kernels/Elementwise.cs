using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Element-wise primitives. <see cref="TensorPrimitives"/> does the ones it has; the fused products are written
/// here, one vector loop (<see cref="SimdWidth.Bits"/>) then a scalar loop for the tail, both with the same
/// arithmetic per element. Outputs may be the inputs themselves.
/// </summary>
internal static class Elementwise
{
    /// <summary><c>a = 1 / (1 + e^-z)</c>.</summary>
    public static void Sigmoid(ReadOnlySpan<float> z, Span<float> a) => TensorPrimitives.Sigmoid(z, a);

    /// <summary><c>a = tanh z</c>.</summary>
    public static void Tanh(ReadOnlySpan<float> z, Span<float> a) => TensorPrimitives.Tanh(z, a);

    /// <summary><c>a = max(z, 0)</c>.</summary>
    public static void ReLU(ReadOnlySpan<float> z, Span<float> a) => TensorPrimitives.Max(z, 0f, a);

    /// <summary><c>a = z &gt; 0 ? z : slope z</c>.</summary>
    public static void LeakyReLU(ReadOnlySpan<float> z, float slope, Span<float> a) => Map(z, z, a, new Leaky(slope));

    /// <summary>The stable softmax of each row of <paramref name="width"/> floats: <c>e^(z - max z) / sum e^(z - max z)</c>, so nothing overflows.</summary>
    public static void SoftmaxRows(ReadOnlySpan<float> z, Span<float> a, int width)
    {
        for (int start = 0; start < z.Length; start += width)
        {
            ReadOnlySpan<float> row = z.Slice(start, width);
            Span<float> result = a.Slice(start, width);
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, result);
            TensorPrimitives.Exp(result, result);
            TensorPrimitives.Divide(result, TensorPrimitives.Sum(result), result);
        }
    }

    /// <summary><c>delta = delta (a (1 - a))</c>: the sigmoid's derivative taken from its value <c>a</c>.</summary>
    public static void MultiplyBySigmoidPrime(Span<float> delta, ReadOnlySpan<float> a) => Map(delta, a, delta, default(SigmoidPrime));

    /// <summary><c>delta = delta (1 - a^2)</c>: tanh's derivative taken from its value <c>a</c>.</summary>
    public static void MultiplyByTanhPrime(Span<float> delta, ReadOnlySpan<float> a) => Map(delta, a, delta, default(TanhPrime));

    /// <summary><c>delta = z &gt; 0 ? delta : negativeSlope delta</c> (ReLU with slope 0, leaky ReLU with its slope).</summary>
    public static void MultiplyByStep(Span<float> delta, ReadOnlySpan<float> z, float negativeSlope) => Map(delta, z, delta, new Step(negativeSlope));

    /// <summary><c>delta = (a - y) (a (1 - a))</c>: the output error of the quadratic cost on a sigmoid layer.</summary>
    public static void OutputErrorQuadraticSigmoid(ReadOnlySpan<float> a, ReadOnlySpan<float> y, Span<float> delta) => Map(a, y, delta, default(QuadraticSigmoid));

    /// <summary>Whether every value is finite (no NaN, no infinity), in one vector pass.</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        var kernel = new Finite(values);
        SimdDispatch.Run(ref kernel, SimdWidth.Bits);
        return kernel.Result;
    }

    /// <summary><c>sum = row 0 + row 1 + ...</c> of a <paramref name="rows"/> x <paramref name="width"/> matrix, added in that order.</summary>
    public static void SumRows(ReadOnlySpan<float> matrix, int rows, int width, Span<float> sum) => SumRows(matrix, rows, width, 0, sum);

    /// <summary>
    /// Columns [<paramref name="start"/>, <paramref name="start"/> + <c>sum.Length</c>) of <see cref="SumRows(ReadOnlySpan{float}, int, int, Span{float})"/>:
    /// each column's sum runs down the rows in order, the same bits whatever columns are taken together.
    /// </summary>
    public static void SumRows(ReadOnlySpan<float> matrix, int rows, int width, int start, Span<float> sum)
    {
        var kernel = new ColumnSums(matrix, rows, width, start, sum);
        SimdDispatch.Run(ref kernel, SimdWidth.Bits);
    }

    // The element-wise kernels at a given width, for the tests of each width.
    internal static void LeakyReLU(ReadOnlySpan<float> z, float slope, Span<float> a, int bits) => Map(z, z, a, new Leaky(slope), bits);

    internal static void MultiplyBySigmoidPrime(Span<float> delta, ReadOnlySpan<float> a, int bits) => Map(delta, a, delta, default(SigmoidPrime), bits);

    internal static void MultiplyByTanhPrime(Span<float> delta, ReadOnlySpan<float> a, int bits) => Map(delta, a, delta, default(TanhPrime), bits);

    internal static void MultiplyByStep(Span<float> delta, ReadOnlySpan<float> z, float negativeSlope, int bits) => Map(delta, z, delta, new Step(negativeSlope), bits);

    internal static void OutputErrorQuadraticSigmoid(ReadOnlySpan<float> a, ReadOnlySpan<float> y, Span<float> delta, int bits) => Map(a, y, delta, default(QuadraticSigmoid), bits);

    internal static bool AllFinite(ReadOnlySpan<float> values, int bits)
    {
        var kernel = new Finite(values);
        SimdDispatch.Run(ref kernel, bits);
        return kernel.Result;
    }

    // result[i] = op(u[i], v[i]) for i < u.Length.
    private static void Map<TOp>(ReadOnlySpan<float> u, ReadOnlySpan<float> v, Span<float> result, TOp op, int bits = 0)
        where TOp : struct, IBinaryOp
    {
        var kernel = new MapKernel<TOp>(u, v, result, op);
        SimdDispatch.Run(ref kernel, bits == 0 ? SimdWidth.Bits : bits);
    }

    /// <summary>One element-wise operation, as a vector of lanes and as a scalar with the same arithmetic.</summary>
    private interface IBinaryOp
    {
        TV Vector<TV>(TV u, TV v)
            where TV : struct, ISimd<TV>;

        float Scalar(float u, float v);
    }

    private readonly ref struct MapKernel<TOp>(ReadOnlySpan<float> u, ReadOnlySpan<float> v, Span<float> result, TOp op) : ISimdKernel
        where TOp : struct, IBinaryOp
    {
        private readonly ReadOnlySpan<float> u = u;
        private readonly ReadOnlySpan<float> v = v;
        private readonly Span<float> result = result;

        // Without SIMD (one lane) the scalar loop does all the work, as it did where Vector<T> was not accelerated.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // fully optimized from the first call: no tier-0 epoch
        public void Run<TV>()
            where TV : struct, ISimd<TV>
        {
            ref float u0 = ref MemoryMarshal.GetReference(u);
            ref float v0 = ref MemoryMarshal.GetReference(v);
            ref float r0 = ref MemoryMarshal.GetReference(result);
            int n = u.Length, width = TV.Count;
            int vectorEnd = width == 1 ? 0 : n - (n % width);
            int i = 0;
            for (; i < vectorEnd; i += width)
            {
                TV.Store(op.Vector(TV.Load(ref u0, (nuint)i), TV.Load(ref v0, (nuint)i)), ref r0, (nuint)i);
            }

            for (; i < n; i++)
            {
                Unsafe.Add(ref r0, i) = op.Scalar(Unsafe.Add(ref u0, i), Unsafe.Add(ref v0, i));
            }
        }
    }

    private readonly struct Leaky(float slope) : IBinaryOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Vector<TV>(TV z, TV unused)
            where TV : struct, ISimd<TV> => TV.Select(TV.GreaterThan(z, TV.Zero), z, TV.Multiply(z, TV.Broadcast(slope)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Scalar(float z, float unused) => z > 0f ? z : z * slope;
    }

    private readonly struct SigmoidPrime : IBinaryOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Vector<TV>(TV d, TV a)
            where TV : struct, ISimd<TV> => TV.Multiply(d, TV.Multiply(a, TV.Subtract(TV.Broadcast(1f), a)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Scalar(float d, float a) => d * (a * (1f - a));
    }

    private readonly struct TanhPrime : IBinaryOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Vector<TV>(TV d, TV a)
            where TV : struct, ISimd<TV> => TV.Multiply(d, TV.Subtract(TV.Broadcast(1f), TV.Multiply(a, a)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Scalar(float d, float a) => d * (1f - (a * a));
    }

    // The vector selects on z > 0 and the scalar multiplies where z <= 0, as the kernels always have (they differ only for a NaN z).
    private readonly struct Step(float negativeSlope) : IBinaryOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Vector<TV>(TV d, TV z)
            where TV : struct, ISimd<TV> => TV.Select(TV.GreaterThan(z, TV.Zero), d, TV.Multiply(d, TV.Broadcast(negativeSlope)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Scalar(float d, float z) => z <= 0f ? d * negativeSlope : d;
    }

    private readonly struct QuadraticSigmoid : IBinaryOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Vector<TV>(TV a, TV y)
            where TV : struct, ISimd<TV> => TV.Multiply(TV.Subtract(a, y), TV.Multiply(a, TV.Subtract(TV.Broadcast(1f), a)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Scalar(float a, float y) => (a - y) * (a * (1f - a));
    }

    // Vectors of columns, each summed down the rows in a register; the tail's columns one at a time with the same additions.
    private readonly ref struct ColumnSums(ReadOnlySpan<float> matrix, int rows, int width, int start, Span<float> sum) : ISimdKernel
    {
        private readonly ReadOnlySpan<float> matrix = matrix;
        private readonly Span<float> sum = sum;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TV>()
            where TV : struct, ISimd<TV>
        {
            ref float m0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(matrix), start);
            ref float s0 = ref MemoryMarshal.GetReference(sum);
            int n = sum.Length, step = TV.Count, j = 0;
            int vectorEnd = step == 1 ? 0 : n - (n % step);
            for (; j < vectorEnd; j += step)
            {
                TV acc = TV.Load(ref m0, (nuint)j);
                for (int i = 1; i < rows; i++)
                {
                    acc = TV.Add(acc, TV.Load(ref m0, (nuint)((i * width) + j)));
                }

                TV.Store(acc, ref s0, (nuint)j);
            }

            if (j < n && vectorEnd > 0)
            {
                // The last vector, [n - step, n), overlapping the one before: its shared columns are summed again in the
                // same order, to the same bits, and the columns past vectorEnd are not left to scalar chains.
                j = n - step;
                TV acc = TV.Load(ref m0, (nuint)j);
                for (int i = 1; i < rows; i++)
                {
                    acc = TV.Add(acc, TV.Load(ref m0, (nuint)((i * width) + j)));
                }

                TV.Store(acc, ref s0, (nuint)j);
                j = n;
            }

            for (; j < n; j++)
            {
                float acc = Unsafe.Add(ref m0, j);
                for (int i = 1; i < rows; i++)
                {
                    acc += Unsafe.Add(ref m0, (i * width) + j);
                }

                Unsafe.Add(ref s0, j) = acc;
            }
        }
    }

    // x * 0 is 0 for every finite x and NaN for NaN and both infinities; NaN then sticks in the accumulator.
    private ref struct Finite(ReadOnlySpan<float> values) : ISimdKernel
    {
        private readonly ReadOnlySpan<float> values = values;

        public bool Result;

        public void Run<TV>()
            where TV : struct, ISimd<TV>
        {
            ref float v0 = ref MemoryMarshal.GetReference(values);
            int n = values.Length, width = TV.Count;
            int vectorEnd = width == 1 ? 0 : n - (n % width);
            TV acc = TV.Zero;
            int i = 0;
            for (; i < vectorEnd; i += width)
            {
                acc = TV.Add(acc, TV.Multiply(TV.Load(ref v0, (nuint)i), TV.Zero));
            }

            float tail = 0f;
            for (; i < n; i++)
            {
                tail += Unsafe.Add(ref v0, i) * 0f;
            }

            Result = TV.NonZeroLanes(acc) == 0 && tail == 0f;
        }
    }
}
