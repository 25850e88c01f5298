using Backprop.Simd.Kernels;

namespace Backprop.Simd;

/// <summary>Each <see cref="Activation"/> <c>f</c> and its derivative, on the element-wise kernels.</summary>
internal static class ActivationFunctions
{
    /// <summary>
    /// The shortest run handed to the kernels as it is. <see cref="System.Numerics.Tensors.TensorPrimitives"/> computes
    /// an exponential in other code below a few vectors (in scalar code below 4 floats), with other bits; a run of at
    /// least 16 floats takes the widest vector path at any width, the path a whole matrix takes, so a shorter run is
    /// computed in a scratch of this many floats, and every element gets the same bits however the rows were split.
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
        Span<float> zs = stackalloc float[MinRun];
        Span<float> scratch = stackalloc float[MinRun];
        for (int i = 0, at = start; i < rows; i++, at += width)
        {
            if (count >= MinRun)
            {
                Apply(f, z.Slice(at, count), a.Slice(at, count), count);
                continue;
            }

            zs.Clear();
            z.Slice(at, count).CopyTo(zs);
            Apply(f, zs, scratch, MinRun);
            scratch[..count].CopyTo(a.Slice(at, count));
        }
    }

    /// <summary><see cref="MultiplyByDerivative"/> on one run of whole rows, through a scratch when it is shorter than <see cref="MinRun"/>.</summary>
    public static void MultiplyByDerivativeRun(Activation f, Span<float> delta, ReadOnlySpan<float> z, ReadOnlySpan<float> a)
    {
        int count = delta.Length;
        if (count >= MinRun)
        {
            MultiplyByDerivative(f, delta, z, a);
            return;
        }

        Span<float> ds = stackalloc float[MinRun];
        Span<float> zs = stackalloc float[MinRun];
        Span<float> ats = stackalloc float[MinRun];
        ds.Clear();
        zs.Clear();
        ats.Clear();
        delta.CopyTo(ds);
        z.CopyTo(zs);
        a.CopyTo(ats);
        MultiplyByDerivative(f, ds, zs, ats);
        ds[..count].CopyTo(delta);
    }

    /// <summary><c>a = f(z)</c> for rows of <paramref name="width"/> values: element-wise, except that softmax and log-softmax normalise each row.</summary>
    public static void Apply(Activation f, ReadOnlySpan<float> z, Span<float> a, int width)
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
    /// log-softmax have no element-wise derivative: their only cost, the log-likelihood, cancels it in BP1.</summary>
    public static void MultiplyByDerivative(Activation f, Span<float> delta, ReadOnlySpan<float> z, ReadOnlySpan<float> a)
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
