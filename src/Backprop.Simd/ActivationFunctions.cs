using Backprop.Simd.Kernels;

namespace Backprop.Simd;

/// <summary>Every <see cref="Activation"/> and its derivative, element-wise, on the kernels' primitives.</summary>
internal static class ActivationFunctions
{
    /// <summary>Slope of <see cref="Activation.LeakyReLU"/> for negative inputs.</summary>
    public const float LeakySlope = 0.01f;

    /// <summary><c>a = f(z)</c>, the whole span one softmax row. <paramref name="a"/> may be <paramref name="z"/> itself.</summary>
    public static void Apply(Activation f, ReadOnlySpan<float> z, Span<float> a) => ApplyRows(f, z, a, z.Length);

    /// <summary><c>a = f(z)</c> for rows of <paramref name="width"/> floats (softmax normalizes each row on its own).</summary>
    public static void ApplyRows(Activation f, ReadOnlySpan<float> z, Span<float> a, int width)
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

    /// <summary>
    /// <c>delta = delta ⊙ f'(z)</c>, from the activation <c>a = f(z)</c> where that is cheaper. Softmax has no
    /// element-wise derivative (pair it with the log-likelihood cost, whose output error is <c>a - y</c>).
    /// </summary>
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
