namespace Backprop.Simd.Reference;

/// <summary>The activation functions the reference knows, by the same names as the library's kinds.</summary>
public enum ReferenceKind
{
    /// <summary>1 / (1 + e^-z).</summary>
    Sigmoid,

    /// <summary>tanh z.</summary>
    Tanh,

    /// <summary>max(0, z).</summary>
    ReLU,

    /// <summary>z for z &gt; 0, else slope z.</summary>
    LeakyReLU,

    /// <summary>z.</summary>
    Identity,

    /// <summary>e^z_j / sum_k e^z_k (output layer only).</summary>
    Softmax,

    /// <summary>z for z &gt; 0, else e^z - 1.</summary>
    ELU,

    /// <summary>z Phi(z) = z (1 + erf(z / sqrt 2)) / 2.</summary>
    GELU,

    /// <summary>z / (1 + e^-z).</summary>
    SiLU,

    /// <summary>z_j - ln sum_k e^z_k (output layer only).</summary>
    LogSoftmax,
}

/// <summary>An activation of the reference: its kind and, for the leaky ReLU, the slope for negative inputs.</summary>
/// <param name="Kind">Which function.</param>
/// <param name="Slope">The leaky ReLU's slope for negative inputs; ignored by every other kind.</param>
public readonly record struct ReferenceActivation(ReferenceKind Kind, double Slope = 0)
{
    /// <summary>The seed's sigmoid.</summary>
    public static ReferenceActivation Sigmoid => new(ReferenceKind.Sigmoid);

    /// <summary>The kind's function; a leaky ReLU gets PyTorch's default slope, 0.01.</summary>
    public static ReferenceActivation Of(ReferenceKind kind) => new(kind, kind == ReferenceKind.LeakyReLU ? 0.01 : 0);
}

/// <summary>The costs the reference knows, by the same names as the library's.</summary>
public enum ReferenceCost
{
    /// <summary>1/2 ||a - y||^2.</summary>
    Quadratic,

    /// <summary>sum -y ln a - (1 - y) ln(1 - a).</summary>
    CrossEntropy,

    /// <summary>-sum y ln a, or -sum y a on a log-softmax output (whose a is already ln softmax).</summary>
    LogLikelihood,
}

/// <summary>
/// Nielsen's <c>network.py</c>, line by line, in plain C# with jagged <see cref="double"/> arrays. Allocation is
/// allowed and nothing is clever: this is the oracle the fast library is tested against and the baseline its
/// benchmarks are measured against. Layer indices follow the library: <c>Weights[l-1]</c> is <c>W^l</c>, connecting
/// layer <c>l-1</c> to layer <c>l</c> (layer 0 is the input).
/// </summary>
public sealed class ReferenceNetwork
{
    /// <summary>Creates a network with the given parameters (copied).</summary>
    /// <param name="sizes">Neurons per layer, input first.</param>
    /// <param name="weights"><c>weights[l][j][k]</c> is the weight from neuron k of layer l to neuron j of layer l+1.</param>
    /// <param name="biases"><c>biases[l][j]</c> is the bias of neuron j of layer l+1.</param>
    /// <param name="activations">Activation of layers 1..L; <c>null</c> means all sigmoid (the seed's network).</param>
    /// <param name="cost">The cost; the seed's quadratic cost by default.</param>
    public ReferenceNetwork(int[] sizes, double[][][] weights, double[][] biases, ReferenceActivation[]? activations = null, ReferenceCost cost = ReferenceCost.Quadratic)
    {
        Sizes = (int[])sizes.Clone();
        NumLayers = sizes.Length;
        Weights = weights.Select(w => w.Select(row => (double[])row.Clone()).ToArray()).ToArray();
        Biases = biases.Select(b => (double[])b.Clone()).ToArray();
        Activations = activations is null ? Enumerable.Repeat(ReferenceActivation.Sigmoid, sizes.Length - 1).ToArray() : (ReferenceActivation[])activations.Clone();
        CostKind = cost;
    }

    /// <summary>Activation of layers 1..L: <c>Activations[l]</c> belongs to <c>Weights[l]</c>.</summary>
    public ReferenceActivation[] Activations { get; }

    /// <summary>The cost the network is trained on.</summary>
    public ReferenceCost CostKind { get; }

    /// <summary>Neurons per layer, input first.</summary>
    public int[] Sizes { get; }

    /// <summary>Number of layers, input included.</summary>
    public int NumLayers { get; }

    /// <summary><c>Weights[l][j][k]</c>: from neuron k of layer l to neuron j of layer l+1.</summary>
    public double[][][] Weights { get; }

    /// <summary><c>Biases[l][j]</c>: bias of neuron j of layer l+1.</summary>
    public double[][] Biases { get; }

    /// <summary>Builds a reference network from a flat parameter arena in the library's layout (per layer: weights row-major, then biases).</summary>
    public static ReferenceNetwork FromArena(int[] sizes, ReadOnlySpan<float> parameters, ReferenceActivation[]? activations = null, ReferenceCost cost = ReferenceCost.Quadratic)
    {
        var weights = new double[sizes.Length - 1][][];
        var biases = new double[sizes.Length - 1][];
        int offset = 0;
        for (int l = 1; l < sizes.Length; l++)
        {
            weights[l - 1] = new double[sizes[l]][];
            for (int j = 0; j < sizes[l]; j++)
            {
                weights[l - 1][j] = new double[sizes[l - 1]];
                for (int k = 0; k < sizes[l - 1]; k++)
                {
                    weights[l - 1][j][k] = parameters[offset++];
                }
            }

            biases[l - 1] = new double[sizes[l]];
            for (int j = 0; j < sizes[l]; j++)
            {
                biases[l - 1][j] = parameters[offset++];
            }
        }

        if (offset != parameters.Length)
        {
            throw new ArgumentException($"parameters has length {parameters.Length}, expected {offset}.", nameof(parameters));
        }

        return new ReferenceNetwork(sizes, weights, biases, activations, cost);
    }

    /// <summary>The parameters flattened in the library's arena layout.</summary>
    public double[] ToArena()
    {
        var arena = new List<double>();
        for (int l = 0; l < Weights.Length; l++)
        {
            foreach (double[] row in Weights[l])
            {
                arena.AddRange(row);
            }

            arena.AddRange(Biases[l]);
        }

        return arena.ToArray();
    }

    /// <summary><c>feedforward</c>: return the output of the network if <paramref name="a"/> is input.</summary>
    public double[] FeedForward(double[] a)
    {
        for (int l = 0; l < Weights.Length; l++)
        {
            a = Activate(Activations[l], Add(Dot(Weights[l], a), Biases[l]));
        }

        return a;
    }

    /// <summary>The weighted inputs z of every layer for input <paramref name="x"/> (to see how close a ReLU is to its kink).</summary>
    public List<double[]> WeightedInputs(double[] x)
    {
        var zs = new List<double[]>();
        double[] a = x;
        for (int l = 0; l < Weights.Length; l++)
        {
            double[] z = Add(Dot(Weights[l], a), Biases[l]);
            zs.Add(z);
            a = Activate(Activations[l], z);
        }

        return zs;
    }

    /// <summary>
    /// <c>backprop</c>: the gradient of the cost for one sample, as <c>(nablaB, nablaW)</c> shaped like
    /// <see cref="Biases"/> and <see cref="Weights"/>.
    /// </summary>
    public (double[][] NablaB, double[][][] NablaW) Backprop(double[] x, double[] y)
    {
        double[][] nablaB = ZerosLike(Biases);
        double[][][] nablaW = ZerosLike(Weights);

        // feedforward
        double[] activation = x;
        var activations = new List<double[]> { x }; // list to store all the activations, layer by layer
        var zs = new List<double[]>();              // list to store all the z vectors, layer by layer
        for (int l = 0; l < Weights.Length; l++)
        {
            double[] z = Add(Dot(Weights[l], activation), Biases[l]);
            zs.Add(z);
            activation = Activate(Activations[l], z);
            activations.Add(activation);
        }

        // backward pass: network2's cost.delta(z, a, y)
        double[] delta = CostKind == ReferenceCost.Quadratic
            ? Multiply(CostDerivative(activations[^1], y), ActivationPrime(Activations[^1], zs[^1]))
            : Activations[^1].Kind == ReferenceKind.LogSoftmax
            ? CostDerivative(activations[^1].Select(Math.Exp).ToArray(), y) // log-likelihood on log-softmax: softmax(z) - y = e^a - y
            : CostDerivative(activations[^1], y);                           // cross-entropy on sigmoid, log-likelihood on softmax: a - y
        nablaB[^1] = delta;
        nablaW[^1] = Outer(delta, activations[^2]);
        for (int l = 2; l < NumLayers; l++)
        {
            double[] z = zs[^l];
            double[] sp = ActivationPrime(Activations[^l], z);
            delta = Multiply(Dot(Transpose(Weights[^(l - 1)]), delta), sp);
            nablaB[^l] = delta;
            nablaW[^l] = Outer(delta, activations[^(l + 1)]);
        }

        return (nablaB, nablaW);
    }

    /// <summary>The sum of the per-sample gradients over <paramref name="miniBatch"/>.</summary>
    public (double[][] NablaB, double[][][] NablaW) MiniBatchGradient(IReadOnlyList<(double[] X, double[] Y)> miniBatch)
    {
        double[][] nablaB = ZerosLike(Biases);
        double[][][] nablaW = ZerosLike(Weights);
        foreach ((double[] x, double[] y) in miniBatch)
        {
            (double[][] deltaNablaB, double[][][] deltaNablaW) = Backprop(x, y);
            for (int l = 0; l < nablaB.Length; l++)
            {
                nablaB[l] = Add(nablaB[l], deltaNablaB[l]);
                for (int j = 0; j < nablaW[l].Length; j++)
                {
                    nablaW[l][j] = Add(nablaW[l][j], deltaNablaW[l][j]);
                }
            }
        }

        return (nablaB, nablaW);
    }

    /// <summary>
    /// <c>update_mini_batch</c>: one gradient-descent step on the samples of <paramref name="miniBatch"/>, with
    /// network2's L2 regularisation <c>w = (1 - eta lambda/n) w - (eta/m) nabla_w</c> and the L1 analogue
    /// <c>w = w - (eta l1/n) sgn(w) - (eta/m) nabla_w</c>; biases are not regularised.
    /// </summary>
    public void UpdateMiniBatch(IReadOnlyList<(double[] X, double[] Y)> miniBatch, double eta, double lambda = 0, double l1 = 0, int n = 1)
    {
        (double[][] nablaB, double[][][] nablaW) = MiniBatchGradient(miniBatch);
        for (int l = 0; l < Weights.Length; l++)
        {
            for (int j = 0; j < Weights[l].Length; j++)
            {
                for (int k = 0; k < Weights[l][j].Length; k++)
                {
                    double w = Weights[l][j][k];
                    Weights[l][j][k] = ((1 - (eta * lambda / n)) * w) - (eta * l1 / n * Math.Sign(w)) - (eta / miniBatch.Count * nablaW[l][j][k]);
                }

                Biases[l][j] -= eta / miniBatch.Count * nablaB[l][j];
            }
        }
    }

    private double[][][]? _velocityW;
    private double[][]? _velocityB;

    /// <summary>
    /// Momentum-based gradient descent (Nielsen, chapter 3): <c>v = mu v - eta g</c>, <c>w = w + v</c>, with
    /// <c>g = nabla/m + (lambda/n) w + (l1/n) sgn(w)</c> for weights and <c>nabla/m</c> for biases. The velocities start at 0.
    /// </summary>
    public void UpdateMiniBatchMomentum(IReadOnlyList<(double[] X, double[] Y)> miniBatch, double eta, double mu, double lambda = 0, double l1 = 0, int n = 1)
    {
        _velocityW ??= ZerosLike(Weights);
        _velocityB ??= ZerosLike(Biases);
        (double[][] nablaB, double[][][] nablaW) = MiniBatchGradient(miniBatch);
        int m = miniBatch.Count;
        for (int l = 0; l < Weights.Length; l++)
        {
            for (int j = 0; j < Weights[l].Length; j++)
            {
                for (int k = 0; k < Weights[l][j].Length; k++)
                {
                    double w = Weights[l][j][k];
                    double g = (nablaW[l][j][k] / m) + (lambda / n * w) + (l1 / n * Math.Sign(w));
                    _velocityW[l][j][k] = (mu * _velocityW[l][j][k]) - (eta * g);
                    Weights[l][j][k] = w + _velocityW[l][j][k];
                }

                _velocityB[l][j] = (mu * _velocityB[l][j]) - (eta * nablaB[l][j] / m);
                Biases[l][j] += _velocityB[l][j];
            }
        }
    }

    private double[][][]? _firstW, _secondW;
    private double[][]? _firstB, _secondB;
    private int _adamStep;

    /// <summary>
    /// Adam: <c>m = b1 m + (1 - b1) g</c>, <c>v = b2 v + (1 - b2) g^2</c>,
    /// <c>w = w - eta (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)</c>, with <c>g</c> as in
    /// <see cref="UpdateMiniBatchMomentum"/>. The moments start at 0 and <c>t</c> counts the steps from 1.
    /// </summary>
    public void UpdateMiniBatchAdam(IReadOnlyList<(double[] X, double[] Y)> miniBatch, double eta, double beta1, double beta2, double epsilon,
        double lambda = 0, double l1 = 0, int n = 1)
    {
        _firstW ??= ZerosLike(Weights);
        _secondW ??= ZerosLike(Weights);
        _firstB ??= ZerosLike(Biases);
        _secondB ??= ZerosLike(Biases);
        _adamStep++;
        (double[][] nablaB, double[][][] nablaW) = MiniBatchGradient(miniBatch);
        int m = miniBatch.Count;
        for (int l = 0; l < Weights.Length; l++)
        {
            for (int j = 0; j < Weights[l].Length; j++)
            {
                for (int k = 0; k < Weights[l][j].Length; k++)
                {
                    double w = Weights[l][j][k];
                    double g = (nablaW[l][j][k] / m) + (lambda / n * w) + (l1 / n * Math.Sign(w));
                    Weights[l][j][k] = AdamStep(w, g, ref _firstW[l][j][k], ref _secondW[l][j][k]);
                }

                Biases[l][j] = AdamStep(Biases[l][j], nablaB[l][j] / m, ref _firstB[l][j], ref _secondB[l][j]);
            }
        }

        double AdamStep(double p, double g, ref double first, ref double second)
        {
            first = (beta1 * first) + ((1 - beta1) * g);
            second = (beta2 * second) + ((1 - beta2) * g * g);
            double firstHat = first / (1 - Math.Pow(beta1, _adamStep));
            double secondHat = second / (1 - Math.Pow(beta2, _adamStep));
            return p - (eta * firstHat / (Math.Sqrt(secondHat) + epsilon));
        }
    }

    /// <summary>
    /// <c>SGD</c>: mini-batch stochastic gradient descent. Instead of <c>random.shuffle</c>, the order of each epoch
    /// is given by <paramref name="orderOfEpoch"/>, so a test can make both implementations visit the same samples.
    /// </summary>
    /// <returns>Per epoch, the number of test samples classified correctly (empty without test data).</returns>
    public List<int> Sgd(IReadOnlyList<(double[] X, double[] Y)> trainingData, int epochs, int miniBatchSize, double eta,
        Func<int, IReadOnlyList<int>> orderOfEpoch, IReadOnlyList<(double[] X, int Label)>? testData = null)
    {
        var results = new List<int>();
        for (int j = 0; j < epochs; j++)
        {
            IReadOnlyList<int> order = orderOfEpoch(j);
            for (int k = 0; k < trainingData.Count; k += miniBatchSize)
            {
                var miniBatch = order.Skip(k).Take(miniBatchSize).Select(i => trainingData[i]).ToList();
                UpdateMiniBatch(miniBatch, eta);
            }

            if (testData is not null)
            {
                results.Add(Evaluate(testData));
            }
        }

        return results;
    }

    /// <summary><c>evaluate</c>: the number of test inputs for which the output's argmax is the label.</summary>
    public int Evaluate(IReadOnlyList<(double[] X, int Label)> testData) =>
        testData.Count(sample => ArgMax(FeedForward(sample.X)) == sample.Label);

    /// <summary>The cost of one sample: network2's <c>fn(a, y)</c>, NaN-safe like <c>np.nan_to_num</c>.</summary>
    public double Cost(double[] x, double[] y)
    {
        double[] a = FeedForward(x);
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += CostKind switch
            {
                ReferenceCost.Quadratic => 0.5 * (a[i] - y[i]) * (a[i] - y[i]),
                ReferenceCost.CrossEntropy => NanToNum((-y[i] * Math.Log(a[i])) - ((1 - y[i]) * Math.Log(1 - a[i]))),
                _ when Activations[^1].Kind == ReferenceKind.LogSoftmax => NanToNum(-y[i] * a[i]),
                _ => NanToNum(-y[i] * Math.Log(a[i])),
            };
        }

        return sum;
    }

    /// <summary>network2's <c>total_cost</c>: the mean cost over <paramref name="data"/> plus <c>lambda/(2n) sum w^2</c> and <c>l1/n sum |w|</c>.</summary>
    public double TotalCost(IReadOnlyList<(double[] X, double[] Y)> data, double lambda = 0, double l1 = 0)
    {
        double cost = data.Sum(sample => Cost(sample.X, sample.Y)) / data.Count;
        double squares = Weights.Sum(w => w.Sum(row => row.Sum(v => v * v)));
        double magnitudes = Weights.Sum(w => w.Sum(row => row.Sum(Math.Abs)));
        return cost + (0.5 * lambda / data.Count * squares) + (l1 / data.Count * magnitudes);
    }

    /// <summary>Applies activation <paramref name="f"/> to <paramref name="z"/>.</summary>
    public static double[] Activate(ReferenceActivation f, double[] z) => f.Kind switch
    {
        ReferenceKind.Sigmoid => Sigmoid(z),
        ReferenceKind.Tanh => z.Select(Math.Tanh).ToArray(),
        ReferenceKind.ReLU => z.Select(v => Math.Max(0, v)).ToArray(),
        ReferenceKind.LeakyReLU => z.Select(v => v > 0 ? v : f.Slope * v).ToArray(),
        ReferenceKind.Identity => (double[])z.Clone(),
        ReferenceKind.ELU => z.Select(v => v > 0 ? v : ExpMinusOne(v)).ToArray(),
        ReferenceKind.GELU => z.Select(v => v * Phi(v)).ToArray(),
        ReferenceKind.SiLU => z.Select(v => v / (1 + Math.Exp(-v))).ToArray(),
        ReferenceKind.LogSoftmax => LogSoftmax(z),
        _ => Softmax(z),
    };

    /// <summary>The derivative of activation <paramref name="f"/> at <paramref name="z"/> (not for softmax and log-softmax).</summary>
    public static double[] ActivationPrime(ReferenceActivation f, double[] z) => f.Kind switch
    {
        ReferenceKind.Sigmoid => SigmoidPrime(z),
        ReferenceKind.Tanh => z.Select(v => 1 - (Math.Tanh(v) * Math.Tanh(v))).ToArray(),
        ReferenceKind.ReLU => z.Select(v => v > 0 ? 1.0 : 0.0).ToArray(),
        ReferenceKind.LeakyReLU => z.Select(v => v > 0 ? 1.0 : f.Slope).ToArray(),
        ReferenceKind.Identity => z.Select(_ => 1.0).ToArray(),
        ReferenceKind.ELU => z.Select(v => v > 0 ? 1.0 : Math.Exp(v)).ToArray(),
        ReferenceKind.GELU => z.Select(v => Phi(v) + (v * Math.Exp(-v * v / 2) / Math.Sqrt(2 * Math.PI))).ToArray(),
        ReferenceKind.SiLU => Sigmoid(z).Select((s, i) => s * (1 + (z[i] * (1 - s)))).ToArray(),
        _ => throw new ArgumentException($"{f.Kind} has no element-wise derivative", nameof(f)),
    };

    /// <summary>Softmax, computed after subtracting the largest input.</summary>
    public static double[] Softmax(double[] z)
    {
        double max = z.Max();
        double[] e = z.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    /// <summary>Log-softmax, <c>(z - max) - ln sum e^(z - max)</c>.</summary>
    public static double[] LogSoftmax(double[] z)
    {
        double max = z.Max();
        double logSum = Math.Log(z.Sum(v => Math.Exp(v - max)));
        return z.Select(v => v - max - logSum).ToArray();
    }

    /// <summary>
    /// The error function, <c>erf x = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (1 3 5 ... (2n+1))</c> (Abramowitz and
    /// Stegun 7.1.6): every term positive, so nothing cancels and the sum is good to a few units of double roundoff;
    /// beyond |x| = 6, erf x rounds to +-1 in double.
    /// </summary>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax >= 6)
        {
            return Math.Sign(x);
        }

        double term = ax, sum = ax;
        for (int n = 1; term > 1e-17 * sum; n++)
        {
            term *= 2 * ax * ax / ((2 * n) + 1);
            sum += term;
        }

        return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * Math.Exp(-ax * ax) * sum;
    }

    /// <summary>The standard normal distribution function, <c>Phi(z) = (1 + erf(z / sqrt 2)) / 2</c>.</summary>
    public static double Phi(double z) => (1 + Erf(z / Math.Sqrt(2))) / 2;

    /// <summary><c>e^z - 1</c> without the cancellation near 0: a short Taylor series for <c>|z| &lt; 10^-3</c>, whose
    /// first term left out is below 10^-14 of the result; <c>e^z - 1</c> elsewhere, good to 3 10^-13 relative.</summary>
    public static double ExpMinusOne(double z) =>
        Math.Abs(z) < 1e-3 ? z * (1 + (z / 2 * (1 + (z / 3 * (1 + (z / 4)))))) : Math.Exp(z) - 1;

    private static double NanToNum(double v) => double.IsNaN(v) ? 0 : double.IsPositiveInfinity(v) ? double.MaxValue : v;

    /// <summary><c>cost_derivative</c>: the vector of partial derivatives dC/da for the output activations.</summary>
    public static double[] CostDerivative(double[] outputActivations, double[] y) =>
        outputActivations.Select((a, i) => a - y[i]).ToArray();

    /// <summary>The sigmoid function.</summary>
    public static double[] Sigmoid(double[] z) => z.Select(v => 1.0 / (1.0 + Math.Exp(-v))).ToArray();

    /// <summary>Derivative of the sigmoid function.</summary>
    public static double[] SigmoidPrime(double[] z) => Sigmoid(z).Select(s => s * (1 - s)).ToArray();

    /// <summary>Index of the largest element (the first one on ties).</summary>
    public static int ArgMax(double[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static double[] Dot(double[][] w, double[] a) =>
        w.Select(row => row.Select((value, k) => value * a[k]).Sum()).ToArray();

    // np.zeros(b.shape) for every layer
    private static double[][] ZerosLike(double[][] like) => like.Select(b => new double[b.Length]).ToArray();

    private static double[][][] ZerosLike(double[][][] like) => like.Select(ZerosLike).ToArray();

    private static double[][] Transpose(double[][] w) =>
        Enumerable.Range(0, w[0].Length).Select(k => w.Select(row => row[k]).ToArray()).ToArray();

    private static double[][] Outer(double[] u, double[] v) =>
        u.Select(ui => v.Select(vk => ui * vk).ToArray()).ToArray();

    private static double[] Add(double[] u, double[] v) => u.Select((ui, i) => ui + v[i]).ToArray();

    private static double[] Multiply(double[] u, double[] v) => u.Select((ui, i) => ui * v[i]).ToArray();
}
