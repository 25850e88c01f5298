namespace Backprop.Simd.Tests.Onnx;

/// <summary>
/// The exact (double) value of a graph's nodes, step by step as the graph computes them, for one sample, with a
/// bound on how far ANY float evaluation of those same steps (ONNX Runtime's, of the graph as written) may be from
/// it. The rules are those of <see cref="ForwardErrorBound"/>: an elementwise operation by a float constant rounds
/// once (<c>u |result|</c>) and carries the error before it scaled by the constant; a product <c>W v + b</c> of n
/// terms is within <c>gamma_{n+1} (|W| |v| + |b|)</c> of exact plus <c>|W| E_v</c>; an activation carries its input's
/// error by its Lipschitz constant and adds a few units of roundoff of its own (<see cref="FunctionUlps"/> per
/// function evaluated: sigmoid and tanh absolute, ELU, GELU and SiLU relative to their input's size plus one, since
/// each is evaluated as several operations). The bound of the imported network's own forward pass is
/// <see cref="Ours"/>: the same rules over its (folded) layers, with one more unit of roundoff per product for the
/// rounding of folded weights and biases to float, which is what folding changes.
/// </summary>
internal sealed class GraphReference
{
    private const double U = Tolerance.U;

    /// <summary>Units of roundoff allowed for one function evaluation (sigmoid, tanh, exp, erf).</summary>
    public const double FunctionUlps = ForwardErrorBound.FunctionUlps;

    private double[] _value;
    private double[] _error;

    public GraphReference(ReadOnlySpan<float> x)
    {
        _value = TestData.ToDouble(x);
        _error = new double[x.Length];
    }

    public double[] Value => _value;

    public double[] Error => _error;

    /// <summary><c>v op c</c> (or <c>c op v</c>) with a float constant of one value or one per feature.</summary>
    public GraphReference Elementwise(char op, float[] c, bool constantFirst = false)
    {
        for (int k = 0; k < _value.Length; k++)
        {
            double v = _value[k], constant = c[c.Length == 1 ? 0 : k];
            (double result, double carried) = op switch
            {
                '+' => (v + constant, _error[k]),
                '-' => (constantFirst ? constant - v : v - constant, _error[k]),
                '*' => (v * constant, Math.Abs(constant) * _error[k]),
                _ => (v / constant, _error[k] / Math.Abs(constant)),
            };
            _value[k] = result;
            _error[k] = carried + (U * Math.Abs(result));
        }

        return this;
    }

    /// <summary><c>W v + b</c>, W row-major [outputs, inputs]; no bias when <paramref name="b"/> is null.</summary>
    public GraphReference Linear(float[] w, float[]? b, int outputs) => Linear(w, b, outputs, extraUlps: 0);

    /// <summary>An eval-mode BatchNormalization, <c>gamma (v - mean) / sqrt(var + eps) + beta</c>, however it is computed.</summary>
    public GraphReference BatchNorm(float[] gamma, float[] beta, float[] mean, float[] variance, float epsilon)
    {
        for (int k = 0; k < _value.Length; k++)
        {
            double g = gamma[k] / Math.Sqrt(variance[k] + (double)epsilon);
            double result = (g * (_value[k] - mean[k])) + beta[k];
            _error[k] = (Math.Abs(g) * _error[k]) + (8 * U * ((Math.Abs(g) * (Math.Abs(_value[k]) + Math.Abs(mean[k]))) + Math.Abs(beta[k])));
            _value[k] = result;
        }

        return this;
    }

    public GraphReference Activate(Activation f) => Activate(f, ours: false);

    /// <summary>The imported network's forward pass from <paramref name="x"/>, with the bound of its float evaluation
    /// against the exact value of the graph it was imported from.</summary>
    public static GraphReference Ours(Network network, ReadOnlySpan<float> x)
    {
        var reference = new GraphReference(x);
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            reference.Linear(network.Weights(l).ToArray(), network.Biases(l).ToArray(), network.Sizes[l], extraUlps: 1);
            reference.Activate(network.Activations[l - 1], ours: true);
        }

        return reference;
    }

    private GraphReference Linear(float[] w, float[]? b, int outputs, int extraUlps)
    {
        int inputs = _value.Length;
        var z = new double[outputs];
        var error = new double[outputs];
        for (int j = 0; j < outputs; j++)
        {
            double sum = b?[j] ?? 0, magnitude = Math.Abs(b?[j] ?? 0), carried = 0;
            for (int k = 0; k < inputs; k++)
            {
                double wk = w[(j * inputs) + k];
                sum += wk * _value[k];
                magnitude += Math.Abs(wk * _value[k]);
                carried += Math.Abs(wk) * _error[k];
            }

            z[j] = sum;
            error[j] = (Tolerance.Gamma(inputs + 1 + extraUlps) * magnitude) + carried;
        }

        (_value, _error) = (z, error);
        return this;
    }

    // ours: our kernels, whose accuracy for the newer activations is allowed twice the units.
    private GraphReference Activate(Activation f, bool ours)
    {
        double ulps = FunctionUlps * (ours ? 4 : 2);
        if (f.IsOutputOnly)
        {
            NormaliseRows(f == Activation.Softmax, ulps);
            return this;
        }

        for (int i = 0; i < _value.Length; i++)
        {
            double z = _value[i], e = _error[i];
            (_value[i], _error[i]) = f.Kind switch
            {
                ActivationKind.Sigmoid => (1 / (1 + Math.Exp(-z)), (e / 4) + (FunctionUlps * U)),
                ActivationKind.Tanh => (Math.Tanh(z), e + (FunctionUlps * U)),
                ActivationKind.ReLU => (Math.Max(z, 0), e),
                ActivationKind.LeakyReLU => (z > 0 ? z : z * f.Slope, e + (U * Math.Abs(z))),
                ActivationKind.Identity => (z, e),
                ActivationKind.ELU => (z > 0 ? z : double.ExpM1(z), e + (ulps * U * (1 + Math.Abs(z)))),
                ActivationKind.GELU => (z * 0.5 * (1 + Erf(z / Math.Sqrt(2))), (1.2 * e) + (ulps * U * (1 + Math.Abs(z)))),
                ActivationKind.SiLU => (z / (1 + Math.Exp(-z)), (1.1 * e) + (ulps * U * (1 + Math.Abs(z)))),
                _ => throw new ArgumentOutOfRangeException(nameof(f), f, "unknown activation"),
            };
        }

        return this;
    }

    // Softmax (see ForwardErrorBound) or log-softmax, z_i - m - ln sum_j e^{z_j - m}: an input error E moves it by at
    // most 2 max E; computing it adds u |z_i - m| for the shift and a few units of |ln sum| and of the result.
    private void NormaliseRows(bool softmax, double ulps)
    {
        double max = _value.Max(), sum = 0, maxError = _error.Max(), shiftError = 0;
        foreach (double z in _value)
        {
            sum += Math.Exp(z - max);
        }

        var a = new double[_value.Length];
        var error = new double[_value.Length];
        for (int i = 0; i < a.Length; i++)
        {
            double shifted = _value[i] - max;
            a[i] = softmax ? Math.Exp(shifted) / sum : shifted - Math.Log(sum);
            shiftError += softmax ? a[i] * U * Math.Abs(shifted) : 0;
        }

        for (int i = 0; i < a.Length; i++)
        {
            double shifted = _value[i] - max;
            error[i] = softmax
                ? (a[i] * ((2 * maxError) + (U * Math.Abs(shifted)) + shiftError + (2 * FunctionUlps * U) + Tolerance.Gamma(a.Length))) + ForwardErrorBound.MinNormal
                : (2 * maxError) + (ulps * U * (Math.Abs(a[i]) + Math.Abs(shifted) + Math.Log(sum) + 1)) + (Tolerance.Gamma(a.Length) * 2);
        }

        (_value, _error) = (a, error);
    }

    /// <summary>erf in double, to a few units of roundoff: <c>2/sqrt(pi) e^{-x^2} sum_n (2x^2)^n x / (2n+1)!!</c>, whose
    /// terms are all positive (no cancellation); beyond |x| = 6, erf is 1 to within 1e-16.</summary>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax >= 6)
        {
            return Math.Sign(x);
        }

        double term = ax, sum = ax, twoX2 = 2 * ax * ax;
        for (int n = 1; n < 400 && term > sum * 1e-18; n++)
        {
            term *= twoX2 / ((2 * n) + 1);
            sum += term;
        }

        return Math.Sign(x) * (2 / Math.Sqrt(Math.PI)) * Math.Exp(-ax * ax) * sum;
    }
}
