using System.Buffers.Binary;
using System.Text;

namespace Backprop.Simd.Onnx.Protobuf;

/// <summary>
/// Reads one protobuf message from a byte range of untrusted data. Every length field is compared with the bytes
/// that remain in the enclosing message before anything is read or allocated, varints longer than ten bytes are
/// rejected, and unknown fields are skipped by their wire type (groups, which ONNX never uses, are rejected rather
/// than followed). Nested messages are read by <see cref="Message"/>, which counts the depth and stops at
/// <see cref="MaxDepth"/>. Every problem is an <see cref="InvalidDataException"/> that starts with the source's
/// name and the path of the message being read (e.g. <c>model.onnx: graph.node[3].attribute[0]</c>).
/// </summary>
internal struct ProtoReader
{
    /// <summary>How deeply messages may nest. ONNX's deepest path the importer follows is about six levels.</summary>
    public const int MaxDepth = 16;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _data;
    private readonly int _end;
    private readonly int _depth;
    private int _position;
    private int _fieldStart;

    /// <summary>A reader of the whole of <paramref name="data"/> as the top-level message.</summary>
    public ProtoReader(byte[] data, string source, string path)
        : this(data, 0, data.Length, 0, source, path)
    {
    }

    private ProtoReader(byte[] data, int start, int end, int depth, string source, string path)
    {
        _data = data;
        _position = start;
        _fieldStart = start;
        _end = end;
        _depth = depth;
        Source = source;
        Path = path;
    }

    /// <summary>The name of the data in error messages, e.g. its file name.</summary>
    public string Source { get; }

    /// <summary>Where in the model this message is, e.g. <c>graph.node[3]</c>.</summary>
    public string Path { get; }

    /// <summary>The number of the field last returned by <see cref="Next"/>.</summary>
    public int Field { get; private set; }

    /// <summary>The wire type of the field last returned by <see cref="Next"/>.</summary>
    public WireType Type { get; private set; }

    /// <summary>Moves to the next field; false at the end of the message.</summary>
    public bool Next()
    {
        if (_position >= _end)
        {
            return false;
        }

        _fieldStart = _position;
        ulong tag = ReadVarint("a field tag");
        ulong number = tag >> 3;
        var type = (WireType)(tag & 7);
        if (number is 0 or > ProtoMessage.MaxFieldNumber)
        {
            throw Error($"a field tag at byte {_fieldStart} has field number {number}, expected 1 to {ProtoMessage.MaxFieldNumber}: the data is corrupt");
        }

        if (type is not (WireType.Varint or WireType.Fixed64 or WireType.LengthDelimited or WireType.Fixed32))
        {
            string what = type is WireType.StartGroup or WireType.EndGroup ? "a group, which ONNX does not use" : "not a protobuf wire type";
            throw Error($"field {number} at byte {_fieldStart} has wire type {(int)type} ({what}): the data is corrupt");
        }

        Field = (int)number;
        Type = type;
        return true;
    }

    /// <summary>Throws unless the current field has wire type <paramref name="expected"/>; <paramref name="name"/> is the field's name in onnx.proto.</summary>
    public readonly void Expect(WireType expected, string name)
    {
        if (Type != expected)
        {
            throw Error($"field {Field} ({name}) has wire type {(int)Type} ({Type}), expected {(int)expected} ({expected})");
        }
    }

    /// <summary>Reads the current varint field as an int64 (two's complement, as protobuf encodes int64).</summary>
    public long Int64(string name)
    {
        Expect(WireType.Varint, name);
        return (long)ReadVarint(name);
    }

    /// <summary>Reads the current varint field as an int32 or enum: protobuf keeps the low 32 bits.</summary>
    public int Int32(string name) => (int)Int64(name);

    /// <summary>Reads the current fixed32 field as a float.</summary>
    public float Float(string name)
    {
        Expect(WireType.Fixed32, name);
        return BitConverter.UInt32BitsToSingle(ReadFixed32(name));
    }

    /// <summary>Reads the current length-delimited field as strict UTF-8 text.</summary>
    public string String(string name)
    {
        (int start, int length) = Bytes(name);
        try
        {
            return StrictUtf8.GetString(_data, start, length);
        }
        catch (DecoderFallbackException)
        {
            throw Error($"field {Field} ({name}) is not valid UTF-8 text");
        }
    }

    /// <summary>Reads the current length-delimited field, returning where its bytes are in the data.</summary>
    public (int Start, int Length) Bytes(string name)
    {
        Expect(WireType.LengthDelimited, name);
        ulong length = ReadVarint(name + "'s length");
        int remaining = _end - _position;
        if (length > (ulong)remaining)
        {
            throw Error($"field {Field} ({name}) at byte {_fieldStart} declares {length} bytes, but only {remaining} remain in the enclosing message: the data is truncated or corrupt");
        }

        int start = _position;
        _position += (int)length;
        return (start, (int)length);
    }

    /// <summary>The bytes at <paramref name="start"/>, as returned by <see cref="Bytes"/>.</summary>
    public readonly ReadOnlySpan<byte> Span(int start, int length) => _data.AsSpan(start, length);

    /// <summary>A reader of the current length-delimited field as an embedded message named <paramref name="path"/>.</summary>
    public ProtoReader Message(string name, string path)
    {
        (int start, int length) = Bytes(name);
        if (_depth + 1 > MaxDepth)
        {
            throw Error($"{name} is nested {_depth + 1} messages deep, more than the limit of {MaxDepth}");
        }

        return new ProtoReader(_data, start, start + length, _depth + 1, Source, path);
    }

    /// <summary>
    /// Adds the current field's values to <paramref name="into"/>: a repeated int64 either packed (one
    /// length-delimited field) or not (one varint per field), as protobuf requires readers to accept.
    /// </summary>
    public void Int64s(string name, List<long> into)
    {
        if (Type == WireType.Varint)
        {
            into.Add((long)ReadVarint(name));
            return;
        }

        (int start, int length) = Bytes(name);
        var packed = new ProtoReader(_data, start, start + length, _depth, Source, Path);
        while (packed._position < packed._end)
        {
            into.Add((long)packed.ReadVarint(name));
        }
    }

    /// <summary>Adds the current field's floats to <paramref name="into"/>: packed or one fixed32 per field.</summary>
    public void Floats(string name, List<float> into)
    {
        if (Type == WireType.Fixed32)
        {
            into.Add(Float(name));
            return;
        }

        (int start, int length) = Bytes(name);
        if (length % 4 != 0)
        {
            throw Error($"field {Field} ({name}) holds {length} bytes of packed floats, not a multiple of 4: the data is corrupt");
        }

        for (int i = start; i < start + length; i += 4)
        {
            into.Add(BinaryPrimitives.ReadSingleLittleEndian(_data.AsSpan(i, 4)));
        }
    }

    /// <summary>Adds the current field's doubles to <paramref name="into"/>: packed or one fixed64 per field.</summary>
    public void Doubles(string name, List<double> into)
    {
        if (Type == WireType.Fixed64)
        {
            into.Add(BitConverter.UInt64BitsToDouble(ReadFixed64(name)));
            return;
        }

        (int start, int length) = Bytes(name);
        if (length % 8 != 0)
        {
            throw Error($"field {Field} ({name}) holds {length} bytes of packed doubles, not a multiple of 8: the data is corrupt");
        }

        for (int i = start; i < start + length; i += 8)
        {
            into.Add(BinaryPrimitives.ReadDoubleLittleEndian(_data.AsSpan(i, 8)));
        }
    }

    /// <summary>Skips the current field, whatever it holds, by its wire type.</summary>
    public void Skip()
    {
        switch (Type)
        {
            case WireType.Varint:
                ReadVarint($"field {Field}");
                break;
            case WireType.Fixed64:
                Advance(8, $"field {Field}");
                break;
            case WireType.Fixed32:
                Advance(4, $"field {Field}");
                break;
            default:
                Bytes($"field {Field}");
                break;
        }
    }

    /// <summary>An <see cref="InvalidDataException"/> for this message: "<c>source: path: message.</c>"</summary>
    public readonly InvalidDataException Error(string message) => new(MessageText.Printable($"{Source}: {Path}: {message}."));

    private ulong ReadVarint(string name)
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _end)
            {
                throw Error($"{name} at byte {_fieldStart} is cut off by the end of the message: the data is truncated or corrupt");
            }

            byte b = _data[_position++];
            if (shift == 63 && b > 1)
            {
                throw Error($"{name} at byte {_fieldStart} is a varint of more than 64 bits: the data is corrupt");
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Error($"{name} at byte {_fieldStart} is a varint longer than 10 bytes: the data is corrupt");
    }

    private uint ReadFixed32(string name)
    {
        int at = _position;
        Advance(4, name);
        return BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(at, 4));
    }

    private ulong ReadFixed64(string name)
    {
        int at = _position;
        Advance(8, name);
        return BinaryPrimitives.ReadUInt64LittleEndian(_data.AsSpan(at, 8));
    }

    private void Advance(int bytes, string name)
    {
        if (_end - _position < bytes)
        {
            throw Error($"{name} at byte {_fieldStart} needs {bytes} bytes, but only {_end - _position} remain: the data is truncated or corrupt");
        }

        _position += bytes;
    }
}
