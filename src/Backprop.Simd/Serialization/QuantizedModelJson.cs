using System.Text.Json;
using Backprop.Simd.IO;

namespace Backprop.Simd.Serialization;

/// <summary>
/// Int8 model files: a <see cref="QuantizedNetwork"/> without the float network it came from, in JSON shaped like the
/// float model files (<see cref="ModelJson"/>):
/// <c>{"format": "backprop-int8", "version": 1, "sizes": [784, 30, 10], "codes": [...], "scales": [...],
/// "biases": [...], "cost": "LogLikelihoodCost", "activations": ["relu", "softmax"]}</c>. <c>codes[i]</c> is layer
/// <c>i + 1</c>'s weight codes as <c>sizes[i + 1]</c> rows of <c>sizes[i]</c> integers in [-127, 127] (the order of
/// the float file's <c>weights</c>), <c>scales[i]</c> and <c>biases[i]</c> its <c>sizes[i + 1]</c> row scales and
/// float biases (flat lists: network2.py cannot read this file anyway). A network with calibrated input scales
/// (<see cref="QuantizedNetwork.From(Network, Data.Dataset)"/>) is written as version 2, with <c>"inputScales"</c> (each
/// layer's input step, a positive float) and <c>"inputZeroPoints"</c> (integers from 0 to 127), one per layer; a
/// version 1 file has neither and loads with dynamic scales. Floats are written in their shortest form that
/// parses back to the same float, so a save and a load give the same network bit for bit.
/// </summary>
/// <remarks>
/// Reading checks the file before the network is built: valid JSON, each known key once, <c>format</c> and
/// <c>version</c>, the sizes (at least two, each at least 1), every array's length against them (so an absurd size
/// cannot cause a large allocation: the file must hold every number it claims), the cost and activations as
/// <see cref="ModelJson"/> checks them, and in version 2 the input scales (finite, positive, with a finite inverse)
/// and zero points; then, as each layer is read into it, every code an integer in [-127, 127], every scale a finite
/// non-negative float (0 only for a row of zero codes) and every bias finite. Errors are <see cref="InvalidDataException"/>s that start with
/// the file's name and the JSON path of the problem.
/// </remarks>
internal static class QuantizedModelJson
{
    /// <summary>The value of the <c>format</c> key that marks an int8 model file.</summary>
    public const string Format = "backprop-int8";

    /// <summary>The <c>version</c> of a file with dynamic input scales.</summary>
    public const int Version = 1;

    /// <summary>The <c>version</c> of a file with calibrated input scales (older readers refuse it rather than run it dynamically).</summary>
    public const int CalibratedVersion = 2;

    private static readonly string[] Keys = ["format", "version", "sizes", "codes", "scales", "biases", "cost", "activations"];

    private static readonly string[] CalibrationKeys = ["inputScales", "inputZeroPoints"];

    /// <summary>Writes <paramref name="network"/> to <paramref name="path"/> atomically (<see cref="SafeFile.WriteAtomically"/>).</summary>
    public static void Save(QuantizedNetwork network, string path) => SafeFile.WriteAtomically(path, file => Write(network, file));

    /// <summary>Reads an int8 model file.</summary>
    public static QuantizedNetwork Load(string path) => Parse(SafeFile.ReadAll(path, ModelJson.MaxFileBytes, "int8 model"), path);

    /// <summary>Whether <paramref name="json"/> is an object whose top-level <c>format</c> is <see cref="Format"/>:
    /// how a reader tells an int8 model file from a float one. False for anything that is not JSON.</summary>
    public static bool IsQuantized(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool format = reader.ValueTextEquals("format"u8);
                reader.Read();
                if (format)
                {
                    return reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(Format);
                }

                reader.Skip();
            }

            return false;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    public static void Write(QuantizedNetwork network, Stream destination)
    {
        using var writer = new Utf8JsonWriter(destination);
        writer.WriteStartObject();
        writer.WriteString("format"u8, Format);
        writer.WriteNumber("version"u8, network.IsCalibrated ? CalibratedVersion : Version);
        writer.WriteStartArray("sizes"u8);
        foreach (int size in network.Sizes)
        {
            writer.WriteNumberValue(size);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("codes"u8);
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            sbyte[] codes = network.RowCodes(l);
            int cols = network.Sizes[l - 1];
            writer.WriteStartArray();
            for (int row = 0; row < codes.Length; row += cols)
            {
                writer.WriteStartArray();
                foreach (sbyte code in codes.AsSpan(row, cols))
                {
                    writer.WriteNumberValue(code);
                }

                writer.WriteEndArray();
                if (writer.BytesPending >= 1 << 16)
                {
                    writer.Flush();
                }
            }

            writer.WriteEndArray();
        }

        writer.WriteEndArray();
        WriteLayers(writer, "scales"u8, network, network.ScalesOf);
        WriteLayers(writer, "biases"u8, network, network.BiasesOf);
        writer.WriteString("cost"u8, ModelJson.CostName(network.Cost));
        writer.WriteStartArray("activations"u8);
        foreach (Activation activation in network.Activations)
        {
            writer.WriteStringValue(ModelJson.ActivationName(activation));
        }

        writer.WriteEndArray();
        if (network.IsCalibrated)
        {
            writer.WriteStartArray("inputScales"u8);
            for (int l = 1; l <= network.OutputLayer; l++)
            {
                writer.WriteNumberValue(network.InputScaleOf(l)!.Value.Scale);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("inputZeroPoints"u8);
            for (int l = 1; l <= network.OutputLayer; l++)
            {
                writer.WriteNumberValue(network.InputScaleOf(l)!.Value.ZeroPoint);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.Flush();
    }

    private delegate ReadOnlySpan<float> LayerValues(int layer);

    private static void WriteLayers(Utf8JsonWriter writer, ReadOnlySpan<byte> key, QuantizedNetwork network, LayerValues values)
    {
        writer.WriteStartArray(key);
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            writer.WriteStartArray();
            foreach (float value in values(l))
            {
                writer.WriteNumberValue(value); // shortest round-trip form
            }

            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }

    public static QuantizedNetwork Parse(ReadOnlyMemory<byte> json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: is not valid JSON ({e.Message}).", e);
        }

        using (document)
        {
            return Parse(document.RootElement, source);
        }
    }

    private static QuantizedNetwork Parse(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, "$", $"is {Describe(root)}, expected an object with the keys {string.Join(", ", Keys)}");
        }

        var found = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if ((System.Array.IndexOf(Keys, property.Name) >= 0 || System.Array.IndexOf(CalibrationKeys, property.Name) >= 0) && !found.TryAdd(property.Name, property.Value))
            {
                throw Error(source, $"$.{property.Name}", "appears twice, expected each key once");
            }
        }

        foreach (string key in Keys)
        {
            if (!found.ContainsKey(key))
            {
                throw Error(source, "$", $"has no \"{key}\", expected an int8 model file (format \"{Format}\")");
            }
        }

        if (found["format"].ValueKind != JsonValueKind.String || found["format"].GetString() != Format)
        {
            throw Error(source, "$.format", $"is {Describe(found["format"])}, expected \"{Format}\"");
        }

        if (!found["version"].TryGetInt32(out int version) || version is not (Version or CalibratedVersion))
        {
            throw Error(source, "$.version", $"is {Describe(found["version"])}, expected {Version} (dynamic input scales) or {CalibratedVersion} (calibrated)");
        }

        foreach (string key in CalibrationKeys)
        {
            if (found.ContainsKey(key) != (version == CalibratedVersion))
            {
                throw version == CalibratedVersion
                    ? Error(source, "$", $"has no \"{key}\", expected one in a version {CalibratedVersion} file (calibrated input scales)")
                    : Error(source, $"$.{key}", $"is in a version {Version} file, expected only in version {CalibratedVersion} (calibrated input scales)");
            }
        }

        int[] sizes = Sizes(found["sizes"], source);
        int layers = sizes.Length - 1;
        // Elements in lists (indexing a JSON array of arrays walks it): each list as long as the file's elements.
        JsonElement[] codes = Items(found["codes"], "$.codes", layers, source), scales = Items(found["scales"], "$.scales", layers, source);
        JsonElement[] biases = Items(found["biases"], "$.biases", layers, source);
        var rows = new JsonElement[layers][];
        for (int l = 1; l <= layers; l++)
        {
            // Every length first: only then is it known that the file holds all the numbers its sizes promise.
            rows[l - 1] = Items(codes[l - 1], $"$.codes[{l - 1}]", sizes[l], source);
            for (int j = 0; j < sizes[l]; j++)
            {
                _ = Array(rows[l - 1][j], $"$.codes[{l - 1}][{j}]", sizes[l - 1], source);
            }

            scales[l - 1] = Array(scales[l - 1], $"$.scales[{l - 1}]", sizes[l], source);
            biases[l - 1] = Array(biases[l - 1], $"$.biases[{l - 1}]", sizes[l], source);
        }

        CostFunction cost = found["cost"].ValueKind == JsonValueKind.String && ModelJson.TryParseCost(found["cost"].GetString(), out CostFunction c)
            ? c
            : throw Error(source, "$.cost", $"is {Describe(found["cost"])}, expected \"{ModelJson.QuadraticCost}\", \"{ModelJson.CrossEntropyCost}\" or \"{ModelJson.LogLikelihoodCost}\"");
        JsonElement[] names = Items(found["activations"], "$.activations", layers, source);
        var activations = new Activation[layers];
        for (int l = 0; l < layers; l++)
        {
            activations[l] = names[l].ValueKind == JsonValueKind.String && ModelJson.TryParseActivation(names[l].GetString(), out Activation a)
                ? a
                : throw Error(source, $"$.activations[{l}]", $"is {Describe(names[l])}, expected one of {string.Join(", ", ModelJson.ActivationNames)}");
        }

        ActivationScale[]? inputScales = version == CalibratedVersion ? InputScales(found["inputScales"], found["inputZeroPoints"], layers, source) : null;
        QuantizedNetwork network;
        try
        {
            Network.CheckArchitecture(activations, cost);
            network = QuantizedNetwork.Empty(new Layout(sizes), cost, activations, "sizes");
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }

        for (int l = 1; l <= layers; l++)
        {
            ReadLayer(network, l, rows[l - 1], scales[l - 1], biases[l - 1], source);
        }

        if (inputScales is not null)
        {
            network.SetInputScales(inputScales);
        }

        return network;
    }

    private static void ReadLayer(QuantizedNetwork network, int l, JsonElement[] rows, JsonElement scaleList, JsonElement biasList, string source)
    {
        int n = network.Sizes[l], cols = network.Sizes[l - 1];
        var codes = new sbyte[n * cols]; // the file holds these numbers: its length bounds this
        var scales = new float[n];
        var biases = new float[n];
        JsonElement.ArrayEnumerator scaleItems = scaleList.EnumerateArray(), biasItems = biasList.EnumerateArray(); // lengths checked
        for (int j = 0; j < n; j++)
        {
            scaleItems.MoveNext();
            biasItems.MoveNext();
            bool zeroRow = true;
            int k = 0;
            foreach (JsonElement value in rows[j].EnumerateArray())
            {
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int code) || code < -127 || code > 127)
                {
                    throw Error(source, $"$.codes[{l - 1}][{j}][{k}]", $"is {Describe(value)}, expected an integer from -127 to 127");
                }

                codes[(j * cols) + k++] = (sbyte)code;
                zeroRow &= code == 0;
            }

            scales[j] = Float(scaleItems.Current, $"$.scales[{l - 1}][{j}]", source, nonNegative: true);
            if (scales[j] == 0 && !zeroRow)
            {
                throw Error(source, $"$.scales[{l - 1}][{j}]", "is 0, but the row's codes are not all 0; expected a positive scale");
            }

            biases[j] = Float(biasItems.Current, $"$.biases[{l - 1}][{j}]", source, nonNegative: false);
        }

        network.SetLayer(l, codes, scales, biases);
    }

    // One step and zero point per layer; index l for layer l, as QuantizedNetwork keeps them.
    private static ActivationScale[] InputScales(JsonElement steps, JsonElement zeroPoints, int layers, string source)
    {
        JsonElement[] stepItems = Items(steps, "$.inputScales", layers, source), zeroItems = Items(zeroPoints, "$.inputZeroPoints", layers, source);
        var scales = new ActivationScale[layers + 1];
        for (int l = 1; l <= layers; l++)
        {
            JsonElement step = stepItems[l - 1], zero = zeroItems[l - 1];
            if (zero.ValueKind != JsonValueKind.Number || !zero.TryGetInt32(out int zeroPoint) || zeroPoint is < 0 or > 127)
            {
                throw Error(source, $"$.inputZeroPoints[{l - 1}]", $"is {Describe(zero)}, expected an integer from 0 to 127");
            }

            scales[l] = step.ValueKind == JsonValueKind.Number && step.TryGetSingle(out float value) && ActivationScale.Fixed(value, zeroPoint) is { } scale
                ? scale
                : throw Error(source, $"$.inputScales[{l - 1}]", $"is {Describe(step)}, expected a positive finite float whose inverse is finite");
        }

        return scales;
    }

    private static int[] Sizes(JsonElement element, string source)
    {
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() < 2)
        {
            throw Error(source, "$.sizes", $"is {Describe(element)}, expected an array of at least 2 layer sizes");
        }

        var sizes = new int[element.GetArrayLength()]; // the file holds these numbers too
        int i = 0;
        foreach (JsonElement size in element.EnumerateArray())
        {
            if (size.ValueKind != JsonValueKind.Number || !size.TryGetInt32(out sizes[i]) || sizes[i] < 1)
            {
                throw Error(source, $"$.sizes[{i}]", $"is {Describe(size)}, expected a whole number from 1 to {int.MaxValue}");
            }

            i++;
        }

        return sizes;
    }

    private static JsonElement[] Items(JsonElement element, string path, int length, string source) => [.. Array(element, path, length, source).EnumerateArray()];

    private static JsonElement Array(JsonElement element, string path, int length, string source) =>
        element.ValueKind == JsonValueKind.Array && element.GetArrayLength() == length
            ? element
            : throw Error(source, path, $"is {Describe(element)}, expected an array of {length} (from $.sizes)");

    private static float Float(JsonElement element, string path, string source, bool nonNegative) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetSingle(out float value) && float.IsFinite(value) && !(nonNegative && value < 0)
            ? value
            : throw Error(source, path, $"is {Describe(element)}, expected a finite{(nonNegative ? " non-negative" : "")} float");

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => $"an array of {element.GetArrayLength()}",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => $"the string {Clip(element.GetRawText())}",
        JsonValueKind.Number => Clip(element.GetRawText()),
        _ => element.GetRawText(),
    };

    private static string Clip(string text) => text.Length <= 40 ? text : $"{text[..40]}...";

    private static InvalidDataException Error(string source, string path, string problem) => new($"{source}: {path} {problem}.");
}
