using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Simd.Tests;

/// <summary>
/// The arenas the kernels read start on 64-byte cache lines: <see cref="AlignedFloats"/> itself, and the network's
/// parameters and a workspace's arenas built on it, whichever constructor made them.
/// </summary>
public class AlignedFloatsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(23_860)]
    public void An_arena_starts_on_a_line_and_is_zeroed(int length)
    {
        for (int repeat = 0; repeat < 8; repeat++)
        {
            var arena = new AlignedFloats(length);
            Assert.Equal(length, arena.Length);
            Assert.Equal(length, arena.Span.Length);
            Assert.True(arena.Span.IndexOfAnyExcept(0f) < 0, "not zeroed");
            Assert.True(arena.Memory.Span == arena.Span, "Memory and Span differ");
            if (length > 0)
            {
                Assert.Equal(0, Offset(arena.Span));
            }
        }
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(0, 11)]
    [InlineData(10, 1)]
    [InlineData(5, -1)]
    [InlineData(int.MaxValue, 1)]
    public void A_slice_outside_the_arena_throws_even_inside_its_padding(int offset, int length)
    {
        var arena = new AlignedFloats(10); // up to 15 floats of padding follow
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => arena.Slice(offset, length));
        Assert.Contains("arena of 10", e.Message);
        Assert.Equal(offset >= 0 && length < 0 ? "length" : "offset", e.ParamName);
    }

    [Fact]
    public void A_slice_is_the_same_floats_as_the_span()
    {
        var arena = new AlignedFloats(40);
        arena.Slice(16, 8).Fill(3f);
        Assert.Equal(8, arena.Span.Count(3f));
        Assert.True(Unsafe.AreSame(ref arena.Span[16], ref MemoryMarshal.GetReference(arena.Slice(16, 8))));
        Assert.Equal(0, arena.Slice(40, 0).Length);
    }

    [Fact]
    public void Parameters_and_workspace_arenas_start_on_lines()
    {
        int[] sizes = [784, 30, 10];
        var network = new Network(sizes, seed: 1);
        var copied = new Network(sizes, network.Parameters);
        foreach (Network n in new[] { network, copied, network.Clone() })
        {
            Assert.Equal(0, Offset(n.Parameters));
            Assert.Equal(0, Offset(n.Weights(1))); // n_0 = 784 floats a row: every row of W^1 on a line
        }

        var workspace = new Workspace(network, capacity: 10);
        Assert.Equal(0, Offset(workspace.Nabla));
        Assert.Equal(0, Offset(workspace.ZRows(1, 10)));
        Assert.Equal(0, Offset(workspace.ARows(1, 10)));
        Assert.Equal(0, Offset(workspace.DeltaRows(1, 10)));
    }

    private static unsafe int Offset(ReadOnlySpan<float> span) =>
        (int)((nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span)) % 64);
}
