using System.Buffers.Binary;
using System.Runtime.InteropServices;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Onnx.Import;

/// <summary>
/// A tensor whose values the importer knows: an initializer, a <c>Constant</c> node's value, or what a node computed
/// from such tensors (a transposed weight, a shape for <c>Reshape</c>). Floats stay floats bit for bit; doubles stay
/// doubles; INT64, INT32 and BOOL values are held as longs, where <see cref="Batch"/> stands for the symbolic batch
/// size N (what <c>Shape</c> of the graph input gives in its first place).
/// </summary>
internal sealed class ConstTensor
{
    /// <summary>The batch size N, not known until the model runs, as a value of an integer tensor.</summary>
    public const long Batch = long.MinValue;

    /// <summary>Most values one tensor may hold: what one float array can.</summary>
    public const long MaxCount = 0x7FFF_FFC7 / sizeof(float);

    private ConstTensor(int type, long[] dims, float[]? floats, double[]? doubles, long[]? integers, string origin)
    {
        Type = type;
        Dims = dims;
        Floats = floats;
        Doubles = doubles;
        Integers = integers;
        Origin = origin;
    }

    /// <summary>The element type (<c>TensorProto.DataType</c>): FLOAT, DOUBLE, INT64, INT32 or BOOL.</summary>
    public int Type { get; }

    public long[] Dims { get; }

    public float[]? Floats { get; }

    public double[]? Doubles { get; }

    public long[]? Integers { get; }

    /// <summary>Where the tensor comes from, for messages: <c>graph.initializer[3] 'W'</c> or a node.</summary>
    public string Origin { get; }

    public int Count => Floats?.Length ?? Doubles?.Length ?? Integers!.Length;

    public bool IsInteger => Integers is not null;

    public static ConstTensor OfFloats(long[] dims, float[] values, string origin) => new(S.DataType.Float, dims, values, null, null, origin);

    public static ConstTensor OfDoubles(long[] dims, double[] values, string origin) => new(S.DataType.Double, dims, null, values, null, origin);

    public static ConstTensor OfIntegers(int type, long[] dims, long[] values, string origin) => new(type, dims, null, null, values, origin);

    /// <summary>The same values with other dims (the count must match) or another origin.</summary>
    public ConstTensor With(long[] dims, string origin) => new(Type, dims, Floats, Doubles, Integers, origin);

    /// <summary>Value <paramref name="i"/> as a double; the batch size N has none.</summary>
    public double Real(int i) => Floats is not null ? Floats[i] : Doubles is not null ? Doubles[i] : Integers![i] == Batch ? double.NaN : Integers[i];

    /// <summary>The product of <paramref name="dims"/>, or -1 if a dim is negative or the product exceeds <see cref="MaxCount"/>.</summary>
    public static long CountOf(ReadOnlySpan<long> dims)
    {
        long count = 1;
        foreach (long dim in dims)
        {
            if (dim < 0 || (dim > 0 && count > MaxCount / dim))
            {
                return -1;
            }

            count *= dim;
        }

        return count;
    }

    /// <summary>
    /// The values of a <c>TensorProto</c> (an initializer or a tensor attribute). The element count must match the
    /// data exactly, which is checked before anything is allocated.
    /// </summary>
    public static ConstTensor Read(OnnxTensor tensor, byte[] data, Failures fail)
    {
        string where = tensor.Name.Length > 0 ? tensor.Describe : tensor.Path;
        long count = CountOf(tensor.Dims);
        if (count < 0)
        {
            string problem = tensor.Dims.Any(d => d < 0) ? "a negative dimension" : $"more values than the importer accepts ({MaxCount})";
            throw fail.At(where, $"has dims {Failures.Dims(tensor.Dims)}, {problem}");
        }

        (int size, string unit, object? field) = tensor.DataType switch
        {
            S.DataType.Float => (4, "floats", tensor.FloatData),
            S.DataType.Double => (8, "doubles", tensor.DoubleData),
            S.DataType.Int64 => (8, "int64 values", (object?)tensor.Int64Data),
            S.DataType.Int32 => (4, "int32 values", tensor.Int32Data),
            S.DataType.Bool => (1, "bools", tensor.Int32Data),
            _ => throw fail.At(where, $"has data_type {S.DataType.Describe(tensor.DataType)}, which the importer does not read (expected 1 (FLOAT), or for shapes 7 (INT64), 6 (INT32), 9 (BOOL) or 11 (DOUBLE))"),
        };
        int typedFields = (tensor.FloatData is null ? 0 : 1) + (tensor.DoubleData is null ? 0 : 1) + (tensor.Int32Data is null ? 0 : 1) + (tensor.Int64Data is null ? 0 : 1);
        if (tensor.HasOtherData || typedFields > (field is null ? 0 : 1))
        {
            throw fail.At(where, $"holds its values in a field for another data type, but data_type is {S.DataType.Describe(tensor.DataType)}");
        }

        if (tensor.RawData is (int start, int length))
        {
            if (field is not null)
            {
                throw fail.At(where, $"holds both raw_data and a typed data field, expected one of them");
            }

            if (length != count * size)
            {
                throw fail.At(where, $"has dims {Failures.Dims(tensor.Dims)} ({count} {unit}, {count * size} bytes), but its raw_data holds {length} bytes");
            }

            return CheckIntegers(FromRaw(tensor.DataType, tensor.Dims, (int)count, data.AsSpan(start, length), where), fail);
        }

        int have = field switch
        {
            List<float> f => f.Count,
            List<double> d => d.Count,
            List<long> l => l.Count,
            _ => 0,
        };
        if (have != count)
        {
            throw fail.At(where, $"has dims {Failures.Dims(tensor.Dims)} ({count} {unit}), but it holds {have} values (raw_data absent, {FieldName(tensor.DataType)} has {have})");
        }

        return CheckIntegers(tensor.DataType switch
        {
            S.DataType.Float => OfFloats(tensor.Dims, tensor.FloatData?.ToArray() ?? [], where),
            S.DataType.Double => OfDoubles(tensor.Dims, tensor.DoubleData?.ToArray() ?? [], where),
            S.DataType.Int64 => OfIntegers(S.DataType.Int64, tensor.Dims, tensor.Int64Data?.ToArray() ?? [], where),
            S.DataType.Int32 => OfIntegers(S.DataType.Int32, tensor.Dims, tensor.Int32Data?.Select(v => (long)(int)v).ToArray() ?? [], where),
            _ => OfIntegers(S.DataType.Bool, tensor.Dims, tensor.Int32Data?.Select(v => v == 0 ? 0L : 1L).ToArray() ?? [], where),
        }, fail);
    }

    /// <summary>Rejects the one int64 value that stands for <see cref="Batch"/>, so a file cannot spell the batch size.</summary>
    public static ConstTensor CheckIntegers(ConstTensor tensor, Failures fail)
    {
        if (tensor.Integers is { } values && Array.IndexOf(values, Batch) >= 0)
        {
            throw fail.At(tensor.Origin, $"holds the value {long.MinValue}, which the importer does not accept");
        }

        return tensor;
    }

    private static string FieldName(int type) => type switch
    {
        S.DataType.Float => "float_data",
        S.DataType.Double => "double_data",
        S.DataType.Int64 => "int64_data",
        _ => "int32_data",
    };

    private static ConstTensor FromRaw(int type, long[] dims, int count, ReadOnlySpan<byte> bytes, string where)
    {
        switch (type)
        {
            case S.DataType.Float:
                var floats = new float[count];
                if (BitConverter.IsLittleEndian)
                {
                    MemoryMarshal.Cast<byte, float>(bytes).CopyTo(floats);
                }
                else
                {
                    for (int i = 0; i < count; i++)
                    {
                        floats[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4));
                    }
                }

                return OfFloats(dims, floats, where);
            case S.DataType.Double:
                var doubles = new double[count];
                for (int i = 0; i < count; i++)
                {
                    doubles[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(i * 8, 8));
                }

                return OfDoubles(dims, doubles, where);
            default:
                var integers = new long[count];
                for (int i = 0; i < count; i++)
                {
                    integers[i] = type switch
                    {
                        S.DataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(i * 8, 8)),
                        S.DataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(i * 4, 4)),
                        _ => bytes[i] == 0 ? 0 : 1,
                    };
                }

                return OfIntegers(type, dims, integers, where);
        }
    }
}
