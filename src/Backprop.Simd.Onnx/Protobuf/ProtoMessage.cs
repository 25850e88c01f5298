using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Backprop.Simd.Onnx.Protobuf;

/// <summary>The protobuf wire types (the low three bits of a field's tag).</summary>
internal enum WireType
{
    /// <summary>A base-128 varint: int32, int64, uint64, bool, enum.</summary>
    Varint = 0,

    /// <summary>Eight little-endian bytes: fixed64, sfixed64, double.</summary>
    Fixed64 = 1,

    /// <summary>A varint length, then that many bytes: string, bytes, embedded message, packed repeated scalars.</summary>
    LengthDelimited = 2,

    /// <summary>Deprecated group start; ONNX never uses groups.</summary>
    StartGroup = 3,

    /// <summary>Deprecated group end; ONNX never uses groups.</summary>
    EndGroup = 4,

    /// <summary>Four little-endian bytes: fixed32, sfixed32, float.</summary>
    Fixed32 = 5,
}

/// <summary>
/// A protobuf message under construction: its fields in the order they were added. Writing it computes every
/// nested message's length first (each once, then cached), so nested messages are written straight to the
/// output without being encoded into temporary buffers; float payloads are referenced, not copied, until written.
/// Only what ONNX needs is here: varints, fixed32 floats, strings and bytes, nested messages and float blobs.
/// </summary>
internal sealed class ProtoMessage
{
    private readonly List<Field> _fields = [];
    private long _size = -1;

    /// <summary>Adds a varint field (int32, int64, enum, bool). Negative values take ten bytes, as protobuf specifies.</summary>
    public ProtoMessage Int64(int number, long value) => Add(new Field(number, FieldKind.Varint, (ulong)value, null, default));

    /// <summary>Adds a float field (wire type fixed32).</summary>
    public ProtoMessage Float(int number, float value) =>
        Add(new Field(number, FieldKind.Fixed32, BitConverter.SingleToUInt32Bits(value), null, default));

    /// <summary>Adds a string field as UTF-8 bytes.</summary>
    public ProtoMessage String(int number, string value) => Bytes(number, Encoding.UTF8.GetBytes(value));

    /// <summary>Adds a bytes field.</summary>
    public ProtoMessage Bytes(int number, byte[] value) => Add(new Field(number, FieldKind.Bytes, 0, value, default));

    /// <summary>Adds an embedded message field.</summary>
    public ProtoMessage Message(int number, ProtoMessage value) => Add(new Field(number, FieldKind.Message, 0, value, default));

    /// <summary>Adds a length-delimited field holding <paramref name="values"/> as little-endian float32s: a
    /// TensorProto's <c>raw_data</c>, or a packed repeated float. The values are read when the message is written.</summary>
    public ProtoMessage Floats(int number, ReadOnlyMemory<float> values) => Add(new Field(number, FieldKind.Floats, 0, null, values));

    /// <summary>The encoded length of this message's fields (without its own tag and length).</summary>
    public long Size
    {
        get
        {
            if (_size < 0)
            {
                long size = 0;
                foreach (Field f in _fields)
                {
                    size += FieldSize(f);
                }

                _size = size;
            }

            return _size;
        }
    }

    /// <summary>The whole message as bytes.</summary>
    public byte[] ToArray()
    {
        using var stream = new MemoryStream(checked((int)Size));
        WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>Writes the message (its fields, with no tag or length of its own) to <paramref name="destination"/>.</summary>
    public void WriteTo(Stream destination)
    {
        var output = new ProtoOutput(destination);
        WriteFields(ref output);
        output.Flush();
    }

    private ProtoMessage Add(Field field)
    {
        if (field.Number is < 1 or > MaxFieldNumber)
        {
            throw new ArgumentOutOfRangeException(nameof(field), field.Number, $"field number {field.Number} is outside 1..{MaxFieldNumber}.");
        }

        _fields.Add(field);
        _size = -1;
        return this;
    }

    private void WriteFields(ref ProtoOutput output)
    {
        foreach (Field field in _fields)
        {
            switch (field.Kind)
            {
                case FieldKind.Varint:
                    output.Tag(field.Number, WireType.Varint);
                    output.Varint(field.Scalar);
                    break;
                case FieldKind.Fixed32:
                    output.Tag(field.Number, WireType.Fixed32);
                    output.Fixed32((uint)field.Scalar);
                    break;
                case FieldKind.Bytes:
                    byte[] bytes = (byte[])field.Payload!;
                    output.Tag(field.Number, WireType.LengthDelimited);
                    output.Varint((ulong)bytes.Length);
                    output.Raw(bytes);
                    break;
                case FieldKind.Message:
                    var message = (ProtoMessage)field.Payload!;
                    output.Tag(field.Number, WireType.LengthDelimited);
                    output.Varint((ulong)message.Size);
                    message.WriteFields(ref output);
                    break;
                case FieldKind.Floats:
                    output.Tag(field.Number, WireType.LengthDelimited);
                    output.Varint((ulong)field.Values.Length * sizeof(float));
                    output.FloatsLittleEndian(field.Values.Span);
                    break;
            }
        }
    }

    private static long FieldSize(in Field field)
    {
        long tag = VarintSize((ulong)field.Number << 3);
        return field.Kind switch
        {
            FieldKind.Varint => tag + VarintSize(field.Scalar),
            FieldKind.Fixed32 => tag + 4,
            FieldKind.Bytes => tag + LengthDelimitedSize(((byte[])field.Payload!).Length),
            FieldKind.Message => tag + LengthDelimitedSize(((ProtoMessage)field.Payload!).Size),
            FieldKind.Floats => tag + LengthDelimitedSize((long)field.Values.Length * sizeof(float)),
            _ => throw new InvalidOperationException($"unknown field kind {field.Kind}"),
        };
    }

    private static long LengthDelimitedSize(long length) => VarintSize((ulong)length) + length;

    /// <summary>Bytes a varint of <paramref name="value"/> takes: 1 per started group of 7 bits, 1 to 10.</summary>
    internal static int VarintSize(ulong value) => value == 0 ? 1 : ((64 - System.Numerics.BitOperations.LeadingZeroCount(value) + 6) / 7);

    /// <summary>The largest field number protobuf allows, 2^29 - 1.</summary>
    internal const int MaxFieldNumber = (1 << 29) - 1;

    private enum FieldKind
    {
        Varint,
        Fixed32,
        Bytes,
        Message,
        Floats,
    }

    private readonly record struct Field(int Number, FieldKind Kind, ulong Scalar, object? Payload, ReadOnlyMemory<float> Values);

    /// <summary>A small buffered writer of wire-format primitives.</summary>
    private struct ProtoOutput(Stream destination)
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _used;

        public void Tag(int number, WireType type) => Varint(((ulong)number << 3) | (uint)type);

        public void Varint(ulong value)
        {
            Ensure(10);
            while (value >= 0x80)
            {
                _buffer[_used++] = (byte)(value | 0x80);
                value >>= 7;
            }

            _buffer[_used++] = (byte)value;
        }

        public void Fixed32(uint value)
        {
            Ensure(4);
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_used), value);
            _used += 4;
        }

        public void Raw(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length > _buffer.Length - _used)
            {
                Flush();
                destination.Write(bytes);
                return;
            }

            bytes.CopyTo(_buffer.AsSpan(_used));
            _used += bytes.Length;
        }

        public void FloatsLittleEndian(ReadOnlySpan<float> values)
        {
            if (BitConverter.IsLittleEndian)
            {
                Raw(MemoryMarshal.AsBytes(values));
                return;
            }

            foreach (float value in values)
            {
                Fixed32(BitConverter.SingleToUInt32Bits(value));
            }
        }

        public void Flush()
        {
            destination.Write(_buffer, 0, _used);
            _used = 0;
        }

        private void Ensure(int bytes)
        {
            if (_buffer.Length - _used < bytes)
            {
                Flush();
            }
        }
    }
}
