using System.Globalization;

namespace Backprop.Simd.Charts;

/// <summary>
/// One line of a <c>*-work.csv</c> (benchmarks/Backprop.Simd.Benchmarks/Infrastructure/WorkExporter.cs): a benchmark
/// case, its median time per operation and the flops, compulsory bytes and samples of one operation.
/// </summary>
internal sealed record WorkRow(string Type, string Method, string Job, string Parameters, double MedianNanoseconds, double Flops, double Bytes, double Samples)
{
    /// <summary>The header the exporter writes; a file with another header is not read.</summary>
    public const string Header = "Type,Method,Job,Parameters,MeanNanoseconds,MedianNanoseconds,FlopsPerOperation,BytesPerOperation,SamplesPerOperation";

    /// <summary>Flops per nanosecond, which is GFLOP/s.</summary>
    public double Gflops => Flops / MedianNanoseconds;

    /// <summary>Bytes per nanosecond, which is GB/s.</summary>
    public double GigabytesPerSecond => Bytes / MedianNanoseconds;

    /// <summary>Arithmetic intensity, flops per compulsory byte.</summary>
    public double Intensity => Flops / Bytes;

    public double SamplesPerSecond => Samples * 1e9 / MedianNanoseconds;

    /// <summary>The class name without its "Benchmarks" suffix.</summary>
    public string ShortType => Type.EndsWith("Benchmarks", StringComparison.Ordinal) ? Type[..^"Benchmarks".Length] : Type;

    /// <summary>Every row of every <c>*-work.csv</c> under <paramref name="directories"/>, in file and line order.</summary>
    /// <exception cref="InvalidDataException">A file has another header or a malformed line.</exception>
    public static List<WorkRow> ReadAll(IEnumerable<string> directories)
    {
        var rows = new List<WorkRow>();
        foreach (string directory in directories)
        {
            foreach (string file in Directory.EnumerateFiles(directory, "*-work.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                string[] lines = File.ReadAllLines(file);
                if (lines.Length == 0 || lines[0] != Header)
                {
                    throw new InvalidDataException($"{file}: the first line is not the header of WorkExporter ({Header}).");
                }

                for (int i = 1; i < lines.Length; i++)
                {
                    List<string> f = Fields(lines[i]);
                    if (f.Count != 9)
                    {
                        throw new InvalidDataException($"{file}:{i + 1}: {f.Count} fields, expected 9.");
                    }

                    rows.Add(new WorkRow(f[0], f[1], f[2], f[3], Number(f[5], file, i), Number(f[6], file, i), Number(f[7], file, i), Number(f[8], file, i)));
                }
            }
        }

        return rows;
    }

    private static double Number(string text, string file, int line) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value >= 0
            ? value
            : throw new InvalidDataException($"{file}:{line + 1}: '{text}' is not a finite non-negative number.");

    // RFC 4180 fields of one line: quoted fields may hold commas and doubled quotes.
    private static List<string> Fields(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c != '"')
                {
                    field.Append(c);
                }
                else if (i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else
                {
                    quoted = false;
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return fields;
    }
}
