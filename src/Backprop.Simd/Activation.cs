namespace Backprop.Simd;

/// <summary>The function <c>f</c> a layer applies to its weighted input: <c>a^l = f(z^l)</c>.</summary>
public enum Activation
{
    /// <summary><c>1 / (1 + e^-z)</c>, the seed's activation; <c>f' = a (1 - a)</c>.</summary>
    Sigmoid,

    /// <summary><c>tanh z</c>; <c>f' = 1 - a^2</c>.</summary>
    Tanh,

    /// <summary><c>max(0, z)</c>; <c>f' = 1</c> for <c>z &gt; 0</c>, else 0.</summary>
    ReLU,

    /// <summary><c>z</c> for <c>z &gt; 0</c>, else <c>0.01 z</c> (<c>ActivationFunctions.LeakySlope</c>).</summary>
    LeakyReLU,

    /// <summary><c>z</c> itself (a linear layer).</summary>
    Identity,

    /// <summary><c>e^{z_j} / sum_k e^{z_k}</c>, computed stably (the maximum is subtracted first). Output layer only,
    /// with the <see cref="CostFunction.LogLikelihood"/> cost.</summary>
    Softmax,
}

/// <summary>The cost <c>C</c> training minimises, and with it the output error <c>delta^L</c> (BP1).</summary>
public enum CostFunction
{
    /// <summary><c>C = 1/2 ||a^L - y||^2</c>, the seed's; <c>delta^L = (a^L - y) ⊙ f'(z^L)</c>. Any output activation but softmax.</summary>
    Quadratic,

    /// <summary><c>C = sum -y ln a - (1 - y) ln (1 - a)</c> (NaN-safe); with a sigmoid output <c>delta^L = a^L - y</c>.</summary>
    CrossEntropy,

    /// <summary><c>C = -sum y ln a</c> on a softmax output (<c>-ln a_label</c> for one-hot targets); <c>delta^L = a^L - y</c>.</summary>
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
