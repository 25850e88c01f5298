using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Simd.Kernels;

/// <summary>
/// Software prefetch of matrix rows into the caches: a hint that changes no result. It does nothing on
/// processors without the instruction, or when the environment variable <c>BACKPROP_SIMD_PREFETCH=0</c> (read once)
/// turns it off so that its effect can be measured.
/// </summary>
internal static class Prefetch
{
    /// <summary>Whether prefetches are issued: true unless <c>BACKPROP_SIMD_PREFETCH</c> is <c>0</c>.</summary>
    public static bool Enabled { get; } = Sse.IsSupported && Environment.GetEnvironmentVariable("BACKPROP_SIMD_PREFETCH") != "0";

    /// <summary>Starts fetching the lines of <paramref name="count"/> floats from <paramref name="start"/> into the
    /// first-level cache (one prefetch per 64 bytes, and one for the last float); nothing for a count below 1.</summary>
    public static unsafe void Run(ref readonly float start, int count)
    {
        if (!Enabled || count < 1)
        {
            return;
        }

        const int FloatsPerLine = 64 / sizeof(float);
        fixed (float* first = &start)
        {
            for (int p = 0; p < count; p += FloatsPerLine)
            {
                Sse.Prefetch0(first + p);
            }

            Sse.Prefetch0(first + count - 1);
        }
    }

    /// <summary>Starts fetching rows <paramref name="rows"/> (each <paramref name="width"/> floats) of <paramref name="matrix"/>; the indices are the caller's to check.</summary>
    public static unsafe void Rows(ReadOnlySpan<float> matrix, ReadOnlySpan<int> rows, int width)
    {
        if (!Enabled)
        {
            return;
        }

        const int FloatsPerLine = 64 / sizeof(float);
        fixed (float* first = &MemoryMarshal.GetReference(matrix))
        {
            foreach (int row in rows)
            {
                float* start = first + ((nint)row * width);
                for (int p = 0; p < width; p += FloatsPerLine)
                {
                    Sse.Prefetch1(start + p);
                }
            }
        }
    }
}
