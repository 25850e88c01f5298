namespace Backprop.Simd.Tests.Serialization;

/// <summary>A fresh directory under the system temp directory, deleted with everything in it on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "backprop-simd-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Names of every entry in the directory, hidden ones included, sorted.</summary>
    public string[] Entries() =>
        Directory.GetFileSystemEntries(Path).Select(e => System.IO.Path.GetFileName(e)).Order(StringComparer.Ordinal).ToArray();

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>Passes writes through to an inner stream until a byte budget runs out, then fails like a full disk.</summary>
public sealed class FailingStream(Stream inner, long budget) : Stream
{
    private long _written;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_written + buffer.Length > budget)
        {
            int allowed = (int)(budget - _written);
            inner.Write(buffer[..allowed]);
            _written = budget;
            throw new IOException("Simulated failure: no space left on device.");
        }

        inner.Write(buffer);
        _written += buffer.Length;
    }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>Networks whose parameters exercise float formatting: every kind of finite float.</summary>
internal static class ModelNetworks
{
    /// <summary>Values that are easy to get wrong when written as text.</summary>
    public static readonly float[] Awkward =
    [
        0f, -0f, float.Epsilon, -float.Epsilon, 1e-30f, -1e-30f, float.MaxValue, float.MinValue, 1e38f,
        BitConverter.Int32BitsToSingle(0x00800000), // smallest normal
        BitConverter.Int32BitsToSingle(0x007FFFFF), // largest subnormal
        0.1f, 1f / 3f, 16777216f, 123456789f, 3.4028233e38f, 1.0000001f, 0.99999994f,
    ];

    /// <summary>A network of <paramref name="sizes"/> with mixed values (TestData.FillMixed), the awkward values
    /// sprinkled in, and some raw random bit patterns.</summary>
    public static Network Mixed(int[] sizes, ulong seed)
    {
        var network = new Network(sizes, seed);
        var random = new SeededRandom(seed ^ 0x6a5f);
        Span<float> p = network.MutableParameters;
        TestData.FillMixed(p, ref random);
        for (int i = 0; i < p.Length; i++)
        {
            double u = random.NextDouble();
            if (u < 0.1)
            {
                p[i] = Awkward[random.NextInt(Awkward.Length)];
            }
            else if (u < 0.2)
            {
                p[i] = RandomFinite(ref random);
            }
        }

        return network;
    }

    /// <summary>The same sizes and parameters as <paramref name="network"/> with another architecture.</summary>
    public static Network WithArchitecture(Network network, Activation[] activations, CostFunction cost) =>
        new(network.Sizes, network.Parameters, activations, cost);

    /// <summary>Every (hidden activation, output activation, cost) of a one-hidden-layer network, each with whether
    /// <see cref="Network.CheckArchitecture"/> accepts it.</summary>
    public static IEnumerable<(Activation Hidden, Activation Output, CostFunction Cost, bool Valid)> Architectures()
    {
        Activation[] all = [.. Enum.GetValues<ActivationKind>().Select(Activation.Of), Activation.LeakyReLUWithSlope(0.2f)];
        foreach (Activation hidden in all)
        {
            foreach (Activation output in all)
            {
                foreach (CostFunction cost in Enum.GetValues<CostFunction>())
                {
                    bool valid;
                    try
                    {
                        Network.CheckArchitecture([hidden, output], cost);
                        valid = true;
                    }
                    catch (ArgumentException)
                    {
                        valid = false;
                    }

                    yield return (hidden, output, cost, valid);
                }
            }
        }
    }

    public static float RandomFinite(ref SeededRandom random)
    {
        while (true)
        {
            float value = BitConverter.Int32BitsToSingle((int)random.NextUInt64());
            if (float.IsFinite(value))
            {
                return value;
            }
        }
    }

    public static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"parameter {i}: expected {expected[i]:R} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8}), got {actual[i]:R} (0x{BitConverter.SingleToInt32Bits(actual[i]):X8}).");
            }
        }
    }
}
