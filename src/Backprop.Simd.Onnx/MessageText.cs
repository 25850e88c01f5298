using System.Text;

namespace Backprop.Simd.Onnx;

/// <summary>Text from a model file (node and tensor names) made safe to show in an error message.</summary>
internal static class MessageText
{
    /// <summary>
    /// <paramref name="text"/> with control characters (line breaks, tabs, terminal escapes) written as <c>\uXXXX</c>,
    /// so that a message naming something from the file stays on one line and cannot drive a terminal.
    /// </summary>
    public static string Printable(string text)
    {
        if (!text.Any(IsUnsafe))
        {
            return text;
        }

        var printable = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            printable.Append(IsUnsafe(c) ? $"\\u{(int)c:X4}" : c);
        }

        return printable.ToString();
    }

    private static bool IsUnsafe(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
