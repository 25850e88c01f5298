using Backprop.Simd.Reference;

namespace Backprop.Simd.Tests.Kernels;

/// <summary>
/// How far the library's ELU, GELU, SiLU and log-softmax kernels may be from the exact functions, derived from the
/// operations they perform (u = 2^-24; one correctly rounded operation errs by at most u relative; TensorPrimitives'
/// exp and MathF.Log within 1 ulp, 2u relative; its sigmoid within <see cref="SigmoidUlps"/> units of roundoff, as the
/// other tests take it; the kernels' erf within 1.5 ulp, <see cref="ErfUnits"/>u relative, as
/// <c>SmoothActivationPropertyTests</c> checks on a dense sweep).
/// </summary>
internal static class SmoothActivationBound
{
    private const double U = Tolerance.U;

    /// <summary>The kernels' erf errs by at most 1.5 ulp of erf x, and an ulp of v is at most 2u |v|.</summary>
    public const double ErfUnits = 3;

    /// <summary>Units of roundoff, relative, of TensorPrimitives.Sigmoid: exp, an add and a division.</summary>
    public const double SigmoidUlps = 8;

    // erf moves by at most (2/sqrt pi) e^(-x^2) |dx|, and x = fl(fl(1/sqrt 2) z) is within 2u |x| of z/sqrt 2:
    // at most 2u max_x (2/sqrt pi) x e^(-x^2) = 2u (2/sqrt pi) / sqrt(2e) = 0.968u.
    private const double ErfOfRoundedInput = 0.97 * U;

    /// <summary>
    /// Bound on <c>|f_float(z) - f(z)|</c> for an exact float input <paramref name="z"/>, for ELU, GELU and SiLU:
    /// <list type="bullet">
    /// <item>ELU: exact for z &gt; 0. Above -ln 2, the Taylor series z + z^2 P(z): its truncation is below u/4 of
    /// |a|, and its roundings (z^2, Horner's rule on terms shrinking by |z|/k, the final add) below 2.2u |a|, as
    /// |z^2 P| &lt; 0.39 |a| there. Below, e^z - 1 with e^z within 2u e^z &lt;= 2u |a|, plus the subtraction's u |a|. So 3u |a|.</item>
    /// <item>GELU: z/2 (1 + erf x): the rounded x moves erf by 0.97u, erf errs by 3u |erf x|, 1 + erf rounds by
    /// u |1 + erf x|, the product by u |a| (z/2 is exact).</item>
    /// <item>SiLU: z sigmoid(z): the sigmoid's relative error and the product's rounding.</item>
    /// </list>
    /// </summary>
    public static double Value(ReferenceKind kind, double z) => kind switch
    {
        ReferenceKind.ELU => z > 0 ? 0 : 3 * U * Math.Abs(ReferenceNetwork.ExpMinusOne(z)),
        ReferenceKind.GELU => (0.5 * Math.Abs(z) * PhiTerms(z)) + (U * Math.Abs(z * ReferenceNetwork.Phi(z))),
        ReferenceKind.SiLU => (SigmoidUlps + 1) * U * Math.Abs(z / (1 + Math.Exp(-z))),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a smooth element-wise activation"),
    };

    /// <summary>
    /// Bound on the error of the derivative the kernels compute at an exact float <paramref name="z"/> (before the
    /// product with delta, which adds u |delta f'|):
    /// <list type="bullet">
    /// <item>ELU: from a = f(z) for z &lt;= 0: a's 3u |a|, plus the rounding of a + 1 &lt;= 1.</item>
    /// <item>GELU: Phi = (1 + erf x)/2 errs by half of GELU's erf terms. z phi: -z^2/2 rounds by u |z^2/2|, which
    /// e^t turns into a relative error u z^2/2, plus exp's 2u, the constant 1/sqrt(2 pi)'s u and two products'
    /// 2u; the final add (a multiply-add, or a product and an add) at most 2u of the sum and of z phi.</item>
    /// <item>SiLU: t = e^-|z| within 2u; r = 1/(1+t) within 3u; q = t r within 6u; s and 1 - s are r and q, so each
    /// within 6u; 1 + z (1 - s) then errs by 7u |z (1 - s)| + u |1 + z (1 - s)|, and the product with s adds 7u |f'|.</item>
    /// </list>
    /// </summary>
    public static double Prime(ReferenceKind kind, double z)
    {
        switch (kind)
        {
            case ReferenceKind.ELU:
                return z > 0 ? 0 : (3 * U * Math.Abs(ReferenceNetwork.ExpMinusOne(z))) + U;
            case ReferenceKind.GELU:
                double zPhi = Math.Abs(z * Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI));
                double prime = ReferenceNetwork.Phi(z) + (z * Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI));
                return (0.5 * PhiTerms(z)) + (zPhi * ((U * z * z / 2) + (6 * U))) + (2 * U * Math.Abs(prime));
            case ReferenceKind.SiLU:
                double s = 1 / (1 + Math.Exp(-z)), zc = z * (1 - s);
                return (s * ((7 * U * Math.Abs(zc)) + (U * Math.Abs(1 + zc)))) + (7 * U * Math.Abs(s * (1 + zc)));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a smooth element-wise activation");
        }
    }

    /// <summary>
    /// Bound on the error of the log-softmax of a row of <paramref name="n"/> exact inputs, at an output of
    /// <paramref name="a"/>: z - max rounds by u |z - max|, the sum of n exponentials (each within 2u) by gamma_n
    /// relative, which its logarithm turns into an absolute error, plus the logarithm's own 2u |ln sum| and the final
    /// subtraction's u |a|. As a = (z - max) - ln sum with both terms at most 0, |z - max| and ln sum are at most |a|.
    /// </summary>
    public static double LogSoftmax(int n, double a) => (4 * U * Math.Abs(a)) + Tolerance.Gamma(n + 2);

    /// <summary>The largest slope |f'| of ELU (1), GELU (1.129, at z = sqrt 2) and SiLU (1.0998, near z = 2.4).</summary>
    public static double Lipschitz(ReferenceKind kind) => kind switch
    {
        ReferenceKind.ELU => 1,
        ReferenceKind.GELU => 1.13,
        ReferenceKind.SiLU => 1.1,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a smooth element-wise activation"),
    };

    /// <summary>The largest |f''|, which bounds how far an input error moves the derivative: GELU's
    /// phi(z) (2 - z^2) peaks at 2 phi(0) = 0.798, SiLU's s(1-s)(2 + z(1 - 2s)) at 1/2 (both at z = 0).
    /// ELU's derivative is taken from a, whose error already carries the input's.</summary>
    public static double Curvature(ReferenceKind kind) => kind switch
    {
        ReferenceKind.ELU => 0,
        ReferenceKind.GELU => 0.8,
        ReferenceKind.SiLU => 0.5,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a smooth element-wise activation"),
    };

    // erf's error terms inside z/2 (1 + erf x), relative to |z|/2.
    private static double PhiTerms(double z)
    {
        double erf = ReferenceNetwork.Erf(z / Math.Sqrt(2));
        return ErfOfRoundedInput + (ErfUnits * U * Math.Abs(erf)) + (U * Math.Abs(1 + erf));
    }
}
