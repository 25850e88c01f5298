namespace Backprop.Simd.Cli;

/// <summary>A mistake in what the user asked for: reported as one line on stderr with a non-zero exit code, never a stack trace.</summary>
internal sealed class UserErrorException(string message) : Exception(message);
