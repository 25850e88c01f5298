using System.Text.Json;
using Backprop.Simd.IO;

namespace Backprop.Simd.Serialization;

/// <summary>
/// Model files in the JSON layout of Nielsen's network2.py <c>save</c>, readable by its <c>load</c> and back:
/// <c>{"sizes": [784, 30, 10], "weights": [...], "biases": [...], "cost": "QuadraticCost"}</c>, where
/// <c>weights[i]</c> is the weight matrix of layer <c>i + 1</c> as <c>sizes[i + 1]</c> rows of <c>sizes[i]</c> numbers
/// (row <c>j</c> holds the weights into neuron <c>j</c>, the order of <see cref="Network.Weights"/>) and
/// <c>biases[i]</c> is that layer's bias vector as <c>sizes[i + 1]</c> one-element lists <c>[b]</c>. The network's
/// architecture travels with it: <c>cost</c> names its <see cref="Network.Cost"/>, and an extra key,
/// <c>"activations": ["relu", "softmax"]</c>, which network2.py ignores, names the activation of every layer after
/// the input.
/// </summary>
/// <remarks>
/// <para>Architecture: <c>cost</c> is <see cref="QuadraticCost"/> or <see cref="CrossEntropyCost"/> (network2.py's
/// class names, so such files still load there) or <see cref="LogLikelihoodCost"/> (softmax or log-softmax output; network2.py has no
/// such class and refuses the file). <c>activations</c> holds one of <see cref="ActivationNames"/> per layer after the
/// input and is written only when some layer is not sigmoid: a file without it means every layer is sigmoid, the
/// seed's and network2.py's network, so such networks are saved with exactly network2.py's four keys. Beware that network2.py also loads a file whose <c>activations</c> say e.g.
/// <c>relu</c> (it ignores the key) and then computes it as a sigmoid network.</para>
/// <para>Writing: every float is written in its shortest form that parses back to the same float, so saving and
/// loading gives bit-identical parameters (including <c>-0</c>, subnormals and <see cref="float.MaxValue"/>). The
/// keys come in network2.py's order, then <c>activations</c> if written, without indentation.</para>
/// <para>Reading accepts what Python's <c>json</c> module writes: any whitespace, keys in any order, unknown keys
/// (ignored), and float64 numbers, each rounded to the nearest float; a number beyond float's range is an error, one
/// too small for float becomes 0 (or a subnormal). Sizes must be integer literals: <c>784</c>, not <c>784.0</c>
/// (network2.py writes Python ints, and could not build a network from non-integer sizes either). A known key that
/// appears twice is an error rather than a silent choice. <c>activations</c>, when present, must be an array of
/// <c>sizes.Length - 1</c> known names (exact, lower-case spellings), and together with <c>cost</c> must pass
/// <see cref="Network.CheckArchitecture"/>. Every check happens before the network is built, and a file's parameters
/// are only stored once the sizes are known to fit the bytes that hold them, so an absurd <c>sizes</c> entry cannot
/// trigger a huge allocation.</para>
/// <para>Errors in a file are <see cref="InvalidDataException"/>s whose message starts with the file's name and the
/// JSON path of the problem (e.g. <c>$.weights[1][4]</c>), then says what was found and what was expected.</para>
/// </remarks>
public static class ModelJson
{
    /// <summary>network2.py's <c>QuadraticCost</c>, the file's name for <see cref="CostFunction.Quadratic"/>: <c>C = 1/2 ||a - y||^2</c>.</summary>
    public const string QuadraticCost = "QuadraticCost";

    /// <summary>network2.py's <c>CrossEntropyCost</c>, the file's name for <see cref="CostFunction.CrossEntropy"/>: <c>C = sum(-y ln a - (1 - y) ln(1 - a))</c>.</summary>
    public const string CrossEntropyCost = "CrossEntropyCost";

    /// <summary>The file's name for <see cref="CostFunction.LogLikelihood"/> on a softmax output: <c>C = -sum y ln a</c>.
    /// network2.py has no such cost class, so it cannot load these files.</summary>
    public const string LogLikelihoodCost = "LogLikelihoodCost";

    /// <summary>The name of every <see cref="ActivationKind"/> as the <c>activations</c> key (and the command line) spells
    /// it, in the enum's order: <c>sigmoid</c>, <c>tanh</c>, <c>relu</c>, <c>leaky-relu</c>, <c>identity</c>, <c>softmax</c>,
    /// <c>elu</c>, <c>gelu</c>, <c>silu</c>, <c>log-softmax</c>. A leaky ReLU whose slope is not 0.01 is spelled with it:
    /// <c>leaky-relu:0.2</c>.</summary>
    public static IReadOnlyList<string> ActivationNames => Names.Activations.All;

    /// <summary>The file's name for <paramref name="cost"/>: <see cref="QuadraticCost"/>, <see cref="CrossEntropyCost"/> or <see cref="LogLikelihoodCost"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cost"/> is not a defined <see cref="CostFunction"/>.</exception>
    public static string CostName(CostFunction cost) => Names.JsonCosts.Of(cost);

    /// <summary>The cost a file's <c>cost</c> name stands for; the match is exact (case-sensitive), as in network2.py.</summary>
    /// <param name="name">A cost name such as <see cref="QuadraticCost"/>.</param>
    /// <param name="cost">The cost, or <see cref="CostFunction.Quadratic"/> when the name is unknown.</param>
    /// <returns>Whether <paramref name="name"/> is one of the three names.</returns>
    public static bool TryParseCost(string? name, out CostFunction cost) => Names.JsonCosts.TryParse(name, out cost);

    /// <summary>The lower-case name of <paramref name="activation"/>, e.g. <c>leaky-relu</c> for <see cref="Activation.LeakyReLU"/>
    /// and <c>leaky-relu:0.2</c> for a slope of 0.2.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="activation"/> is not a valid <see cref="Activation"/>.</exception>
    public static string ActivationName(Activation activation) => Names.Of(activation);

    /// <summary>The activation an <c>activations</c> entry stands for; the match is exact (lower-case, see <see cref="ActivationNames"/>).</summary>
    /// <param name="name">An activation name such as <c>relu</c>.</param>
    /// <param name="activation">The activation, or <see cref="Activation.Sigmoid"/> when the name is unknown.</param>
    /// <returns>Whether <paramref name="name"/> is one of <see cref="ActivationNames"/> or <c>leaky-relu:SLOPE</c> with a slope from -1 to 1.</returns>
    public static bool TryParseActivation(string? name, out Activation activation) => Names.TryParseActivation(name, out activation);

    /// <summary>Whether the network is the seed's all-sigmoid one, which a file without <c>activations</c> stands for.</summary>
    internal static bool AllSigmoid(ReadOnlySpan<Activation> activations) => !activations.ContainsAnyExcept(Activation.Sigmoid);

    /// <summary>
    /// Largest model file <see cref="Load"/> and <see cref="Read"/> accept: 1 GiB, about 100 million parameters in
    /// the shortest float form (the [784, 30, 10] network takes about 0.5 MB). Reading stops there rather than
    /// filling memory, whatever the source (a device such as <c>/dev/zero</c> is refused before reading).
    /// </summary>
    public const int MaxFileBytes = 1 << 30;

    private const int FlushThreshold = 1 << 16; // bytes buffered by the writer before they go to the stream

    /// <summary>
    /// Saves <paramref name="network"/>, its parameters and its architecture (<see cref="Network.Cost"/> and
    /// <see cref="Network.Activations"/>), to <paramref name="path"/> atomically: the model is written to a temporary
    /// file in the same directory, flushed to disk, then renamed over <paramref name="path"/>. A crash or an error
    /// therefore never leaves a half-written model behind: on failure the temporary file is deleted and an existing
    /// file at <paramref name="path"/> is left untouched. A save also removes the temporary files a killed earlier
    /// save of the same path left, and refuses to replace anything but a regular file.
    /// </summary>
    /// <param name="network">The network to save.</param>
    /// <param name="path">The model file to create or replace.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a directory, or a parameter is NaN
    /// or infinite (JSON cannot represent it).</exception>
    /// <exception cref="IOException">The file could not be written or renamed (e.g. <see cref="DirectoryNotFoundException"/>),
    /// or <paramref name="path"/> is a directory, a device, a FIFO or a socket.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public static void Save(Network network, string path) => Save(network, path, static file => file);

    /// <summary><see cref="Save(Network, string)"/> with a hook that lets tests wrap the temporary file's stream (e.g. to fail midway).</summary>
    internal static void Save(Network network, string path, Func<Stream, Stream> wrapFile)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckFinite(network);
        SafeFile.WriteAtomically(path, file => WriteUnchecked(network, wrapFile(file)));
    }

    /// <summary>Writes <paramref name="network"/> as a model file to <paramref name="destination"/>, which is flushed but not closed.</summary>
    /// <param name="network">The network to write, with its architecture.</param>
    /// <param name="destination">A writable stream; writing starts at its current position.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not writable, or a parameter is NaN or
    /// infinite (JSON cannot represent it).</exception>
    public static void Write(Network network, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.CanWrite)
        {
            throw new ArgumentException("destination is not writable, expected a writable stream.", nameof(destination));
        }

        CheckFinite(network);
        WriteUnchecked(network, destination);
    }

    /// <summary>Loads a model file written by <see cref="Save(Network, string)"/> or by network2.py's <c>save</c>.</summary>
    /// <param name="path">The model file.</param>
    /// <returns>The network, with the file's sizes, parameters, cost and activations (all sigmoid if the file has no <c>activations</c>).</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a directory, a device, a FIFO or a socket (only
    /// regular files are read), or reading failed.</exception>
    /// <exception cref="InvalidDataException">The file is not valid JSON or not a valid model, or it is larger than
    /// <see cref="MaxFileBytes"/>; the message names <paramref name="path"/> and the problem.</exception>
    public static Network Load(string path)
    {
        byte[] json = SafeFile.ReadAll(path, MaxFileBytes, "model");
        return ModelJsonReader.Parse(json, path);
    }

    /// <summary>Reads a model from <paramref name="source"/>, from its current position to its end.</summary>
    /// <param name="source">A readable stream holding the model's JSON (UTF-8, with or without a byte order mark).</param>
    /// <param name="sourceName">What to call the source in error messages, e.g. its file name or URL.</param>
    /// <returns>The network, with the model's sizes, parameters, cost and activations (all sigmoid if it has no <c>activations</c>).</returns>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not readable.</exception>
    /// <exception cref="InvalidDataException">The content is not valid JSON or not a valid model, or longer than
    /// <see cref="MaxFileBytes"/>; the message starts with <paramref name="sourceName"/>.</exception>
    public static Network Read(Stream source, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sourceName);
        if (!source.CanRead)
        {
            throw new ArgumentException("source is not readable, expected a readable stream.", nameof(source));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        for (int got; (got = source.Read(chunk)) > 0;)
        {
            if (buffer.Length + got > MaxFileBytes)
            {
                throw new InvalidDataException($"{sourceName}: the data has more than {MaxFileBytes} bytes, more than a model file may have (ModelJson.MaxFileBytes).");
            }

            buffer.Write(chunk, 0, got);
        }

        return ModelJsonReader.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), sourceName);
    }

    private static void CheckFinite(Network network)
    {
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            ReadOnlySpan<float> weights = network.WeightsOf(l);
            int at = IndexOfNonFinite(weights);
            if (at >= 0)
            {
                int cols = network.Sizes[l - 1];
                throw new ArgumentException(
                    $"network has weight W^{l}[{at / cols},{at % cols}] (layer {l}, row {at / cols}, column {at % cols}) = {weights[at]}, expected a finite number: JSON has no NaN or infinity.",
                    nameof(network));
            }

            ReadOnlySpan<float> biases = network.BiasesOf(l);
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

    private static void WriteUnchecked(Network network, Stream destination)
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
            ReadOnlySpan<float> weights = network.WeightsOf(l);
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
            foreach (float b in network.BiasesOf(l))
            {
                writer.WriteStartArray(); // network2.py keeps each bias vector as a column: a list of [b]
                writer.WriteNumberValue(b);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
            FlushIfFull(writer);
        }

        writer.WriteEndArray();

        writer.WriteString("cost"u8, CostName(network.Cost));
        if (!AllSigmoid(network.Activations))
        {
            // Only here: an all-sigmoid network is saved with exactly network2.py's keys (see the class remarks).
            writer.WriteStartArray("activations"u8);
            foreach (Activation activation in network.Activations)
            {
                writer.WriteStringValue(ActivationName(activation));
            }

            writer.WriteEndArray();
        }

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
}
