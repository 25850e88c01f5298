using System.Globalization;

namespace Backprop.Simd.Onnx.Import;

/// <summary>
/// Makes the importer's errors: an <see cref="InvalidDataException"/> whose message is
/// "<c>source: place: what is wrong.</c>", with the place being a node, initializer or field of the model.
/// </summary>
internal sealed class Failures(string source)
{
    public string Source { get; } = source;

    public InvalidDataException At(string where, string message) => new(MessageText.Printable($"{Source}: {where}: {message}."));

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Dims(long[] dims) => $"[{string.Join(", ", dims.Select(Dim))}]";

    /// <summary>A dimension or a value of a shape tensor: <see cref="ConstTensor.Batch"/> is written <c>N</c>.</summary>
    public static string Dim(long value) => value == ConstTensor.Batch ? "N" : value.ToString(CultureInfo.InvariantCulture);
}
