using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Backprop.Simd.Serialization;

/// <summary>
/// Parses and validates a network2.py model file held in memory. Two passes over the bytes: the first checks the
/// JSON syntax, reads <c>sizes</c>, <c>cost</c> and <c>activations</c> and notes where <c>weights</c> and
/// <c>biases</c> are (the keys may come in any order); then the architecture is checked, and the second pass reads
/// the parameters layer by layer, row by row, against the sizes.
/// </summary>
internal static class ModelJsonReader
{
    private static readonly JsonReaderOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>Where a value lies in the file.</summary>
    private readonly record struct Extent(int Start, int Length);

    private sealed class Fields
    {
        public int[]? Sizes;
        public string? Cost;
        public Activation[]? Activations;
        public Extent? Weights;
        public Extent? Biases;
    }

    public static Network Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            return ParseChecked(json, source);
        }
        catch (UndecodableStringException e)
        {
            throw new InvalidDataException($"{source}: holds a JSON string that is not valid text: {e.InnerException!.Message}", e.InnerException);
        }
    }

    /// <summary>The current string token's text; <see cref="UndecodableStringException"/> when it cannot be decoded.</summary>
    private static string ReadString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            // GetString refuses a string it cannot decode, such as an escaped lone surrogate "\uD800". Only this
            // failure becomes "not valid text"; an InvalidOperationException from anywhere else stays what it is.
            throw new UndecodableStringException(e);
        }
    }

    /// <summary>Whether the current property name is <paramref name="name"/>; <see cref="UndecodableStringException"/>
    /// when the name cannot be decoded (comparing unescapes it, as <see cref="ReadString"/> does).</summary>
    private static bool NameIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        try
        {
            return reader.ValueTextEquals(name);
        }
        catch (InvalidOperationException e)
        {
            throw new UndecodableStringException(e);
        }
    }

    /// <summary>Carries <see cref="ReadString"/>'s and <see cref="NameIs"/>'s failure to <see cref="Parse"/>, which knows the source to name.</summary>
    private sealed class UndecodableStringException(InvalidOperationException inner) : Exception(inner.Message, inner);

    private static Network ParseChecked(ReadOnlySpan<byte> json, string source)
    {
        if (json.StartsWith("\uFEFF"u8))
        {
            json = json[3..]; // a UTF-8 byte order mark, as some editors write
        }

        // The JSON reader checks UTF-8 only where a string is decoded, and an ignored key never is: check it all.
        if (!Utf8.IsValid(json))
        {
            throw InvalidUtf8(json, source);
        }

        Fields fields = Scan(json, source);
        CheckPresent(fields, source);
        int[] sizes = fields.Sizes!;
        if (!Names.JsonCosts.TryParse(fields.Cost, out CostFunction cost))
        {
            throw Invalid(source, "$.cost", $"is \"{Shorten(fields.Cost!)}\", expected {Names.JsonCosts.Quoted("or")}");
        }

        Activation[] activations = CheckArchitecture(fields.Activations, cost, fields.Cost!, sizes, source);

        Extent weights = fields.Weights!.Value, biases = fields.Biases!.Value;
        ReadOnlySpan<byte> weightsJson = json.Slice(weights.Start, weights.Length);
        ReadOnlySpan<byte> biasesJson = json.Slice(biases.Start, biases.Length);
        CheckLayerCount(weightsJson, "weights", "weight matrix", "weight matrices", sizes, source);
        CheckLayerCount(biasesJson, "biases", "bias vector", "bias vectors", sizes, source);

        // Every number takes at least one byte, so a valid file has no more parameters than those bytes. Only then is
        // the arena allocated; otherwise the reads below find the file's own shape error without storing anything.
        var layout = new Layout(sizes);
        float[]? arena = layout.ParameterCount <= (long)weights.Length + biases.Length ? new float[layout.ParameterCount] : null;
        ReadWeights(weightsJson, layout, arena, source);
        ReadBiases(biasesJson, layout, arena, source);
        return new Network(sizes, arena!, activations, cost); // reads that succeed have seen every parameter, a byte or more each: the arena exists
    }

    private static Fields Scan(ReadOnlySpan<byte> json, string source)
    {
        var fields = new Fields();
        var reader = new Utf8JsonReader(json, Options);
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw Invalid(source, "$", $"is {Describe(ref reader)}, expected a JSON object with the keys sizes, weights, biases and cost");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (NameIs(ref reader, "sizes"u8))
                {
                    CheckFirst(fields.Sizes is null, "sizes", source);
                    reader.Read();
                    fields.Sizes = ReadSizes(ref reader, source);
                }
                else if (NameIs(ref reader, "weights"u8))
                {
                    CheckFirst(fields.Weights is null, "weights", source);
                    fields.Weights = SkipValue(ref reader);
                }
                else if (NameIs(ref reader, "biases"u8))
                {
                    CheckFirst(fields.Biases is null, "biases", source);
                    fields.Biases = SkipValue(ref reader);
                }
                else if (NameIs(ref reader, "cost"u8))
                {
                    CheckFirst(fields.Cost is null, "cost", source);
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw Invalid(source, "$.cost", $"is {Describe(ref reader)}, expected a string, {Names.JsonCosts.Quoted("or")}");
                    }

                    fields.Cost = ReadString(ref reader);
                }
                else if (NameIs(ref reader, "activations"u8))
                {
                    CheckFirst(fields.Activations is null, "activations", source);
                    reader.Read();
                    fields.Activations = ReadActivations(ref reader, source);
                }
                else
                {
                    SkipValue(ref reader); // a key from a later version of the format, or someone else's
                }
            }

            reader.Read(); // after the object: only whitespace may follow, anything else throws
        }
        catch (JsonException e)
        {
            throw Malformed(json, source, e);
        }

        return fields;
    }

    private static Extent SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        int start = (int)reader.TokenStartIndex;
        reader.Skip();
        return new Extent(start, (int)reader.BytesConsumed - start);
    }

    private static void CheckFirst(bool first, string key, string source)
    {
        if (!first)
        {
            throw Invalid(source, "$." + key, "appears twice, expected each key once");
        }
    }

    private static void CheckPresent(Fields fields, string source)
    {
        var missing = new List<string>();
        if (fields.Sizes is null)
        {
            missing.Add("\"sizes\"");
        }

        if (fields.Weights is null)
        {
            missing.Add("\"weights\"");
        }

        if (fields.Biases is null)
        {
            missing.Add("\"biases\"");
        }

        if (fields.Cost is null)
        {
            missing.Add("\"cost\"");
        }

        if (missing.Count > 0)
        {
            throw Invalid(source, "$", $"is missing the key{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)}; a network2.py model has sizes, weights, biases and cost");
        }
    }

    private static int[] ReadSizes(ref Utf8JsonReader reader, string source)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Invalid(source, "$.sizes", $"is {Describe(ref reader)}, expected an array of layer sizes such as [784, 30, 10]");
        }

        var sizes = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            string path = $"$.sizes[{sizes.Count}]";
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int size))
            {
                throw Invalid(source, path, $"is {Describe(ref reader)}, expected a layer size: an integer such as 30, at least 1");
            }

            if (size < 1)
            {
                throw Invalid(source, path, $"is {size}, expected a layer size of at least 1");
            }

            sizes.Add(size);
        }

        if (sizes.Count < 2)
        {
            throw Invalid(source, "$.sizes", $"has {Count(sizes.Count, "layer")}, expected at least 2 (an input and an output layer)");
        }

        Int128 parameters = 0; // a product of two sizes fits in a long, but a sum over many layers might not
        for (int l = 1; l < sizes.Count; l++)
        {
            parameters += ((long)sizes[l] * sizes[l - 1]) + sizes[l];
        }

        if (parameters > Array.MaxLength)
        {
            throw Invalid(source, "$.sizes", $"[{string.Join(", ", sizes)}] describe {parameters} parameters, more than one array can hold ({Array.MaxLength})");
        }

        return sizes.ToArray();
    }

    /// <summary>Reads <c>activations</c>: an array of known activation names (its length is checked once the sizes are known).</summary>
    private static Activation[] ReadActivations(ref Utf8JsonReader reader, string source)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Invalid(source, "$.activations", $"is {Describe(ref reader)}, expected an array with one activation name per layer after the input, such as [\"relu\", \"softmax\"]");
        }

        var activations = new List<Activation>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            string path = $"$.activations[{activations.Count}]";
            if (reader.TokenType != JsonTokenType.String)
            {
                throw Invalid(source, path, $"is {Describe(ref reader)}, expected an activation name: one of {Names.QuotedActivationChoices()}");
            }

            string name = ReadString(ref reader);
            if (!Names.TryParseActivation(name, out Activation activation))
            {
                throw Invalid(source, path, $"is \"{Shorten(name)}\", expected one of {Names.QuotedActivationChoices()}");
            }

            activations.Add(activation);
        }

        return activations.ToArray();
    }

    /// <summary>
    /// The activation of every layer after the input (all sigmoid when the file has no <c>activations</c>), once they
    /// are known to be one per such layer and to go with the cost (<see cref="Network.CheckArchitecture"/>).
    /// </summary>
    private static Activation[] CheckArchitecture(Activation[]? activations, CostFunction cost, string costName, int[] sizes, string source)
    {
        int layers = sizes.Length - 1;
        if (activations is not null && activations.Length != layers)
        {
            throw Invalid(source, "$.activations", $"has {Count(activations.Length, "name")}, expected {layers}, one per layer after the input of sizes [{string.Join(", ", sizes)}]");
        }

        Activation[] resolved = activations ?? new Activation[layers]; // absent: network2.py's all-sigmoid network
        try
        {
            Network.CheckArchitecture(resolved, cost);
        }
        catch (ArgumentException e)
        {
            string problem = e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
            string described = activations is null
                ? $"$ has no \"activations\" (so every layer is sigmoid, as in network2.py), which does not go with $.cost \"{costName}\""
                : $"$.activations [{Names.Of(resolved)}] and $.cost \"{costName}\" do not go together";
            throw new InvalidDataException($"{source}: {described}: {problem}", e);
        }

        return resolved;
    }

    /// <summary>Checks that <c>weights</c> or <c>biases</c> is an array with one entry per layer after the input.</summary>
    private static void CheckLayerCount(ReadOnlySpan<byte> json, string key, string entry, string entries, int[] sizes, string source)
    {
        var reader = new Utf8JsonReader(json, Options);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Invalid(source, "$." + key, $"is {Describe(ref reader)}, expected an array with one {entry} per layer after the input");
        }

        int count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            reader.Skip();
            count++;
        }

        if (count != sizes.Length - 1)
        {
            throw Invalid(source, "$." + key, $"has {Count(count, entry, entries)}, expected {sizes.Length - 1}, one per layer after the input of sizes [{string.Join(", ", sizes)}]");
        }
    }

    private static void ReadWeights(ReadOnlySpan<byte> json, Layout layout, float[]? arena, string source)
    {
        var reader = new Utf8JsonReader(json, Options);
        reader.Read(); // the outer array; its length was checked
        for (int l = 1; l <= layout.OutputLayer; l++)
        {
            reader.Read();
            int rows = layout.Sizes[l], cols = layout.Sizes[l - 1];
            string layerPath = $"$.weights[{l - 1}]";
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw Invalid(source, layerPath, $"is {Describe(ref reader)}, expected layer {l}'s weight matrix: a list of {rows} rows (sizes[{l}]) of {cols} numbers (sizes[{l - 1}])");
            }

            Span<float> destination = arena is null ? default : arena.AsSpan(layout.WeightOffset(l), rows * cols);
            int row = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (row >= rows)
                {
                    reader.Skip(); // count them all for the message
                }
                else if (reader.TokenType != JsonTokenType.StartArray)
                {
                    throw Invalid(source, $"{layerPath}[{row}]", $"is {Describe(ref reader)}, expected row {row} of layer {l}'s weights: a list of {cols} numbers (sizes[{l - 1}])");
                }
                else
                {
                    int col = 0;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (col < cols)
                        {
                            float w = ReadFloat(ref reader, source, $"{layerPath}[{row}][{col}]");
                            if (!destination.IsEmpty)
                            {
                                destination[(row * cols) + col] = w;
                            }
                        }
                        else
                        {
                            reader.Skip();
                        }

                        col++;
                    }

                    if (col != cols)
                    {
                        throw Invalid(source, $"{layerPath}[{row}]", $"has {Count(col, "number")}, expected {cols}: row {row} of layer {l}'s weights has one weight per neuron of layer {l - 1} (sizes[{l - 1}] = {cols})");
                    }
                }

                row++;
            }

            if (row != rows)
            {
                throw Invalid(source, layerPath, $"has {Count(row, "row")}, expected {rows}: layer {l}'s weight matrix has one row per neuron of layer {l} (sizes[{l}] = {rows})");
            }
        }
    }

    private static void ReadBiases(ReadOnlySpan<byte> json, Layout layout, float[]? arena, string source)
    {
        var reader = new Utf8JsonReader(json, Options);
        reader.Read(); // the outer array; its length was checked
        for (int l = 1; l <= layout.OutputLayer; l++)
        {
            reader.Read();
            int rows = layout.Sizes[l];
            string layerPath = $"$.biases[{l - 1}]";
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw Invalid(source, layerPath, $"is {Describe(ref reader)}, expected layer {l}'s biases: a list of {rows} one-element lists [b] (sizes[{l}] = {rows})");
            }

            Span<float> destination = arena is null ? default : arena.AsSpan(layout.BiasOffset(l), rows);
            int row = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (row >= rows)
                {
                    reader.Skip();
                }
                else if (reader.TokenType != JsonTokenType.StartArray)
                {
                    throw Invalid(source, $"{layerPath}[{row}]", $"is {Describe(ref reader)}, expected a one-element list [b] (network2.py stores each bias as a column vector)");
                }
                else
                {
                    int count = 0;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (count == 0)
                        {
                            float b = ReadFloat(ref reader, source, $"{layerPath}[{row}][0]");
                            if (!destination.IsEmpty)
                            {
                                destination[row] = b;
                            }
                        }
                        else
                        {
                            reader.Skip();
                        }

                        count++;
                    }

                    if (count != 1)
                    {
                        throw Invalid(source, $"{layerPath}[{row}]", $"has {Count(count, "number")}, expected a one-element list [b]");
                    }
                }

                row++;
            }

            if (row != rows)
            {
                throw Invalid(source, layerPath, $"has {Count(row, "bias", "biases")}, expected {rows}: one per neuron of layer {l} (sizes[{l}] = {rows})");
            }
        }
    }

    private static float ReadFloat(ref Utf8JsonReader reader, string source, string path)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            // A JSON number is always valid for NumberStyles.Float; parsing the text directly rounds it once, to the nearest float.
            float value = float.Parse(reader.ValueSpan, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (!float.IsFinite(value))
            {
                throw Invalid(source, path, $"is {Encoding.UTF8.GetString(reader.ValueSpan)}, outside float's range (magnitudes up to {float.MaxValue.ToString(CultureInfo.InvariantCulture)})");
            }

            return value;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            string text = ReadString(ref reader);
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) && !double.IsFinite(number))
            {
                throw Invalid(source, path, $"is the string \"{Shorten(text)}\", expected a finite number: NaN and infinities are not allowed");
            }
        }

        throw Invalid(source, path, $"is {Describe(ref reader)}, expected a number");
    }

    /// <summary>What the current token is, for an error message: a number's or string's text, or the kind of value.</summary>
    private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number => Shorten(Encoding.UTF8.GetString(reader.ValueSpan)),
        JsonTokenType.String => $"the string \"{Shorten(ReadString(ref reader))}\"",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        var other => other.ToString(),
    };

    private static string Count(int count, string noun, string? plural = null) =>
        $"{count} {(count == 1 ? noun : plural ?? noun + "s")}";

    // A string from the file, cut to 40 characters and made printable.
    private static string Shorten(string text) => Printable(text.Length <= 40 ? text : text[..40] + "...");

    // Control characters (a line break, a terminal escape) as \uXXXX, so that a message quoting the file stays on one line.
    private static string Printable(string text) =>
        text.Any(IsUnsafe) ? string.Concat(text.Select(c => IsUnsafe(c) ? $"\\u{(int)c:X4}" : c.ToString())) : text;

    private static bool IsUnsafe(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    private static InvalidDataException Invalid(string source, string path, string problem) =>
        new($"{source}: {path} {problem}.");

    /// <summary>The reader's complaint, with its position made 1-based and a plainer word for Python's non-finite literals.</summary>
    private static InvalidDataException Malformed(ReadOnlySpan<byte> json, string source, JsonException error)
    {
        long line = error.LineNumber ?? 0, column = error.BytePositionInLine ?? 0;
        string message = error.Message;
        int suffix = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (suffix > 0)
        {
            message = message[..suffix];
        }

        ReadOnlySpan<byte> rest = json[Offset(json, line, column)..];
        if (json.IndexOfAnyExcept(Whitespace) < 0)
        {
            message = "the data is empty, expected a JSON object.";
        }
        else if (rest.StartsWith("NaN"u8) || rest.StartsWith("Infinity"u8) || rest.StartsWith("-Infinity"u8))
        {
            message = "NaN, Infinity and -Infinity (which Python's json module writes for non-finite floats) are not JSON, and a model's parameters must be finite.";
        }
        else if (rest.IndexOfAnyExcept(NumberOrWhitespace) < 0)
        {
            message += " The data ends before the JSON does: is the file truncated?"; // nothing left but (part of) a number
        }

        // The reader's message may quote the file (an invalid literal and what follows it): keep that on one line.
        return new InvalidDataException($"{source}: not valid JSON at line {line + 1}, byte {column + 1}: {Printable(message)}", error);
    }

    /// <summary>Where the first byte that is not UTF-8 is, as a 1-based line and byte.</summary>
    private static InvalidDataException InvalidUtf8(ReadOnlySpan<byte> json, string source)
    {
        int at = 0;
        while (at < json.Length && Rune.DecodeFromUtf8(json[at..], out _, out int consumed) == System.Buffers.OperationStatus.Done)
        {
            at += consumed;
        }

        int line = json[..at].Count((byte)'\n') + 1;
        int column = at - (json[..at].LastIndexOf((byte)'\n') + 1) + 1;
        string found = at < json.Length ? $"0x{json[at]:X2}" : "the end of the data";
        return new InvalidDataException($"{source}: not valid UTF-8 at line {line}, byte {column}: {found} does not begin or complete a UTF-8 character; a model file is UTF-8 JSON.");
    }

    private static ReadOnlySpan<byte> Whitespace => " \t\r\n"u8;

    private static ReadOnlySpan<byte> NumberOrWhitespace => "0123456789+-.eE \t\r\n"u8;

    private static int Offset(ReadOnlySpan<byte> json, long line, long column)
    {
        int start = 0;
        for (long l = 0; l < line; l++)
        {
            int newline = json[start..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                return json.Length;
            }

            start += newline + 1;
        }

        return (int)Math.Min(start + column, json.Length);
    }
}
