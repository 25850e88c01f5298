using Backprop.Simd.Reference;
using Backprop.Simd.Tests.Kernels;

namespace Backprop.Simd.Tests.Training;

/// <summary>
/// A bound, first-order except for the weight gradient's product, on how far a float evaluation of backprop can be from the exact gradient, derived by
/// running the error analysis alongside the reference computation (in double). Every dot product of <c>n</c> terms
/// contributes <c>gamma_n</c> times the sum of its absolute terms (so cancellation is accounted for), every
/// element-wise operation a few units of roundoff, and errors already present are carried through the same
/// equations with absolute values and each activation's Lipschitz constant (sigmoid 1/4, tanh, ReLU, leaky ReLU
/// and identity 1, for any slope from -1 to 1; ELU 1, GELU 1.13, SiLU 1.1; softmax moves each output by at most
/// <c>2 a_j max|dz|</c>, log-softmax by at most <c>|dz_j| + max|dz|</c>, since the log-sum-exp moves by at most the
/// softmax-weighted mean of the input errors; TensorPrimitives' tanh is accurate to about 2u absolute near 0 rather
/// than relative), with the kernels' own errors of <see cref="SmoothActivationBound"/> for the new ones. Derivatives
/// are taken as the library takes them: from the activation for sigmoid (<c>a(1-a)</c>, 1-Lipschitz in a), tanh
/// (<c>1-a^2</c>, 2|a|-Lipschitz) and ELU (<c>a + 1</c> for z &lt;= 0, continuous at 0 so a flip of z's sign costs
/// no more than a's error), from the sign of z for the ReLUs, whose derivative may flip when z is within its error of
/// 0, and from z for GELU and SiLU, moved by at most their largest |f''| times z's error. On a log-softmax output the
/// log-likelihood's error <c>e^a - y</c> carries a's error times <c>e^a</c>.
/// </summary>
internal static class GradientErrorBound
{
    private const double U = Tolerance.U;

    /// <summary>Per layer, bounds for <c>nabla_b</c> and <c>nabla_W</c> (shaped like the reference's gradient).</summary>
    public static (double[][] B, double[][][] W) Compute(ReferenceNetwork net, double[] x, double[] y)
    {
        int layers = net.Weights.Length;
        var z = new double[layers + 1][];
        var errZ = new double[layers + 1][];
        var a = new double[layers + 1][];
        var errA = new double[layers + 1][];
        a[0] = x;
        errA[0] = new double[x.Length];

        for (int l = 0; l < layers; l++)
        {
            double[][] w = net.Weights[l];
            z[l + 1] = new double[w.Length];
            errZ[l + 1] = new double[w.Length];
            for (int j = 0; j < w.Length; j++)
            {
                double sum = net.Biases[l][j], magnitude = Math.Abs(net.Biases[l][j]), carried = 0;
                for (int k = 0; k < w[j].Length; k++)
                {
                    sum += w[j][k] * a[l][k];
                    magnitude += Math.Abs(w[j][k] * a[l][k]);
                    carried += Math.Abs(w[j][k]) * errA[l][k];
                }

                z[l + 1][j] = sum;
                errZ[l + 1][j] = (Tolerance.Gamma(w[j].Length + 1) * magnitude) + carried;
            }

            ReferenceActivation f = net.Activations[l];
            a[l + 1] = ReferenceNetwork.Activate(f, z[l + 1]);
            errA[l + 1] = new double[w.Length];
            double maxErrZ = errZ[l + 1].Max();
            for (int j = 0; j < w.Length; j++)
            {
                double aj = a[l + 1][j], e = errZ[l + 1][j];
                errA[l + 1][j] = f.Kind switch
                {
                    ReferenceKind.Sigmoid => (e / 4) + (4 * U * aj),
                    ReferenceKind.Tanh => e + (4 * U * Math.Abs(aj)) + (2 * U), // TensorPrimitives.Tanh: absolute accuracy near 0
                    ReferenceKind.Softmax => aj * ((2 * maxErrZ) + Tolerance.Gamma(w.Length + 8)),
                    ReferenceKind.LogSoftmax => e + maxErrZ + SmoothActivationBound.LogSoftmax(w.Length, aj),
                    ReferenceKind.ELU or ReferenceKind.GELU or ReferenceKind.SiLU =>
                        (SmoothActivationBound.Lipschitz(f.Kind) * e) + SmoothActivationBound.Value(f.Kind, z[l + 1][j]),
                    _ => e + (U * Math.Abs(aj)),
                };
            }
        }

        // BP1
        ReferenceActivation output = net.Activations[^1];
        double[] aL = a[layers];
        double[] delta = new double[aL.Length];
        double[] errD = new double[aL.Length];
        for (int j = 0; j < aL.Length; j++)
        {
            double diff = aL[j] - y[j];
            if (net.CostKind == ReferenceCost.Quadratic)
            {
                (double prime, double primeError) = Derivative(output, z[layers][j], errZ[layers][j], aL[j], errA[layers][j]);
                delta[j] = diff * prime;
                errD[j] = (errA[layers][j] * Math.Abs(prime)) + (Math.Abs(diff) * primeError) + (4 * U * Math.Abs(delta[j]));
            }
            else if (output.Kind == ReferenceKind.LogSoftmax)
            {
                double softmax = Math.Exp(aL[j]); // e^a, within 2u of e^(float a)'s exact value
                delta[j] = softmax - y[j];
                errD[j] = (softmax * (errA[layers][j] + (2 * U))) + (U * Math.Abs(delta[j]));
            }
            else
            {
                delta[j] = diff;
                errD[j] = errA[layers][j] + (U * Math.Abs(diff));
            }
        }

        var bB = new double[layers][];
        var bW = new double[layers][][];
        for (int l = layers - 1; l >= 0; l--)
        {
            double[] below = a[l];
            bB[l] = errD;
            bW[l] = new double[delta.Length][];
            for (int j = 0; j < delta.Length; j++)
            {
                bW[l][j] = new double[below.Length];
                for (int k = 0; k < below.Length; k++)
                {
                    // The product's second-order term errD errA stays: where delta and a both vanish in double (an ELU derivative
                    // a + 1 and a GELU that cancel to 0 far below zero) it is the whole error.
                    bW[l][j][k] = (errD[j] * (Math.Abs(below[k]) + errA[l][k])) + (Math.Abs(delta[j]) * errA[l][k]) + (2 * U * Math.Abs(delta[j] * below[k]));
                }
            }

            if (l == 0)
            {
                break;
            }

            // BP2
            double[][] w = net.Weights[l];
            ReferenceActivation f = net.Activations[l - 1];
            var nextDelta = new double[below.Length];
            var nextErr = new double[below.Length];
            for (int k = 0; k < below.Length; k++)
            {
                double t = 0, magnitude = 0, carried = 0;
                for (int j = 0; j < delta.Length; j++)
                {
                    t += w[j][k] * delta[j];
                    magnitude += Math.Abs(w[j][k] * delta[j]);
                    carried += Math.Abs(w[j][k]) * errD[j];
                }

                (double prime, double primeError) = Derivative(f, z[l][k], errZ[l][k], below[k], errA[l][k]);
                double errT = (Tolerance.Gamma(delta.Length) * magnitude) + carried;
                nextDelta[k] = t * prime;
                nextErr[k] = (errT * Math.Abs(prime)) + ((Math.Abs(t) + errT) * primeError) + (3 * U * Math.Abs(nextDelta[k]));
            }

            delta = nextDelta;
            errD = nextErr;
        }

        return (bB, bW);
    }

    // f'(z) as the library computes it, and a bound on its error.
    private static (double Prime, double Error) Derivative(ReferenceActivation f, double z, double errZ, double a, double errA) => f.Kind switch
    {
        ReferenceKind.Sigmoid => (a * (1 - a), errA + (2 * U * a)),
        ReferenceKind.Tanh => (1 - (a * a), (2 * Math.Abs(a) * errA) + (errA * errA) + (2 * U)),
        ReferenceKind.ReLU => (z > 0 ? 1 : 0, Math.Abs(z) <= errZ ? 1 : 0),
        ReferenceKind.LeakyReLU => (z > 0 ? 1 : f.Slope, Math.Abs(z) <= errZ ? Math.Abs(1 - f.Slope) : 0),
        ReferenceKind.ELU => (z > 0 ? 1 : a + 1, errA + U),
        ReferenceKind.GELU or ReferenceKind.SiLU =>
            (ReferenceNetwork.ActivationPrime(f, [z])[0], (SmoothActivationBound.Curvature(f.Kind) * errZ) + SmoothActivationBound.Prime(f.Kind, z)),
        _ => (1, 0),
    };
}
