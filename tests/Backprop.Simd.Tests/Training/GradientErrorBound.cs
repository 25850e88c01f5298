using Backprop.Simd.Reference;

namespace Backprop.Simd.Tests.Training;

/// <summary>
/// A first-order bound on how far a float evaluation of backprop can be from the exact gradient, derived by
/// running the error analysis alongside the reference computation (in double). Every dot product of <c>n</c> terms
/// contributes <c>gamma_n</c> times the sum of its absolute terms (so cancellation is accounted for), every
/// element-wise operation a few units of roundoff, and errors already present are carried through the same
/// equations with absolute values. Sigmoid is 1/4-Lipschitz, and <c>sigma'(z) = a (1 - a)</c> is 1-Lipschitz in a.
/// </summary>
internal static class GradientErrorBound
{
    private const double U = Tolerance.U;

    /// <summary>Per layer, bounds for <c>nabla_b</c> and <c>nabla_W</c> (shaped like the reference's gradient).</summary>
    public static (double[][] B, double[][][] W) Compute(ReferenceNetwork net, double[] x, double[] y)
    {
        int layers = net.Weights.Length;
        var a = new double[layers + 1][];
        var errA = new double[layers + 1][];
        a[0] = x;
        errA[0] = new double[x.Length];

        // Forward: E_z = gamma_{n+1} (|W| |a| + |b|) + |W| E_a;  E_a' = E_z / 4 + 4u a'
        for (int l = 0; l < layers; l++)
        {
            double[][] w = net.Weights[l];
            a[l + 1] = new double[w.Length];
            errA[l + 1] = new double[w.Length];
            for (int j = 0; j < w.Length; j++)
            {
                double z = net.Biases[l][j], magnitude = Math.Abs(net.Biases[l][j]), carried = 0;
                for (int k = 0; k < w[j].Length; k++)
                {
                    z += w[j][k] * a[l][k];
                    magnitude += Math.Abs(w[j][k] * a[l][k]);
                    carried += Math.Abs(w[j][k]) * errA[l][k];
                }

                a[l + 1][j] = 1 / (1 + Math.Exp(-z));
                double errZ = (Tolerance.Gamma(w[j].Length + 1) * magnitude) + carried;
                errA[l + 1][j] = (errZ / 4) + (4 * U * a[l + 1][j]);
            }
        }

        // Backward: BP1 then BP2, carrying delta and its error bound.
        var bB = new double[layers][];
        var bW = new double[layers][][];
        double[] aL = a[layers];
        double[] delta = new double[aL.Length];
        double[] errD = new double[aL.Length];
        for (int j = 0; j < aL.Length; j++)
        {
            double s = aL[j] * (1 - aL[j]);
            delta[j] = (aL[j] - y[j]) * s;
            errD[j] = (errA[layers][j] * (s + Math.Abs(aL[j] - y[j]))) + (4 * U * Math.Abs(delta[j]));
        }

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
                    bW[l][j][k] = (errD[j] * below[k]) + (Math.Abs(delta[j]) * errA[l][k]) + (2 * U * Math.Abs(delta[j] * below[k]));
                }
            }

            if (l == 0)
            {
                break;
            }

            double[][] w = net.Weights[l];
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

                double s = below[k] * (1 - below[k]);
                double errT = (Tolerance.Gamma(delta.Length) * magnitude) + carried;
                nextDelta[k] = t * s;
                nextErr[k] = (errT * s) + (Math.Abs(t) * errA[l][k]) + (3 * U * Math.Abs(nextDelta[k]));
            }

            delta = nextDelta;
            errD = nextErr;
        }

        return (bB, bW);
    }
}
