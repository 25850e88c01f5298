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

    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="expected"/>; an interpolated
    /// <paramref name="what"/> is formatted only when it does not (a check on every call allocates nothing).</summary>
    public static void Length(int actual, int expected, [InterpolatedStringHandlerArgument(nameof(actual), nameof(expected))] ref LengthMessage what,
        [CallerArgumentExpression(nameof(actual))] string? paramName = null)
    {
        if (actual != expected)
        {
            Throw(actual, expected, what.ToStringAndClear(), Trim(paramName));
        }
    }

    /// <summary>The description of a failed <see cref="Length(int, int, ref LengthMessage, string?)"/>, formatted only then.</summary>
    [InterpolatedStringHandler]
    public ref struct LengthMessage
    {
        private DefaultInterpolatedStringHandler _text;

        public LengthMessage(int literalLength, int formattedCount, int actual, int expected, out bool failed)
        {
            failed = actual != expected;
            _text = failed ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
        }

        public void AppendLiteral(string value) => _text.AppendLiteral(value);

        public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);

        public void AppendFormatted<T>(T value, string? format) => _text.AppendFormatted(value, format);

        public void AppendFormatted<T>(T value, int alignment, string? format = null) => _text.AppendFormatted(value, alignment, format);

        public void AppendFormatted(ReadOnlySpan<char> value) => _text.AppendFormatted(value);

        public string ToStringAndClear() => _text.ToStringAndClear();
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
