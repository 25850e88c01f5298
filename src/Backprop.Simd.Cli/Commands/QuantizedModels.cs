using Backprop.Simd.IO;
using Backprop.Simd.Serialization;

namespace Backprop.Simd.Cli.Commands;

/// <summary>A model file as read: a float network, or an int8 one (a file <c>backprop quantize</c> wrote), told apart by content.</summary>
internal sealed record LoadedModel(string Path, Network? Float, QuantizedNetwork? Int8)
{
    public int InputSize => Float?.InputSize ?? Int8!.InputSize;

    public int OutputSize => Float?.OutputSize ?? Int8!.OutputSize;

    /// <summary>The architecture in one phrase, as <see cref="CommonOptions.Describe"/> gives it.</summary>
    public string Describe() => Float is not null
        ? CommonOptions.Describe(Float)
        : $"[{string.Join(", ", Int8!.Sizes.ToArray())}] ({Names.Of(Int8.Activations)}; {Names.Of(Int8.Cost)} cost)";

    /// <summary>
    /// The network to run in the precision asked for: an int8 file always runs in int8 (a user error if float32 was
    /// asked for explicitly: its float weights are gone), a float file in int8 when asked (quantized here).
    /// </summary>
    public QuantizedNetwork? ForPrecision(string precision, bool explicitPrecision)
    {
        if (Int8 is not null)
        {
            return explicitPrecision && precision == "float32"
                ? throw new UserErrorException($"--precision float32: {Path} holds an int8 model (written by backprop quantize), which has no float32 weights; give the float model file, or leave --precision out.")
                : Int8;
        }

        return precision == "int8" ? CommonOptions.About("--model", () => QuantizedNetwork.From(Float!)) : null;
    }

    /// <summary>Reads <paramref name="path"/> as an int8 model file when its top-level <c>format</c> says so, else as a float model file.</summary>
    public static LoadedModel Load(string path, string option = "--model") => CommonOptions.About(option, () =>
    {
        byte[] json = SafeFile.ReadAll(path, ModelJson.MaxFileBytes, "model");
        return QuantizedModelJson.IsQuantized(json)
            ? new LoadedModel(path, null, QuantizedModelJson.Parse(json, path))
            : new LoadedModel(path, ModelJsonReader.Parse(json, path), null);
    });
}
