using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Onnx.Import;

/// <summary>
/// The attributes of one node, checked against the names the operator has: an attribute the importer does not
/// know is an error naming it, and each value is read with its type checked.
/// </summary>
internal readonly struct NodeAttributes
{
    private readonly OnnxNode _node;
    private readonly Failures _fail;

    /// <summary>Checks that every attribute of <paramref name="node"/> is one of <paramref name="known"/>.</summary>
    public NodeAttributes(OnnxNode node, Failures fail, params string[] known)
    {
        _node = node;
        _fail = fail;
        foreach (OnnxAttribute attribute in node.Attributes)
        {
            if (Array.IndexOf(known, attribute.Name) < 0)
            {
                throw fail.At(attribute.Path, $"'{attribute.Name}' of {node.Describe} is not supported (the importer knows: {(known.Length == 0 ? "none" : string.Join(", ", known))})");
            }
        }
    }

    public OnnxAttribute? Find(string name)
    {
        OnnxAttribute? found = null;
        foreach (OnnxAttribute attribute in _node.Attributes)
        {
            if (attribute.Name == name)
            {
                found = attribute; // the last one wins, as in protobuf
            }
        }

        return found;
    }

    public float Float(string name, float fallback)
    {
        if (Find(name) is not { } attribute)
        {
            return fallback;
        }

        if (attribute.F is float value && attribute.Type is S.AttributeType.Float or S.AttributeType.Undefined)
        {
            return value;
        }

        throw _fail.At(attribute.Path, $"'{name}' of {_node.Describe} has type {attribute.Type}{(attribute.F is null ? " and no float value" : "")}, expected a FLOAT attribute (type 1, field f)");
    }

    public long Int(string name, long fallback)
    {
        if (Find(name) is not { } attribute)
        {
            return fallback;
        }

        if (attribute.I is long value && attribute.Type is S.AttributeType.Int or S.AttributeType.Undefined)
        {
            return value;
        }

        throw _fail.At(attribute.Path, $"'{name}' of {_node.Describe} has type {attribute.Type}{(attribute.I is null ? " and no int value" : "")}, expected an INT attribute (type 2, field i)");
    }

    public long[]? Ints(string name)
    {
        if (Find(name) is not { } attribute)
        {
            return null;
        }

        if (attribute.Type is S.AttributeType.Ints or S.AttributeType.Undefined && attribute.I is null && !attribute.HasOtherValue)
        {
            return attribute.Ints ?? [];
        }

        throw _fail.At(attribute.Path, $"'{name}' of {_node.Describe} has type {attribute.Type}, expected an INTS attribute (type 7, field ints)");
    }
}
