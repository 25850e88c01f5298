namespace Backprop.Simd.Onnx.Protobuf;

/// <summary>
/// The field numbers and enum values of onnx.proto (the ONNX IR specification) that this assembly reads or
/// writes. Each nested class is one message; a constant's name is the field's name in onnx.proto.
/// </summary>
internal static class OnnxSchema
{
    /// <summary><c>ModelProto</c>: the top-level message of a <c>.onnx</c> file.</summary>
    internal static class Model
    {
        public const int IrVersion = 1;        // int64
        public const int ProducerName = 2;     // string
        public const int ProducerVersion = 3;  // string
        public const int Domain = 4;           // string
        public const int ModelVersion = 5;     // int64
        public const int DocString = 6;        // string
        public const int Graph = 7;            // GraphProto
        public const int OpsetImport = 8;      // repeated OperatorSetIdProto
        public const int MetadataProps = 14;   // repeated StringStringEntryProto
        public const int Functions = 25;       // repeated FunctionProto
    }

    /// <summary><c>FunctionProto</c>: a model-local function, called by nodes of its domain and name.</summary>
    internal static class Function
    {
        public const int Name = 1;    // string
        public const int Domain = 10; // string
    }

    /// <summary><c>OperatorSetIdProto</c>.</summary>
    internal static class OperatorSetId
    {
        public const int Domain = 1;  // string; "" (or "ai.onnx") is the default operator set
        public const int Version = 2; // int64
    }

    /// <summary><c>StringStringEntryProto</c>.</summary>
    internal static class StringStringEntry
    {
        public const int Key = 1;
        public const int Value = 2;
    }

    /// <summary><c>GraphProto</c>.</summary>
    internal static class Graph
    {
        public const int Node = 1;               // repeated NodeProto
        public const int Name = 2;               // string
        public const int Initializer = 5;        // repeated TensorProto
        public const int DocString = 10;         // string
        public const int Input = 11;             // repeated ValueInfoProto
        public const int Output = 12;            // repeated ValueInfoProto
        public const int ValueInfo = 13;         // repeated ValueInfoProto
        public const int SparseInitializer = 15; // repeated SparseTensorProto
    }

    /// <summary><c>NodeProto</c>.</summary>
    internal static class Node
    {
        public const int Input = 1;     // repeated string
        public const int Output = 2;    // repeated string
        public const int Name = 3;      // string
        public const int OpType = 4;    // string
        public const int Attribute = 5; // repeated AttributeProto
        public const int DocString = 6; // string
        public const int Domain = 7;    // string
    }

    /// <summary><c>AttributeProto</c>.</summary>
    internal static class Attribute
    {
        public const int Name = 1;  // string
        public const int F = 2;     // float
        public const int I = 3;     // int64
        public const int S = 4;     // bytes
        public const int T = 5;     // TensorProto
        public const int G = 6;     // GraphProto
        public const int Floats = 7;
        public const int Ints = 8;
        public const int Strings = 9;
        public const int Tensors = 10;
        public const int Graphs = 11;
        public const int DocString = 13;
        public const int Tp = 14;
        public const int TypeProtos = 15;
        public const int Type = 20;       // AttributeType
        public const int RefAttrName = 21;
        public const int SparseTensor = 22;
        public const int SparseTensors = 23;
    }

    /// <summary><c>AttributeProto.AttributeType</c>.</summary>
    internal static class AttributeType
    {
        public const int Undefined = 0;
        public const int Float = 1;
        public const int Int = 2;
        public const int String = 3;
        public const int Tensor = 4;
        public const int Graph = 5;
        public const int Floats = 6;
        public const int Ints = 7;
        public const int Strings = 8;
        public const int Tensors = 9;
        public const int Graphs = 10;
        public const int SparseTensor = 11;
        public const int SparseTensors = 12;
        public const int TypeProto = 13;
        public const int TypeProtos = 14;
    }

    /// <summary><c>TensorProto</c>.</summary>
    internal static class Tensor
    {
        public const int Dims = 1;         // repeated int64
        public const int DataType = 2;     // int32 (TensorProto.DataType)
        public const int Segment = 3;      // Segment
        public const int FloatData = 4;    // repeated float, packed
        public const int Int32Data = 5;
        public const int StringData = 6;
        public const int Int64Data = 7;
        public const int Name = 8;         // string
        public const int RawData = 9;      // bytes
        public const int DoubleData = 10;
        public const int Uint64Data = 11;
        public const int DocString = 12;
        public const int ExternalData = 13; // repeated StringStringEntryProto
        public const int DataLocation = 14; // DataLocation
    }

    /// <summary><c>TensorProto.DataType</c> values this assembly names in messages.</summary>
    internal static class DataType
    {
        public const int Undefined = 0;
        public const int Float = 1;
        public const int Int32 = 6;
        public const int Int64 = 7;
        public const int Bool = 9;
        public const int Double = 11;

        /// <summary>onnx.proto's name of a data type, for error messages.</summary>
        public static string Describe(int type) => type switch
        {
            0 => "0 (UNDEFINED)",
            1 => "1 (FLOAT)",
            2 => "2 (UINT8)",
            3 => "3 (INT8)",
            4 => "4 (UINT16)",
            5 => "5 (INT16)",
            6 => "6 (INT32)",
            7 => "7 (INT64)",
            8 => "8 (STRING)",
            9 => "9 (BOOL)",
            10 => "10 (FLOAT16)",
            11 => "11 (DOUBLE)",
            12 => "12 (UINT32)",
            13 => "13 (UINT64)",
            14 => "14 (COMPLEX64)",
            15 => "15 (COMPLEX128)",
            16 => "16 (BFLOAT16)",
            _ => type.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    /// <summary><c>TensorProto.DataLocation</c>.</summary>
    internal static class DataLocation
    {
        public const int Default = 0;
        public const int External = 1;
    }

    /// <summary><c>ValueInfoProto</c>.</summary>
    internal static class ValueInfo
    {
        public const int Name = 1; // string
        public const int Type = 2; // TypeProto
        public const int DocString = 3;
    }

    /// <summary><c>TypeProto</c>.</summary>
    internal static class Type
    {
        public const int TensorType = 1; // TypeProto.Tensor
        public const int Denotation = 6;
    }

    /// <summary><c>TypeProto.Tensor</c>.</summary>
    internal static class TensorType
    {
        public const int ElemType = 1; // int32 (TensorProto.DataType)
        public const int Shape = 2;    // TensorShapeProto
    }

    /// <summary><c>TensorShapeProto</c>.</summary>
    internal static class TensorShape
    {
        public const int Dim = 1; // repeated Dimension
    }

    /// <summary><c>TensorShapeProto.Dimension</c>.</summary>
    internal static class Dimension
    {
        public const int DimValue = 1; // int64
        public const int DimParam = 2; // string
        public const int Denotation = 3;
    }
}
