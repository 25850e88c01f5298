using Backprop.Simd.Kernels;

namespace Backprop.Simd;

/// <summary>Each <see cref="Activation"/> <c>f</c> and its derivative, on the element-wise kernels.</summary>
internal static class ActivationFunctions
{
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
