// TEMPORARY: the new kernel entry points over the old kernels, until the kernels branch lands. Deleted at the merge.
using System.Numerics.Tensors;

namespace Backprop.Simd.Kernels;

public static partial class Gemm
{
    internal static void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, int jStart, int jEnd) =>
        MultiplyTransposedAddBiasUnchecked(a, aRows, b, bias, c, m, n, k, jStart, jEnd);

    internal static void MultiplyStrided(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int rows, int sums, int cols, int rStart, int rEnd, float alpha, float beta) =>
        MultiplyRowsUnchecked(lhs, rowStride, sumStride, r, rRows, c, rows, sums, cols, rStart, rEnd, beta == 0 ? Epilogue.Store : Epilogue.Step(alpha, beta));

    internal static int Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, bool skipZeroInputs)
    {
        var skip = new ZeroSkipping { Enabled = skipZeroInputs };
        MultiplyAddBiasUnchecked(a, b, bias, c, m, n, k, ref skip);
        return skipZeroInputs ? 1 : 0;
    }
}

public static partial class Elementwise
{
    internal static void Tanh(ReadOnlySpan<float> z, Span<float> a) => TensorPrimitives.Tanh(z, a);

    internal static void ReLU(ReadOnlySpan<float> z, Span<float> a) => TensorPrimitives.Max(z, 0f, a);

    internal static void LeakyReLU(ReadOnlySpan<float> z, float slope, Span<float> a) => Activations.ApplyUnchecked(Activation.LeakyReLU, z, a);

    internal static void SoftmaxRows(ReadOnlySpan<float> z, Span<float> a, int width)
    {
        for (int i = 0; i < z.Length; i += width)
        {
            Activations.ApplyUnchecked(Activation.Softmax, z.Slice(i, width), a.Slice(i, width));
        }
    }

    internal static void MultiplyByTanhPrime(Span<float> delta, ReadOnlySpan<float> a) => Activations.MultiplyByDerivativeUnchecked(Activation.Tanh, delta, a, a);

    internal static void MultiplyByStep(Span<float> delta, ReadOnlySpan<float> z, float negativeSlope) =>
        Activations.MultiplyByDerivativeUnchecked(negativeSlope == 0 ? Activation.ReLU : Activation.LeakyReLU, delta, z, z);

    internal static void OutputErrorQuadraticSigmoid(ReadOnlySpan<float> a, ReadOnlySpan<float> y, Span<float> delta) => OutputErrorQuadraticUnchecked(a, y, delta);

    internal static void SumRows(ReadOnlySpan<float> matrix, int rows, int width, Span<float> sum)
    {
        matrix[..width].CopyTo(sum);
        for (int i = 1; i < rows; i++)
        {
            TensorPrimitives.Add(sum, matrix.Slice(i * width, width), sum);
        }
    }
}
