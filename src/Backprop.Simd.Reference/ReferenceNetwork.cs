namespace Backprop.Simd.Reference;

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
    public ReferenceNetwork(int[] sizes, double[][][] weights, double[][] biases)
    {
        Sizes = (int[])sizes.Clone();
        NumLayers = sizes.Length;
        Weights = weights.Select(w => w.Select(row => (double[])row.Clone()).ToArray()).ToArray();
        Biases = biases.Select(b => (double[])b.Clone()).ToArray();
    }

    /// <summary>Neurons per layer, input first.</summary>
    public int[] Sizes { get; }

    /// <summary>Number of layers, input included.</summary>
    public int NumLayers { get; }

    /// <summary><c>Weights[l][j][k]</c>: from neuron k of layer l to neuron j of layer l+1.</summary>
    public double[][][] Weights { get; }

    /// <summary><c>Biases[l][j]</c>: bias of neuron j of layer l+1.</summary>
    public double[][] Biases { get; }

    /// <summary>Builds a reference network from a flat parameter arena in the library's layout (per layer: weights row-major, then biases).</summary>
    public static ReferenceNetwork FromArena(int[] sizes, ReadOnlySpan<float> parameters)
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

        return new ReferenceNetwork(sizes, weights, biases);
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
            a = Sigmoid(Add(Dot(Weights[l], a), Biases[l]));
        }

        return a;
    }

    /// <summary>
    /// <c>backprop</c>: the gradient of the quadratic cost for one sample, as <c>(nablaB, nablaW)</c> shaped like
    /// <see cref="Biases"/> and <see cref="Weights"/>.
    /// </summary>
    public (double[][] NablaB, double[][][] NablaW) Backprop(double[] x, double[] y)
    {
        double[][] nablaB = Biases.Select(b => new double[b.Length]).ToArray();
        double[][][] nablaW = Weights.Select(w => w.Select(row => new double[row.Length]).ToArray()).ToArray();

        // feedforward
        double[] activation = x;
        var activations = new List<double[]> { x }; // list to store all the activations, layer by layer
        var zs = new List<double[]>();              // list to store all the z vectors, layer by layer
        for (int l = 0; l < Weights.Length; l++)
        {
            double[] z = Add(Dot(Weights[l], activation), Biases[l]);
            zs.Add(z);
            activation = Sigmoid(z);
            activations.Add(activation);
        }

        // backward pass
        double[] delta = Multiply(CostDerivative(activations[^1], y), SigmoidPrime(zs[^1]));
        nablaB[^1] = delta;
        nablaW[^1] = Outer(delta, activations[^2]);
        for (int l = 2; l < NumLayers; l++)
        {
            double[] z = zs[^l];
            double[] sp = SigmoidPrime(z);
            delta = Multiply(Dot(Transpose(Weights[^(l - 1)]), delta), sp);
            nablaB[^l] = delta;
            nablaW[^l] = Outer(delta, activations[^(l + 1)]);
        }

        return (nablaB, nablaW);
    }

    /// <summary><c>update_mini_batch</c>: one gradient-descent step on the samples of <paramref name="miniBatch"/>.</summary>
    public void UpdateMiniBatch(IReadOnlyList<(double[] X, double[] Y)> miniBatch, double eta)
    {
        double[][] nablaB = Biases.Select(b => new double[b.Length]).ToArray();
        double[][][] nablaW = Weights.Select(w => w.Select(row => new double[row.Length]).ToArray()).ToArray();
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

        for (int l = 0; l < Weights.Length; l++)
        {
            for (int j = 0; j < Weights[l].Length; j++)
            {
                for (int k = 0; k < Weights[l][j].Length; k++)
                {
                    Weights[l][j][k] -= eta / miniBatch.Count * nablaW[l][j][k];
                }

                Biases[l][j] -= eta / miniBatch.Count * nablaB[l][j];
            }
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

    /// <summary>The quadratic cost <c>1/2 ||a - y||^2</c> of one sample.</summary>
    public double Cost(double[] x, double[] y)
    {
        double[] a = FeedForward(x);
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += (a[i] - y[i]) * (a[i] - y[i]);
        }

        return 0.5 * sum;
    }

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

    private static double[][] Transpose(double[][] w) =>
        Enumerable.Range(0, w[0].Length).Select(k => w.Select(row => row[k]).ToArray()).ToArray();

    private static double[][] Outer(double[] u, double[] v) =>
        u.Select(ui => v.Select(vk => ui * vk).ToArray()).ToArray();

    private static double[] Add(double[] u, double[] v) => u.Select((ui, i) => ui + v[i]).ToArray();

    private static double[] Multiply(double[] u, double[] v) => u.Select((ui, i) => ui * v[i]).ToArray();
}
