namespace Backprop.Simd.Reference;

/// <summary>The naive twin of the library's byte-widening kernel: one byte at a time, converted and divided.</summary>
public static class NaiveWidening
{
    /// <summary><c>values[i] = bytes[i] / divisor</c>.</summary>
    public static void Divide(ReadOnlySpan<byte> bytes, float divisor, Span<float> values)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            values[i] = (float)bytes[i] / divisor;
        }
    }
}
