using Backprop.Simd.Data;
using Backprop.Simd.Reference;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests.Training;

/// <summary>Every update rule and regulariser against the reference, from the same parameters and sample order.</summary>
public class OptimizerTests
{
    public static TheoryData<Optimizer, float, float, CostFunction, Activation> Cases() => new()
    {
        { Optimizer.Sgd, 0f, 0f, CostFunction.Quadratic, Activation.Sigmoid },
        { Optimizer.Sgd, 5f, 0f, CostFunction.CrossEntropy, Activation.Sigmoid },
        { Optimizer.Sgd, 0f, 2f, CostFunction.Quadratic, Activation.Tanh },
        { Optimizer.Sgd, 5f, 2f, CostFunction.LogLikelihood, Activation.ReLU },
        { Optimizer.Momentum, 0f, 0f, CostFunction.Quadratic, Activation.Sigmoid },
        { Optimizer.Momentum, 5f, 2f, CostFunction.CrossEntropy, Activation.LeakyReLU },
        { Optimizer.Adam, 0f, 0f, CostFunction.Quadratic, Activation.Sigmoid },
        { Optimizer.Adam, 5f, 2f, CostFunction.LogLikelihood, Activation.Tanh },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void One_epoch_matches_the_reference(Optimizer optimizer, float lambda, float l1, CostFunction cost, Activation hidden)
    {
        float eta = optimizer == Optimizer.Adam ? 0.01f : 0.5f;
        const float mu = 0.8f, beta1 = 0.9f, beta2 = 0.99f, epsilon = 1e-8f;
        // 70 and 28 weights: both the vector bodies and the scalar tails of the update kernels run.
        var shape = new Architecture([10, 7, 4], [hidden, cost == CostFunction.LogLikelihood ? Activation.Softmax : Activation.Sigmoid], cost, 17);
        Network network = shape.CreateNetwork();
        Dataset train = TestData.RandomDataset(30, 10, 4, seed: 3); // 4 batches of 7 and one of 2
        var options = new TrainingOptions
        {
            MiniBatchSize = 7, Eta = eta, Shuffle = false, Lambda = lambda, L1 = l1,
            Optimizer = optimizer, Momentum = mu, Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon,
        };
        ReferenceNetwork reference = shape.CreateReference(network);
        new Trainer(network, train, options).RunEpoch();

        // The reference, step by step, with the error bound carried along the same trajectory.
        var samples = TrainerTests.ToReference(train);
        var bound = new Bound(network.ParameterCount);
        for (int k = 0; k < samples.Count; k += 7)
        {
            var batch = samples.Skip(k).Take(7).ToList();
            bound.Step(optimizer, reference, batch, eta, lambda, l1, samples.Count, mu, beta1, beta2, epsilon);
            switch (optimizer)
            {
                case Optimizer.Sgd:
                    reference.UpdateMiniBatch(batch, eta, lambda, l1, samples.Count);
                    break;
                case Optimizer.Momentum:
                    reference.UpdateMiniBatchMomentum(batch, eta, mu, lambda, l1, samples.Count);
                    break;
                default:
                    reference.UpdateMiniBatchAdam(batch, eta, beta1, beta2, epsilon, lambda, l1, samples.Count);
                    break;
            }
        }

        TrainerTests.AssertParametersClose(reference.ToArena(), network.Parameters, bound.Parameters);
    }

    /// <summary>
    /// First-order error bounds for one step of each rule. <c>g</c> is the mean gradient of the regularised cost and
    /// <c>e</c> the bound on its float error (the per-sample bounds of <see cref="GradientErrorBound"/>, summed and
    /// divided by m, plus the rounding of the sum and of the regularisation terms). SGD moves a parameter by
    /// <c>eta g</c>, so its error grows by <c>eta e</c>; momentum's velocity error decays by mu and grows by eta e,
    /// and the parameter inherits it; Adam's step <c>eta m^/(sqrt(v^) + eps)</c> changes by at most
    /// <c>2 eta e / (sqrt(v^) + eps)</c> to first order (through m^ and through sqrt(v^), each at most once).
    /// Every step also rounds: a few units of roundoff of the parameter and of the step.
    /// </summary>
    private sealed class Bound(int count)
    {
        private readonly double[] _velocity = new double[count];
        private readonly double[] _first = new double[count];
        private readonly double[] _second = new double[count];
        private int _t;

        public double[] Parameters { get; } = new double[count];

        private double[] VelocityError { get; } = new double[count];

        public void Step(Optimizer optimizer, ReferenceNetwork at, List<(double[] X, double[] Y)> batch, double eta,
            double lambda, double l1, int n, double mu, double beta1, double beta2, double epsilon)
        {
            double[] p = at.ToArena();
            (double[] g, double[] e) = MeanGradient(at, batch, lambda, l1, n);
            _t++;
            for (int i = 0; i < count; i++)
            {
                double rounding = Tolerance.Gamma(4) * Math.Abs(p[i]);
                switch (optimizer)
                {
                    case Optimizer.Sgd:
                        Parameters[i] += (eta * e[i]) + rounding + (Tolerance.Gamma(4) * eta * Math.Abs(g[i]));
                        break;
                    case Optimizer.Momentum:
                        _velocity[i] = (mu * _velocity[i]) - (eta * g[i]);
                        VelocityError[i] = (mu * VelocityError[i]) + (eta * e[i]) + (Tolerance.Gamma(4) * Math.Abs(_velocity[i]));
                        Parameters[i] += VelocityError[i] + rounding;
                        break;
                    default:
                        _first[i] = (beta1 * _first[i]) + ((1 - beta1) * g[i]);
                        _second[i] = (beta2 * _second[i]) + ((1 - beta2) * g[i] * g[i]);
                        double root = Math.Sqrt(_second[i] / (1 - Math.Pow(beta2, _t)));
                        double step = eta * Math.Abs(_first[i] / (1 - Math.Pow(beta1, _t))) / (root + epsilon);
                        Parameters[i] += (2 * eta * e[i] / (root + epsilon)) + rounding + (Tolerance.Gamma(8) * step);
                        break;
                }
            }
        }

        private static (double[] G, double[] E) MeanGradient(ReferenceNetwork at, List<(double[] X, double[] Y)> batch, double lambda, double l1, int n)
        {
            double[] p = at.ToArena();
            var sum = new double[p.Length];
            var magnitude = new double[p.Length];
            var error = new double[p.Length];
            bool[] isWeight = WeightMask(at.Sizes);
            foreach ((double[] x, double[] y) in batch)
            {
                (double[][] nb, double[][][] nw) = at.Backprop(x, y);
                (double[][] bb, double[][][] bw) = GradientErrorBound.Compute(at, x, y);
                Flatten(nw, nb, (i, v) => { sum[i] += v; magnitude[i] += Math.Abs(v); });
                Flatten(bw, bb, (i, v) => error[i] += v);
            }

            int m = batch.Count;
            var g = new double[p.Length];
            var e = new double[p.Length];
            for (int i = 0; i < p.Length; i++)
            {
                double regularisation = isWeight[i] ? (lambda / n * p[i]) + (l1 / n * Math.Sign(p[i])) : 0;
                g[i] = (sum[i] / m) + regularisation;
                e[i] = ((error[i] + (Tolerance.Gamma(m) * magnitude[i])) / m) + (Tolerance.Gamma(4) * (Math.Abs(sum[i] / m) + Math.Abs(regularisation)));
            }

            return (g, e);
        }

        private static void Flatten(double[][][] w, double[][] b, Action<int, double> visit)
        {
            int i = 0;
            for (int l = 0; l < w.Length; l++)
            {
                foreach (double[] row in w[l])
                {
                    foreach (double v in row)
                    {
                        visit(i++, v);
                    }
                }

                foreach (double v in b[l])
                {
                    visit(i++, v);
                }
            }
        }

        private static bool[] WeightMask(int[] sizes)
        {
            var mask = new List<bool>();
            for (int l = 1; l < sizes.Length; l++)
            {
                mask.AddRange(Enumerable.Repeat(true, sizes[l] * sizes[l - 1]));
                mask.AddRange(Enumerable.Repeat(false, sizes[l]));
            }

            return [.. mask];
        }
    }
}
