using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd;

/// <summary>
/// A zeroed arena of floats whose first element starts on a 64-byte cache line, so that a 512-bit load at any
/// multiple of 16 floats from it reads one line, not two (docs/optimizing-backprop.md, thirteenth session). The
/// array is pinned (it never moves, so the start found once stays on its line) and up to 15 floats longer.
/// </summary>
internal sealed class AlignedFloats
{
    /// <summary>Floats in a 64-byte cache line.</summary>
    public const int LineFloats = 64 / sizeof(float);

    private readonly float[] _array;
    private readonly int _start;

    /// <summary>Allocates <paramref name="length"/> zeroed floats starting on a cache line (or, when the padding would
    /// not fit one array, where the runtime puts them).</summary>
    public AlignedFloats(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        if (length > Array.MaxLength - (LineFloats - 1))
        {
            _array = new float[length];
            return;
        }

        _array = GC.AllocateArray<float>(length + LineFloats - 1, pinned: true);
        _start = FloatsToLine(ref MemoryMarshal.GetArrayDataReference(_array));
    }

    /// <summary>The number of floats.</summary>
    public int Length { get; }

    /// <summary>The whole arena.</summary>
    public Span<float> Span => new(_array, _start, Length);

    /// <summary>The whole arena, as memory.</summary>
    public Memory<float> Memory => new(_array, _start, Length);

    /// <summary>Floats <c>[offset, offset + length)</c> of the arena.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<float> Slice(int offset, int length)
    {
        // The span's own check covers the array; this one keeps a slice inside the arena, not in its padding.
        if ((ulong)(uint)offset + (uint)length > (uint)Length)
        {
            ThrowOutside(offset, length);
        }

        return new(_array, _start + offset, length);
    }

    /// <summary>Floats from <paramref name="first"/> to the next 64-byte line (0 when it is on one).</summary>
    internal static unsafe int FloatsToLine(ref float first) =>
        (int)((LineFloats - ((nuint)Unsafe.AsPointer(ref first) / sizeof(float) % LineFloats)) % LineFloats);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowOutside(int offset, int length) =>
        throw new ArgumentOutOfRangeException(offset < 0 || length >= 0 ? nameof(offset) : nameof(length),
            $"offset {offset} and length {length} do not describe floats inside an arena of {Length}.");
}
