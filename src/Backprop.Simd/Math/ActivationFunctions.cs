using Backprop.Simd.Kernels;

namespace Backprop.Simd;

/// <summary>Each <see cref="Activation"/> <c>f</c> and its derivative, on the element-wise kernels.</summary>
internal static class ActivationFunctions
{
    /// <summary>
    /// The shortest run handed to the kernels as it is. <see cref="System.Numerics.Tensors.TensorPrimitives"/> computes
    /// an exponential in other code below a few vectors (in scalar code below 4 floats), with other bits; a run of at
    /// least 16 floats takes the widest vector path at any width, so a shorter run (a cut of the columns, or a whole layer
    /// of few neurons and samples) is computed in a scratch of this many floats: every element gets the same bits
    /// however the rows were split, and one sample gets the bits it gets in a batch.
    /// </summary>
    internal const int MinRun = 16;

    /// <summary>Whether <paramref name="f"/> acts on each element alone (not softmax or log-softmax, which normalise rows).</summary>
    public static bool IsElementwise(Activation f) => f.Kind is not (ActivationKind.Softmax or ActivationKind.LogSoftmax);

    /// <summary>
    /// <c>a = f(z)</c> for columns [<paramref name="start"/>, <paramref name="end"/>) of <paramref name="rows"/> rows of
    /// <paramref name="width"/>: all at once when that is every column, else row by row, for an element-wise
    /// <paramref name="f"/> only (a row-wise one is left for the caller, who has whole rows), with the same bits per element.
    /// </summary>
    public static void ApplyColumns(Activation f, ReadOnlySpan<float> z, Span<float> a, int rows, int width, int start, int end)
    {
        if (start == 0 && end == width)
        {
            Apply(f, z[..(rows * width)], a[..(rows * width)], width);
            return;
        }

        if (!IsElementwise(f))
        {
            return;
        }

        int count = end - start;
        for (int i = 0, at = start; i < rows; i++, at += width)
        {
            Apply(f, z.Slice(at, count), a.Slice(at, count), count);
        }
    }

    /// <summary><c>delta = delta ⊙ f'(z)</c> for columns [<paramref name="start"/>, <paramref name="end"/>) of
    /// <paramref name="rows"/> rows of <paramref name="width"/>, row by row, with the same bits per element as
    /// <see cref="MultiplyByDerivative"/> over whole rows.</summary>
    public static void MultiplyByDerivativeColumns(Activation f, Span<float> delta, ReadOnlySpan<float> z, ReadOnlySpan<float> a, int rows, int width, int start, int end)
    {
        int count = end - start;
        for (int i = 0, at = start; i < rows; i++, at += width)
        {
            MultiplyByDerivative(f, delta.Slice(at, count), z.Slice(at, count), a.Slice(at, count));
        }
    }

    /// <summary><c>a = f(z)</c> for rows of <paramref name="width"/> values: element-wise, except that softmax and log-softmax
    /// normalise each row. An element-wise run shorter than <see cref="MinRun"/> goes through a scratch.</summary>
    public static void Apply(Activation f, ReadOnlySpan<float> z, Span<float> a, int width)
    {
        int count = z.Length;
        if (count >= MinRun || !IsElementwise(f))
        {
            ApplyKernel(f, z, a, width);
            return;
        }

        if (count == 0)
        {
            return;
        }

        Span<float> zs = stackalloc float[MinRun];
        Span<float> scratch = stackalloc float[MinRun];
        zs.Clear();
        z.CopyTo(zs);
        ApplyKernel(f, zs, scratch, MinRun);
        scratch[..count].CopyTo(a);
    }

    /// <summary>
    /// Softmax of each row of <paramref name="width"/> values, for one row or a block of them with the same bits per row
    /// either way (what the int8 network uses, so that its batch gives the single-sample bits): per row a max and a
    /// shift in plain loops, then one exponential call for the whole block (a run under <see cref="MinRun"/> over the
    /// first <see cref="MinRun"/> floats of <paramref name="a"/> when it has them, else through a scratch, so every
    /// element gets the bits of a long run), then per row a sum in order and a product with its inverse. A block of 32
    /// rows of 10 costs one library call instead of five per row. A row holding a NaN or +infinity (or only -infinity) comes out NaN, as
    /// with <see cref="Elementwise.SoftmaxRows"/>.
    /// </summary>
    /// <param name="z">Rows of <paramref name="width"/> values.</param>
    /// <param name="a">Where the rows' softmax goes, <c>z.Length</c> floats; when <paramref name="a"/> is longer, the
    /// floats after them up to <see cref="MinRun"/> may be overwritten (a padded row saves the scratch copy).</param>
    /// <param name="width">Values per row.</param>
    public static void SoftmaxBlock(ReadOnlySpan<float> z, Span<float> a, int width)
    {
        int n = z.Length;
        for (int start = 0; start < n; start += width)
        {
            ReadOnlySpan<float> row = z.Slice(start, width);
            Span<float> shifted = a.Slice(start, width);
            float max = row[0];
            foreach (float v in row)
            {
                max = Math.Max(max, v); // a NaN sticks: every output of the row becomes NaN
            }

            for (int k = 0; k < row.Length; k++)
            {
                shifted[k] = row[k] - max; // exact where it matters: the largest becomes 0
            }
        }

        if (n >= MinRun || a.Length >= MinRun)
        {
            Span<float> run = a[..Math.Max(n, MinRun)]; // past n: whatever a held, its exponential discarded
            System.Numerics.Tensors.TensorPrimitives.Exp(run, run);
        }
        else if (n > 0)
        {
            Span<float> scratch = stackalloc float[MinRun];
            scratch.Clear();
            a[..n].CopyTo(scratch);
            System.Numerics.Tensors.TensorPrimitives.Exp(scratch, scratch);
            scratch[..n].CopyTo(a);
        }

        for (int start = 0; start < n; start += width)
        {
            Span<float> row = a.Slice(start, width);
            float sum = 0;
            foreach (float v in row)
            {
                sum += v; // in order: the same bits for the row alone or in a block
            }

            float inverse = 1f / sum; // one division per row, not one per value
            for (int k = 0; k < row.Length; k++)
            {
                row[k] *= inverse;
            }
        }
    }

    private static void ApplyKernel(Activation f, ReadOnlySpan<float> z, Span<float> a, int width)
    {
        switch (f.Kind)
        {
            case ActivationKind.Sigmoid:
                Elementwise.Sigmoid(z, a);
                break;
            case ActivationKind.Tanh:
                Elementwise.Tanh(z, a);
                break;
            case ActivationKind.ReLU:
                Elementwise.ReLU(z, a);
                break;
            case ActivationKind.LeakyReLU:
                Elementwise.LeakyReLU(z, f.Slope, a);
                break;
            case ActivationKind.Identity:
                z.CopyTo(a);
                break;
            case ActivationKind.Softmax:
                Elementwise.SoftmaxRows(z, a, width);
                break;
            case ActivationKind.ELU:
                SmoothActivations.ELU(z, a);
                break;
            case ActivationKind.GELU:
                SmoothActivations.GELU(z, a);
                break;
            case ActivationKind.SiLU:
                SmoothActivations.SiLU(z, a);
                break;
            case ActivationKind.LogSoftmax:
                SmoothActivations.LogSoftmaxRows(z, a, width);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(f), f, "unknown activation");
        }
    }

    /// <summary><c>delta = delta ⊙ f'(z)</c>, from the activation <c>a = f(z)</c> where that is cheaper. Softmax and
    /// log-softmax have no element-wise derivative: their only cost, the log-likelihood, cancels it in BP1.
    /// A run shorter than <see cref="MinRun"/> goes through a scratch.</summary>
    public static void MultiplyByDerivative(Activation f, Span<float> delta, ReadOnlySpan<float> z, ReadOnlySpan<float> a)
    {
        int count = delta.Length;
        if (count >= MinRun)
        {
            MultiplyByDerivativeKernel(f, delta, z, a);
            return;
        }

        if (count == 0)
        {
            return;
        }

        Span<float> ds = stackalloc float[MinRun];
        Span<float> zs = stackalloc float[MinRun];
        Span<float> ats = stackalloc float[MinRun];
        ds.Clear();
        zs.Clear();
        ats.Clear();
        delta.CopyTo(ds);
        z[..count].CopyTo(zs);
        a[..count].CopyTo(ats);
        MultiplyByDerivativeKernel(f, ds, zs, ats);
        ds[..count].CopyTo(delta);
    }

    private static void MultiplyByDerivativeKernel(Activation f, Span<float> delta, ReadOnlySpan<float> z, ReadOnlySpan<float> a)
    {
        switch (f.Kind)
        {
            case ActivationKind.Sigmoid: // f' = a (1 - a)
                Elementwise.MultiplyBySigmoidPrime(delta, a);
                break;
            case ActivationKind.Tanh: // f' = 1 - a^2
                Elementwise.MultiplyByTanhPrime(delta, a);
                break;
            case ActivationKind.ReLU: // f' = 1 for z > 0, else 0
                Elementwise.MultiplyByStep(delta, z, 0f);
                break;
            case ActivationKind.LeakyReLU: // f' = 1 for z > 0, else the slope
                Elementwise.MultiplyByStep(delta, z, f.Slope);
                break;
            case ActivationKind.Identity: // f' = 1
                break;
            case ActivationKind.ELU: // f' = 1 for z > 0, else e^z = a + 1
                SmoothActivations.MultiplyByELUPrime(delta, z, a);
                break;
            case ActivationKind.GELU: // f' = Phi(z) + z phi(z)
                SmoothActivations.MultiplyByGELUPrime(delta, z);
                break;
            case ActivationKind.SiLU: // f' = s (1 + z (1 - s)), s = sigmoid(z)
                SmoothActivations.MultiplyBySiLUPrime(delta, z);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(f), f, "no element-wise derivative");
        }
    }
}
