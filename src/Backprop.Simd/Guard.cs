using System.Runtime.CompilerServices;

namespace Backprop.Simd;

/// <summary>Argument checks shared by every public entry point. Each throws an
/// <see cref="ArgumentException"/>-family error that names the parameter and the expected and actual values.</summary>
internal static class Guard
{
    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="expected"/>.</summary>
    public static void Length(int actual, int expected, string what,
        [CallerArgumentExpression(nameof(actual))] string? paramName = null)
    {
        if (actual != expected)
        {
            Throw(actual, expected, what, Trim(paramName));
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is at least 1.</summary>
    public static void Positive(int value, [CallerArgumentExpression(nameof(value))] string? paramName = null)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(Trim(paramName), value, $"{Trim(paramName)} must be at least 1, but was {value}.");
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is finite and not negative.</summary>
    public static void FiniteNonNegative(float value, [CallerArgumentExpression(nameof(value))] string? paramName = null)
    {
        if (!float.IsFinite(value) || value < 0f)
        {
            throw new ArgumentOutOfRangeException(Trim(paramName), value, $"{Trim(paramName)} must be a finite number >= 0, but was {value}.");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(int actual, int expected, string what, string paramName) =>
        throw new ArgumentException($"{paramName} has length {actual}, expected {expected} ({what}).", paramName);

    // "x.Length" -> "x": the parameter, not the expression.
    private static string Trim(string? expression)
    {
        if (expression is null)
        {
            return "value";
        }

        int dot = expression.IndexOf('.');
        return dot > 0 ? expression[..dot] : expression;
    }
}
