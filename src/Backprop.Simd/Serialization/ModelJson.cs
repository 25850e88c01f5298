using System.Text.Json;

namespace Backprop.Simd.Serialization;

/// <summary>A network read from a model file, together with the name of the cost function it was trained with.</summary>
/// <param name="Network">The network, with the file's sizes and parameters.</param>
/// <param name="Cost">The file's <c>cost</c>: <see cref="ModelJson.QuadraticCost"/> or <see cref="ModelJson.CrossEntropyCost"/>.</param>
public sealed record SavedModel(Network Network, string Cost);

/// <summary>
/// Model files in the JSON layout of Nielsen's network2.py <c>save</c>, readable by its <c>load</c> and back:
/// <c>{"sizes": [784, 30, 10], "weights": [...], "biases": [...], "cost": "QuadraticCost"}</c>, where
/// <c>weights[i]</c> is the weight matrix of layer <c>i + 1</c> as <c>sizes[i + 1]</c> rows of <c>sizes[i]</c> numbers
/// (row <c>j</c> holds the weights into neuron <c>j</c>, the order of <see cref="Network.Weights"/>) and
/// <c>biases[i]</c> is that layer's bias vector as <c>sizes[i + 1]</c> one-element lists <c>[b]</c>.
/// </summary>
/// <remarks>
/// <para>Writing: every float is written in its shortest form that parses back to the same float, so saving and
/// loading gives bit-identical parameters (including <c>-0</c>, subnormals and <see cref="float.MaxValue"/>). The
/// keys come in network2.py's order, without indentation.</para>
/// <para>Reading accepts what Python's <c>json</c> module writes: any whitespace, keys in any order, unknown keys
/// (ignored), and float64 numbers, each rounded to the nearest float; a number beyond float's range is an error, one
/// too small for float becomes 0 (or a subnormal). Sizes must be integer literals: <c>784</c>, not <c>784.0</c>
/// (network2.py writes Python ints, and could not build a network from non-integer sizes either). A known key that
/// appears twice is an error rather than a silent choice. Every check happens before the network is built, and a
/// file's parameters are only stored once the sizes are known to fit the bytes that hold them, so an absurd
/// <c>sizes</c> entry cannot trigger a huge allocation.</para>
/// <para>Errors in a file are <see cref="InvalidDataException"/>s whose message starts with the file's name and the
/// JSON path of the problem (e.g. <c>$.weights[1][4]</c>), then says what was found and what was expected.</para>
/// </remarks>
public static class ModelJson
{
    /// <summary>network2.py's <c>QuadraticCost</c>: <c>C = 1/2 ||a - y||^2</c>, the cost <see cref="Training.Sgd"/> minimizes.</summary>
    public const string QuadraticCost = "QuadraticCost";

    /// <summary>network2.py's <c>CrossEntropyCost</c>: <c>C = sum(-y ln a - (1 - y) ln(1 - a))</c>.</summary>
    public const string CrossEntropyCost = "CrossEntropyCost";

    private const int FlushThreshold = 1 << 16; // bytes buffered by the writer before they go to the stream

    /// <summary>
    /// Saves <paramref name="network"/> to <paramref name="path"/> atomically: the model is written to a temporary
    /// file in the same directory, flushed to disk, then renamed over <paramref name="path"/>. A crash or an error
    /// therefore never leaves a half-written model behind: on failure the temporary file is deleted and an existing
    /// file at <paramref name="path"/> is left untouched.
    /// </summary>
    /// <param name="network">The network to save.</param>
    /// <param name="path">The model file to create or replace.</param>
    /// <param name="cost">The cost function to record: <see cref="QuadraticCost"/> or <see cref="CrossEntropyCost"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a directory, <paramref name="cost"/>
    /// is not one of the accepted names, or a parameter is NaN or infinite (JSON cannot represent it).</exception>
    /// <exception cref="IOException">The file could not be written or renamed (e.g. <see cref="DirectoryNotFoundException"/>).</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public static void Save(Network network, string path, string cost = QuadraticCost) => Save(network, path, cost, static file => file);

    /// <summary><see cref="Save(Network, string, string)"/> with a hook that lets tests wrap the temporary file's stream (e.g. to fail midway).</summary>
    internal static void Save(Network network, string path, string cost, Func<Stream, Stream> wrapFile)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckCost(cost);
        CheckFinite(network);
        string target = Path.GetFullPath(path);
        string name = Path.GetFileName(target);
        if (name.Length == 0)
        {
            throw new ArgumentException($"path '{path}' names a directory, expected the path of a model file.", nameof(path));
        }

        string directory = Path.GetDirectoryName(target) ?? throw new ArgumentException($"path '{path}' is a root directory, expected the path of a model file.", nameof(path));
        string temporary = Path.Combine(directory, $".{name}.{Guid.NewGuid():N}.tmp");
        bool renamed = false;
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 4096))
            {
                WriteUnchecked(network, wrapFile(file), cost);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
            renamed = true;
        }
        finally
        {
            if (!renamed)
            {
                DeleteQuietly(temporary);
            }
        }
    }

    /// <summary>Writes <paramref name="network"/> as a model file to <paramref name="destination"/>, which is flushed but not closed.</summary>
    /// <param name="network">The network to write.</param>
    /// <param name="destination">A writable stream; writing starts at its current position.</param>
    /// <param name="cost">The cost function to record: <see cref="QuadraticCost"/> or <see cref="CrossEntropyCost"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not writable, <paramref name="cost"/> is not
    /// one of the accepted names, or a parameter is NaN or infinite (JSON cannot represent it).</exception>
    public static void Write(Network network, Stream destination, string cost = QuadraticCost)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.CanWrite)
        {
            throw new ArgumentException("destination is not writable, expected a writable stream.", nameof(destination));
        }

        CheckCost(cost);
        CheckFinite(network);
        WriteUnchecked(network, destination, cost);
    }

    /// <summary>Loads a model file written by <see cref="Save(Network, string, string)"/> or by network2.py's <c>save</c>.</summary>
    /// <param name="path">The model file.</param>
    /// <returns>The network and the name of its cost function.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not valid JSON or not a valid model; the message names
    /// <paramref name="path"/> and the problem.</exception>
    public static SavedModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] json = File.ReadAllBytes(path);
        return ModelJsonReader.Parse(json, path);
    }

    /// <summary>Reads a model from <paramref name="source"/>, from its current position to its end.</summary>
    /// <param name="source">A readable stream holding the model's JSON (UTF-8, with or without a byte order mark).</param>
    /// <param name="sourceName">What to call the source in error messages, e.g. its file name or URL.</param>
    /// <returns>The network and the name of its cost function.</returns>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not readable.</exception>
    /// <exception cref="InvalidDataException">The content is not valid JSON or not a valid model; the message starts
    /// with <paramref name="sourceName"/>.</exception>
    public static SavedModel Read(Stream source, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sourceName);
        if (!source.CanRead)
        {
            throw new ArgumentException("source is not readable, expected a readable stream.", nameof(source));
        }

        using var buffer = new MemoryStream();
        source.CopyTo(buffer);
        return ModelJsonReader.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), sourceName);
    }

    /// <summary>Whether <paramref name="cost"/> is one of network2.py's cost names.</summary>
    internal static bool IsKnownCost(string? cost) => cost is QuadraticCost or CrossEntropyCost;

    internal const string KnownCosts = $"\"{QuadraticCost}\" or \"{CrossEntropyCost}\"";

    private static void CheckCost(string cost)
    {
        ArgumentNullException.ThrowIfNull(cost);
        if (!IsKnownCost(cost))
        {
            throw new ArgumentException($"cost is \"{cost}\", expected {KnownCosts} (network2.py's cost classes).", nameof(cost));
        }
    }

    private static void CheckFinite(Network network)
    {
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            ReadOnlySpan<float> weights = network.WeightsUnchecked(l);
            int at = IndexOfNonFinite(weights);
            if (at >= 0)
            {
                int cols = network.Sizes[l - 1];
                throw new ArgumentException(
                    $"network has weight W^{l}[{at / cols},{at % cols}] (layer {l}, row {at / cols}, column {at % cols}) = {weights[at]}, expected a finite number: JSON has no NaN or infinity.",
                    nameof(network));
            }

            ReadOnlySpan<float> biases = network.BiasesUnchecked(l);
            at = IndexOfNonFinite(biases);
            if (at >= 0)
            {
                throw new ArgumentException(
                    $"network has bias b^{l}[{at}] (layer {l}) = {biases[at]}, expected a finite number: JSON has no NaN or infinity.",
                    nameof(network));
            }
        }
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static void WriteUnchecked(Network network, Stream destination, string cost)
    {
        using var writer = new Utf8JsonWriter(destination);
        writer.WriteStartObject();

        writer.WriteStartArray("sizes"u8);
        foreach (int size in network.Sizes)
        {
            writer.WriteNumberValue(size);
        }

        writer.WriteEndArray();

        writer.WriteStartArray("weights"u8);
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            ReadOnlySpan<float> weights = network.WeightsUnchecked(l);
            int cols = network.Sizes[l - 1];
            writer.WriteStartArray();
            for (int row = 0; row < weights.Length; row += cols)
            {
                writer.WriteStartArray();
                foreach (float w in weights.Slice(row, cols))
                {
                    writer.WriteNumberValue(w); // shortest round-trip form: parses back to the same bits
                }

                writer.WriteEndArray();
                FlushIfFull(writer);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndArray();

        writer.WriteStartArray("biases"u8);
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            writer.WriteStartArray();
            foreach (float b in network.BiasesUnchecked(l))
            {
                writer.WriteStartArray(); // network2.py keeps each bias vector as a column: a list of [b]
                writer.WriteNumberValue(b);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
            FlushIfFull(writer);
        }

        writer.WriteEndArray();

        writer.WriteString("cost"u8, cost);
        writer.WriteEndObject();
        writer.Flush();
    }

    // Utf8JsonWriter buffers everything until flushed: pass the bytes on in pieces instead of holding a whole large model.
    private static void FlushIfFull(Utf8JsonWriter writer)
    {
        if (writer.BytesPending >= FlushThreshold)
        {
            writer.Flush();
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original error is the one to report.
        }
        catch (UnauthorizedAccessException)
        {
            // Likewise.
        }
    }
}
