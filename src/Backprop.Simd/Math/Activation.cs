using System.Globalization;

namespace Backprop.Simd;

/// <summary>Which function an <see cref="Activation"/> is.</summary>
public enum ActivationKind
{
    /// <summary><c>1 / (1 + e^-z)</c>, the seed's activation; <c>f' = a (1 - a)</c>.</summary>
    Sigmoid,

    /// <summary><c>tanh z</c>; <c>f' = 1 - a^2</c>.</summary>
    Tanh,

    /// <summary><c>max(0, z)</c>; <c>f' = 1</c> for <c>z &gt; 0</c>, else 0.</summary>
    ReLU,

    /// <summary><c>z</c> for <c>z &gt; 0</c>, else <c>slope z</c> (<see cref="Activation.Slope"/>).</summary>
    LeakyReLU,

    /// <summary><c>z</c> itself (a linear layer).</summary>
    Identity,

    /// <summary><c>e^{z_j} / sum_k e^{z_k}</c>, computed stably (the maximum is subtracted first). Output layer only,
    /// with the <see cref="CostFunction.LogLikelihood"/> cost.</summary>
    Softmax,

    /// <summary><c>z</c> for <c>z &gt; 0</c>, else <c>e^z - 1</c> (alpha 1, PyTorch's <c>nn.ELU()</c>).</summary>
    ELU,

    /// <summary><c>z Phi(z) = z (1 + erf(z / sqrt 2)) / 2</c>, the exact form (PyTorch's <c>nn.GELU()</c> default).</summary>
    GELU,

    /// <summary><c>z sigmoid(z)</c>, also called swish (PyTorch's <c>nn.SiLU()</c>).</summary>
    SiLU,

    /// <summary><c>z_j - ln sum_k e^{z_k}</c>, the logarithm of the softmax, computed stably. Output layer only, with the
    /// <see cref="CostFunction.LogLikelihood"/> cost, which is then <c>-sum y a</c> (PyTorch's <c>log_softmax</c> and <c>nll_loss</c>).</summary>
    LogSoftmax,
}

/// <summary>
/// The function <c>f</c> a layer applies to its weighted input, <c>a^l = f(z^l)</c>: a <see cref="ActivationKind"/>
/// and, for the leaky ReLU, its slope. Compare with <c>==</c>; <c>default</c> is <see cref="Sigmoid"/>.
/// </summary>
public readonly struct Activation : IEquatable<Activation>
{
    /// <summary>The slope of <see cref="LeakyReLU"/> for negative inputs, PyTorch's default.</summary>
    public const float DefaultLeakySlope = 0.01f;

    private Activation(ActivationKind kind, float slope)
    {
        Kind = kind;
        Slope = slope;
    }

    /// <summary>The seed's sigmoid, <c>1 / (1 + e^-z)</c>.</summary>
    public static Activation Sigmoid => new(ActivationKind.Sigmoid, 0f);

    /// <summary><c>tanh z</c>.</summary>
    public static Activation Tanh => new(ActivationKind.Tanh, 0f);

    /// <summary><c>max(0, z)</c>.</summary>
    public static Activation ReLU => new(ActivationKind.ReLU, 0f);

    /// <summary>The leaky ReLU of slope <see cref="DefaultLeakySlope"/> (0.01); other slopes: <see cref="LeakyReLUWithSlope"/>.</summary>
    public static Activation LeakyReLU => new(ActivationKind.LeakyReLU, DefaultLeakySlope);

    /// <summary><c>z</c> itself.</summary>
    public static Activation Identity => new(ActivationKind.Identity, 0f);

    /// <summary>Softmax, for the output layer with the log-likelihood cost.</summary>
    public static Activation Softmax => new(ActivationKind.Softmax, 0f);

    /// <summary>ELU with alpha 1.</summary>
    public static Activation ELU => new(ActivationKind.ELU, 0f);

    /// <summary>GELU, the exact erf form.</summary>
    public static Activation GELU => new(ActivationKind.GELU, 0f);

    /// <summary>SiLU (swish), <c>z sigmoid(z)</c>.</summary>
    public static Activation SiLU => new(ActivationKind.SiLU, 0f);

    /// <summary>Log-softmax, for the output layer with the log-likelihood cost.</summary>
    public static Activation LogSoftmax => new(ActivationKind.LogSoftmax, 0f);

    /// <summary>Which function this is.</summary>
    public ActivationKind Kind { get; }

    /// <summary>The slope of a <see cref="ActivationKind.LeakyReLU"/> for negative inputs; 0 for every other kind.</summary>
    public float Slope { get; }

    /// <summary>Whether only the output layer may have this activation: softmax and log-softmax, which normalise a whole row.</summary>
    public bool IsOutputOnly => Kind is ActivationKind.Softmax or ActivationKind.LogSoftmax;

    /// <summary>A leaky ReLU, <c>z</c> for <c>z &gt; 0</c> and <c>slope z</c> otherwise (PyTorch's <c>nn.LeakyReLU(slope)</c>).</summary>
    /// <param name="slope">The slope for negative inputs: finite, from -1 to 1 (PyTorch's common choices are 0.01 and 0.2).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="slope"/> is not finite or not in [-1, 1].</exception>
    public static Activation LeakyReLUWithSlope(float slope)
    {
        if (!(slope >= -1f && slope <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(slope), slope, $"slope is {slope.ToString("R", CultureInfo.InvariantCulture)}, expected a number from -1 to 1.");
        }

        return new Activation(ActivationKind.LeakyReLU, slope == 0f ? 0f : slope); // -0 and 0 are one slope
    }

    /// <summary>The activation of <paramref name="kind"/>; a leaky ReLU gets the default slope.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined kind.</exception>
    public static Activation Of(ActivationKind kind) =>
        !Enum.IsDefined(kind) ? throw new ArgumentOutOfRangeException(nameof(kind), kind, $"{kind} is not a known activation kind.")
        : kind == ActivationKind.LeakyReLU ? LeakyReLU
        : new Activation(kind, 0f);

    /// <summary>Whether <paramref name="left"/> and <paramref name="right"/> are the same function.</summary>
    public static bool operator ==(Activation left, Activation right) => left.Equals(right);

    /// <summary>Whether <paramref name="left"/> and <paramref name="right"/> are different functions.</summary>
    public static bool operator !=(Activation left, Activation right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(Activation other) => Kind == other.Kind && Slope.Equals(other.Slope);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Activation other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Slope);

    /// <summary>The kind, with the slope of a leaky ReLU whose slope is not the default: <c>ReLU</c>, <c>LeakyReLU(0.2)</c>.</summary>
    public override string ToString() =>
        Kind == ActivationKind.LeakyReLU && Slope != DefaultLeakySlope ? $"LeakyReLU({Slope.ToString("R", CultureInfo.InvariantCulture)})" : Kind.ToString();

    /// <summary>Whether the kind is defined and the slope fits it (what <see cref="Network"/> checks of every layer).</summary>
    internal bool IsValid => Enum.IsDefined(Kind) && (Kind == ActivationKind.LeakyReLU ? Slope is >= -1f and <= 1f : Slope == 0f);
}

/// <summary>The cost <c>C</c> training minimises, and with it the output error <c>delta^L</c> (BP1).</summary>
public enum CostFunction
{
    /// <summary><c>C = 1/2 ||a^L - y||^2</c>, the seed's; <c>delta^L = (a^L - y) ⊙ f'(z^L)</c>. Any output activation but softmax.</summary>
    Quadratic,

    /// <summary><c>C = sum -y ln a - (1 - y) ln (1 - a)</c> (NaN-safe); with a sigmoid output <c>delta^L = a^L - y</c>.</summary>
    CrossEntropy,

    /// <summary><c>C = -sum y ln a</c> on a softmax output (<c>-ln a_label</c> for one-hot targets), <c>-sum y a</c> on a
    /// log-softmax output; either way <c>delta^L = softmax(z^L) - y</c>.</summary>
    LogLikelihood,
}

/// <summary>How a new network's parameters are drawn (all reproducibly from the seed).</summary>
public enum WeightInit
{
    /// <summary>Weights and biases from N(0, 1): the seed's <c>network.py</c> (network2's <c>large_weight_initializer</c>).</summary>
    StandardNormal,

    /// <summary>Weights from N(0, 1/n_in), biases from N(0, 1): network2's <c>default_weight_initializer</c>.</summary>
    ScaledNormal,

    /// <summary>Glorot/Xavier: weights from N(0, 2/(n_in + n_out)), biases 0.</summary>
    Glorot,

    /// <summary>He: weights from N(0, 2/n_in), biases 0; meant for ReLU layers.</summary>
    He,
}
