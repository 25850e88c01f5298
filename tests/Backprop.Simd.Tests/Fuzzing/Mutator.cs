using System.Buffers.Binary;
using System.Text;

namespace Backprop.Simd.Tests.Fuzzing;

/// <summary>
/// Mutates seed files reproducibly: the same generator state gives the same mutant. Byte-level edits (bit flips,
/// interesting bytes and integers, insertions, deletions, duplications, truncation, splicing with another seed) plus
/// a few aimed at each format: big-endian header integers for IDX, varints and length prefixes for protobuf, number
/// and structure tokens for JSON.
/// </summary>
internal static class Mutator
{
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x08, 0x03, 0x1F, 0x8B, (byte)'"', (byte)'\\', (byte)'[', (byte)']'];

    private static readonly int[] InterestingInts =
        [0, 1, -1, 2, 28, 784, 4096, 4097, 10_000, 60_000, 1 << 16, 1 << 24, (1 << 30) + 1, int.MaxValue, int.MinValue, 0x0803, 0x0801];

    private static readonly string[] JsonTokens =
    [
        "1e39", "-1e39", "1e-50", "-0", "0.0", "784.0", "2147483648", "-1", "NaN", "Infinity", "\"NaN\"", "null", "true",
        "[]", "[[]]", "{}", ",", "\"", "\\uD800", "\\u0000", "\u00e9", "[[[1]]]", "\"sizes\"", "\"weights\"", "\"activations\"",
        "\"cost\":\"LogLikelihoodCost\"", "\"softmax\"", "\"relu\"", "100000000", "999999999999999999999",
        "\"a\\nb\"", "\"\\u001b[31m\"",
    ];

    public enum Kind
    {
        Binary,
        Idx,
        Protobuf,
        Json,
    }

    /// <summary>One to four mutations of <paramref name="input"/> (which is not changed).</summary>
    public static byte[] Mutate(byte[] input, byte[][] seeds, Kind kind, ref SeededRandom random)
    {
        var data = new List<byte>(input);
        int edits = 1 + random.NextInt(4);
        for (int i = 0; i < edits; i++)
        {
            MutateOnce(data, seeds, kind, ref random);
        }

        return [.. data];
    }

    private static void MutateOnce(List<byte> data, byte[][] seeds, Kind kind, ref SeededRandom random)
    {
        int choice = random.NextInt(kind == Kind.Binary ? 10 : 12);
        if (data.Count == 0)
        {
            data.Add((byte)random.NextInt(256));
            return;
        }

        int at = random.NextInt(data.Count);
        switch (choice)
        {
            case 0:
                data[at] ^= (byte)(1 << random.NextInt(8));
                break;
            case 1:
                data[at] = (byte)random.NextInt(256);
                break;
            case 2:
                data[at] = InterestingBytes[random.NextInt(InterestingBytes.Length)];
                break;
            case 3:
                data.InsertRange(at, RandomBytes(1 + random.NextInt(8), ref random));
                break;
            case 4:
                data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.NextInt(Math.Max(1, data.Count / 8))));
                break;
            case 5:
            {
                int length = Math.Min(data.Count - at, 1 + random.NextInt(64));
                data.InsertRange(random.NextInt(data.Count + 1), data.GetRange(at, length));
                break;
            }

            case 6:
                data.RemoveRange(at, data.Count - at); // truncate
                break;
            case 7:
            {
                // Splice: this input's beginning, another seed's end.
                byte[] other = seeds[random.NextInt(seeds.Length)];
                int from = other.Length == 0 ? 0 : random.NextInt(other.Length);
                data.RemoveRange(at, data.Count - at);
                data.AddRange(other.AsSpan(from).ToArray());
                break;
            }

            case 8:
                WriteInt(data, at, InterestingInts[random.NextInt(InterestingInts.Length)], bigEndian: true);
                break;
            case 9:
                WriteInt(data, at, InterestingInts[random.NextInt(InterestingInts.Length)], bigEndian: false);
                break;
            default:
                MutateForKind(data, at, kind, ref random);
                break;
        }
    }

    private static void MutateForKind(List<byte> data, int at, Kind kind, ref SeededRandom random)
    {
        switch (kind)
        {
            case Kind.Idx:
                // A header integer (magic, count, rows, columns) set to an interesting value.
                WriteInt(data, 4 * random.NextInt(4), InterestingInts[random.NextInt(InterestingInts.Length)], bigEndian: true);
                break;
            case Kind.Protobuf:
                // A varint: a length prefix or a field value, possibly huge or over-long.
                ulong value = random.NextInt(3) switch
                {
                    0 => (ulong)InterestingInts[random.NextInt(InterestingInts.Length)],
                    1 => random.NextUInt64(),
                    _ => (ulong)random.NextInt(300),
                };
                data.InsertRange(at, Varint(value, overlong: random.NextInt(8) == 0));
                break;
            case Kind.Json:
                // Replace the token that starts here (up to the next delimiter) with an interesting one.
                int end = at;
                while (end < data.Count && end - at < 24 && !",:[]{} \n".Contains((char)data[end]))
                {
                    end++;
                }

                data.RemoveRange(at, end - at);
                data.InsertRange(at, Encoding.UTF8.GetBytes(JsonTokens[random.NextInt(JsonTokens.Length)]));
                break;
            default:
                data[at] = (byte)~data[at];
                break;
        }
    }

    private static byte[] RandomBytes(int count, ref SeededRandom random)
    {
        var bytes = new byte[count];
        for (int i = 0; i < count; i++)
        {
            bytes[i] = (byte)random.NextInt(256);
        }

        return bytes;
    }

    private static void WriteInt(List<byte> data, int at, int value, bool bigEndian)
    {
        Span<byte> bytes = stackalloc byte[4];
        if (bigEndian)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        }

        for (int i = 0; i < 4 && at + i < data.Count; i++)
        {
            data[at + i] = bytes[i];
        }
    }

    private static byte[] Varint(ulong value, bool overlong)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 || overlong ? (byte)(b | 0x80) : b);
        }
        while (value != 0);

        if (overlong)
        {
            bytes.AddRange(new byte[] { 0x80, 0x80, 0x80, 0x00 }); // padding continuation bytes: 11+ bytes in all at times
        }

        return [.. bytes];
    }
}
