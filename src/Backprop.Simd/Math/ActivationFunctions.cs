using Backprop.Simd.Kernels;

namespace Backprop.Simd;

/// <summary>Each <see cref="Activation"/> <c>f</c> and its derivative, on the element-wise kernels.</summary>
internal static class ActivationFunctions
{
    /// <summary>Slope of <see cref="Activation.LeakyReLU"/> for negative inputs.</summary>
    public const float LeakySlope = 0.01f;

    /// <summary><c>a = f(z)</c> for rows of <paramref name="width"/> values: element-wise, except that softmax normalises each row.</summary>
    public static void Apply(Activation f, ReadOnlySpan<float> z, Span<float> a, int width)
    {
        switch (f)
        {
            case Activation.Sigmoid:
                Elementwise.Sigmoid(z, a);
                break;
            case Activation.Tanh:
                Elementwise.Tanh(z, a);
                break;
            case Activation.ReLU:
                Elementwise.ReLU(z, a);
                break;
            case Activation.LeakyReLU:
                Elementwise.LeakyReLU(z, LeakySlope, a);
                break;
            case Activation.Identity:
                z.CopyTo(a);
                break;
            case Activation.Softmax:
                Elementwise.SoftmaxRows(z, a, width);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(f), f, "unknown activation");
        }
    }

    /// <summary><c>delta = delta ⊙ f'(z)</c>, from the activation <c>a = f(z)</c> where that is cheaper. Softmax has no
    /// element-wise derivative: its only cost, the log-likelihood, cancels it in BP1.</summary>
    public static void MultiplyByDerivative(Activation f, Span<float> delta, ReadOnlySpan<float> z, ReadOnlySpan<float> a)
    {
        switch (f)
        {
            case Activation.Sigmoid: // f' = a (1 - a)
                Elementwise.MultiplyBySigmoidPrime(delta, a);
                break;
            case Activation.Tanh: // f' = 1 - a^2
                Elementwise.MultiplyByTanhPrime(delta, a);
                break;
            case Activation.ReLU: // f' = 1 for z > 0, else 0
                Elementwise.MultiplyByStep(delta, z, 0f);
                break;
            case Activation.LeakyReLU: // f' = 1 for z > 0, else the slope
                Elementwise.MultiplyByStep(delta, z, LeakySlope);
                break;
            case Activation.Identity: // f' = 1
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(f), f, "no element-wise derivative");
        }
    }
}
