namespace Backprop.Simd.Onnx.Import;

/// <summary>
/// Every constant value of the graph by name: the initializers (read from the file's bytes the first time they are
/// used), what <see cref="ConstantEvaluator"/> computed from them, and the values it could not compute, which are an
/// error only if something uses them. The values computed are capped in total by the size of the model, so that a
/// small file cannot make the importer allocate far more than it holds.
/// </summary>
internal sealed class Constants(OnnxModelProto model, Failures fail)
{
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private long _budget = model.Data.Length + (1L << 20);

    /// <summary>The model's bytes, which raw tensor data points into.</summary>
    public byte[] Data => model.Data;

    public bool Contains(string name) => _slots.ContainsKey(name);

    public void AddInitializer(OnnxTensor tensor) => _slots.Add(tensor.Name, new Slot { Source = tensor });

    public void Define(string name, ConstTensor value) => _slots.Add(name, new Slot { Value = value });

    /// <summary><paramref name="name"/> is another name of <paramref name="existing"/> (an <c>Identity</c>).</summary>
    public void Alias(string name, string existing) => _slots.Add(name, _slots[existing]);

    /// <summary>Records that <paramref name="name"/> could not be computed; <paramref name="why"/> completes "'name', which ...".</summary>
    public void Unknown(string name, string why) => _slots.Add(name, new Slot { Unknown = why });

    /// <summary>The value of <paramref name="name"/>, which <paramref name="user"/> takes as <paramref name="what"/>.</summary>
    public ConstTensor Get(string name, OnnxNode user, string what)
    {
        if (!_slots.TryGetValue(name, out Slot? slot))
        {
            throw fail.At(user.Describe, name.Length == 0 ? $"has no {what} (its input name is empty)" : $"takes {what} from '{name}', which is not a constant");
        }

        if (slot.Unknown is { } why)
        {
            throw fail.At(user.Describe, $"takes {what} from '{name}', which {why}");
        }

        if (slot.Value is null)
        {
            slot.Value = ConstTensor.Read(slot.Source!, model.Data, fail); // checks the data's length before allocating
            Reserve(slot.Value.Count, slot.Source!.Describe);
        }

        return slot.Value;
    }

    /// <summary>The initializer <paramref name="name"/> stands for, if it is one (directly or through <c>Identity</c>).</summary>
    public OnnxTensor? SourceOf(string name) => _slots.TryGetValue(name, out Slot? slot) ? slot.Source : null;

    /// <summary>Counts <paramref name="count"/> more values against the cap before they are allocated.</summary>
    public void Reserve(long count, string where)
    {
        _budget -= count;
        if (_budget < 0)
        {
            throw fail.At(where, $"makes the constants of the model hold more values than its {model.Data.Length} bytes justify");
        }
    }

    private sealed class Slot
    {
        public OnnxTensor? Source { get; init; }

        public ConstTensor? Value { get; set; }

        public string? Unknown { get; init; }
    }
}
