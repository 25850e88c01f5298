using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Backprop.Simd.Data;
using Backprop.Simd.Onnx;
using Backprop.Simd.Serialization;
using Backprop.Simd.Tests.Data;
using Backprop.Simd.Tests.Onnx;
using Backprop.Simd.Tests.Serialization;

namespace Backprop.Simd.Tests.Fuzzing;

/// <summary>
/// The three readers as fuzz targets, with their seed corpora (the bundled MNIST-10k digits, model files and ONNX
/// models the tests write) and their oracles: an accepted input must give a result that matches an independent
/// reading (IDX, model JSON) or survives a write-and-read round trip bit for bit (ONNX).
/// </summary>
internal static class ReaderTargets
{
    private static readonly Type[] InvalidData = [typeof(InvalidDataException)];

    private static string BundledFile(string name) => Path.Combine(BundledMnistTests.DataDirectory(), name + ".gz");

    /// <summary>The first <paramref name="count"/> records of a bundled IDX file, raw (header adjusted).</summary>
    private static byte[] BundledPrefix(string name, int headerLength, int recordLength, int count)
    {
        using var gzip = new GZipStream(File.OpenRead(BundledFile(name)), CompressionMode.Decompress);
        var bytes = new byte[headerLength + (count * recordLength)];
        gzip.ReadExactly(bytes);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        return bytes;
    }

    public static FuzzTarget IdxImages()
    {
        byte[] images = BundledPrefix(MnistData.TestImagesFile, 16, 784, 12);
        return new FuzzTarget
        {
            Name = "idx-images",
            Seeds = [images, Idx.Gzip(images), Idx.Images(2, 3, 5, Idx.Pattern(30, seed: 1))],
            Kind = Mutator.Kind.Idx,
            Wrap = Idx.Gzip,
            Documented = InvalidData,
            Read = input =>
            {
                IdxImages read = IdxReader.ReadImages(new MemoryStream(input), Fuzzer.Source);
                byte[] raw = Decompressed(input);
                Check(raw.Length >= 16 && BinaryPrimitives.ReadInt32BigEndian(raw) == IdxReader.ImagesMagic, "accepted without an images header");
                int count = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4)), rows = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(8)), columns = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(12));
                Check((read.Count, read.Rows, read.Columns) == (count, rows, columns), $"read {read.Count}x{read.Rows}x{read.Columns}, the header says {count}x{rows}x{columns}");
                Check(count >= 1 && rows is >= 1 and <= IdxReader.MaxImageSide && columns is >= 1 and <= IdxReader.MaxImageSide, $"accepted dimensions {count}x{rows}x{columns}");
                Check(raw.Length == 16 + ((long)count * rows * columns) && read.Pixels.Length == raw.Length - 16, $"{raw.Length} bytes for {count}x{rows}x{columns}, {read.Pixels.Length} pixels read");
                for (int i = 0; i < read.Pixels.Length; i++)
                {
                    Check(read.Pixels[i] == raw[16 + i] / 255f, $"pixel {i} is {read.Pixels[i]}, the file holds byte {raw[16 + i]}");
                }
            },
        };
    }

    public static FuzzTarget IdxLabels()
    {
        byte[] labels = BundledPrefix(MnistData.TestLabelsFile, 8, 1, 300);
        return new FuzzTarget
        {
            Name = "idx-labels",
            Seeds = [labels, Idx.Gzip(labels), Idx.Labels([7])],
            Kind = Mutator.Kind.Idx,
            Wrap = Idx.Gzip,
            Documented = InvalidData,
            Read = input =>
            {
                byte[] read = IdxReader.ReadLabels(new MemoryStream(input), Fuzzer.Source);
                byte[] raw = Decompressed(input);
                Check(raw.Length >= 8 && BinaryPrimitives.ReadInt32BigEndian(raw) == IdxReader.LabelsMagic, "accepted without a labels header");
                int count = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4));
                Check(count >= 1 && read.Length == count && raw.Length == 8 + count, $"{read.Length} labels read, header says {count}, file has {raw.Length} bytes");
                Check(read.AsSpan().SequenceEqual(raw.AsSpan(8)), "labels differ from the file's bytes");
            },
        };
    }

    public static FuzzTarget ModelJsonFiles()
    {
        var seeds = new List<byte[]>
        {
            ToJson(ModelNetworks.Mixed([4, 3, 2], seed: 1)),
            ToJson(ModelNetworks.WithArchitecture(ModelNetworks.Mixed([5, 4, 3], seed: 2), [Activation.ReLU, Activation.Softmax], CostFunction.LogLikelihood)),
            ToJson(ModelNetworks.WithArchitecture(ModelNetworks.Mixed([3, 3, 2, 2], seed: 3), [Activation.Tanh, Activation.LeakyReLU, Activation.Sigmoid], CostFunction.CrossEntropy)),
            // network2.py's own formatting: spaces after separators, keys in its order, floats in Python's repr.
            Encoding.UTF8.GetBytes("{\"sizes\": [2, 2], \"weights\": [[[0.5, -1.25], [3.0, 1e-05]]], \"biases\": [[[0.1], [-0.2]]], \"cost\": \"CrossEntropyCost\"}"),
            Utf8Bom(Encoding.UTF8.GetBytes("{\"cost\":\"QuadraticCost\",\"biases\":[[[1]]],\"extra\":{\"a\":[1,\"\u00e9\"]},\"weights\":[[[2]]],\"sizes\":[1,1]}")),
        };
        return new FuzzTarget
        {
            Name = "model-json",
            Seeds = [.. seeds],
            Kind = Mutator.Kind.Json,
            Documented = InvalidData,
            Read = input =>
            {
                Network network = ModelJson.Read(new MemoryStream(input), Fuzzer.Source);
                CheckNetwork(network);
                CheckAgainstJsonDocument(input, network);
                Network again = ModelJson.Read(new MemoryStream(ToJson(network)), "round trip");
                CheckSame(network, again, "model JSON round trip");
            },
        };
    }

    public static FuzzTarget OnnxModels()
    {
        var seeds = new List<byte[]>
        {
            OnnxModel.ToBytes(ModelNetworks.Mixed([4, 3, 2], seed: 4)),
            OnnxModel.ToBytes(ModelNetworks.WithArchitecture(ModelNetworks.Mixed([5, 4, 3], seed: 5), [Activation.LeakyReLU, Activation.Softmax], CostFunction.LogLikelihood)),
            OnnxModel.ToBytes(ModelNetworks.WithArchitecture(ModelNetworks.Mixed([3, 2, 2], seed: 6), [Activation.Identity, Activation.Tanh], CostFunction.Quadratic)),
            OnnxFixtures.PyTorchGemm().Model,
            OnnxFixtures.PyTorchGemm(initializersAsInputs: true).Model,
            OnnxFixtures.PyTorchMatMul().Model,
            OnnxFixtures.HandAssembled(),
        };
        // PyTorch's other forms: constants to compute, shapes, folds (those whose activations export back as they are).
        seeds.AddRange(TorchForms.All.Where(f => f.Activations.All(a => a.Kind is ActivationKind.Sigmoid or ActivationKind.Tanh or ActivationKind.ReLU or ActivationKind.LeakyReLU
            or ActivationKind.Identity or ActivationKind.Softmax)).Select(f => f.Model));
        return new FuzzTarget
        {
            Name = "onnx",
            Seeds = [.. seeds],
            Kind = Mutator.Kind.Protobuf,
            Documented = InvalidData,
            Read = input =>
            {
                Network network = OnnxModel.Parse(input, Fuzzer.Source);
                Check(network.Sizes.Length >= 2 && !network.Sizes.ContainsAnyInRange(int.MinValue, 0), $"sizes [{string.Join(", ", network.Sizes.ToArray())}]");
                Check(network.Parameters.Length == network.ParameterCount, "parameter arena length");
                Network.CheckArchitecture(network.Activations, network.Cost);
                Network again = OnnxModel.Parse(OnnxModel.ToBytes(network), "round trip");
                CheckSame(network, again, "ONNX export and import");
            },
        };
    }

    private static byte[] Utf8Bom(byte[] json) => [0xEF, 0xBB, 0xBF, .. json];

    private static byte[] ToJson(Network network)
    {
        var stream = new MemoryStream();
        ModelJson.Write(network, stream);
        return stream.ToArray();
    }

    private static byte[] Decompressed(byte[] input)
    {
        if (input.Length < 2 || input[0] != 0x1F || input[1] != 0x8B)
        {
            return input;
        }

        try
        {
            using var gzip = new GZipStream(new MemoryStream(input), CompressionMode.Decompress);
            var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new FuzzOracleException($"the reader accepted gzip data that GZipStream cannot decompress: {e.Message}");
        }
    }

    private static void CheckNetwork(Network network)
    {
        Check(network.Sizes.Length >= 2 && !network.Sizes.ContainsAnyInRange(int.MinValue, 0), $"sizes [{string.Join(", ", network.Sizes.ToArray())}]");
        Check(network.Parameters.Length == network.ParameterCount, "parameter arena length");
        foreach (float p in network.Parameters)
        {
            Check(float.IsFinite(p), $"a parameter is {p}");
        }

        Network.CheckArchitecture(network.Activations, network.Cost);
    }

    // An independent reading with JsonDocument: every size, weight, bias, the cost and the activations must match.
    private static void CheckAgainstJsonDocument(byte[] input, Network network)
    {
        ReadOnlyMemory<byte> json = input.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? input.AsMemory(3) : input;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new FuzzOracleException($"accepted what JsonDocument calls invalid JSON: {e.Message}");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            int[] sizes = root.GetProperty("sizes").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Check(sizes.AsSpan().SequenceEqual(network.Sizes), "sizes differ from the document's");
            Check(ModelJson.CostName(network.Cost) == root.GetProperty("cost").GetString(), "cost differs from the document's");
            if (root.TryGetProperty("activations", out JsonElement activations))
            {
                Check(activations.EnumerateArray().Select(a => a.GetString()).SequenceEqual(network.Activations.ToArray().Select(ModelJson.ActivationName)), "activations differ");
            }

            JsonElement[] weights = [.. root.GetProperty("weights").EnumerateArray()], biases = [.. root.GetProperty("biases").EnumerateArray()];
            for (int l = 1; l < sizes.Length; l++)
            {
                float[] w = weights[l - 1].EnumerateArray().SelectMany(row => row.EnumerateArray()).Select(Number).ToArray();
                float[] b = biases[l - 1].EnumerateArray().Select(row => Number(row.EnumerateArray().Single())).ToArray();
                Check(Bits(w).SequenceEqual(Bits(network.Weights(l).ToArray())), $"layer {l}'s weights differ from the document's");
                Check(Bits(b).SequenceEqual(Bits(network.Biases(l).ToArray())), $"layer {l}'s biases differ from the document's");
            }
        }
    }

    private static float Number(JsonElement element) =>
        element.ValueKind == JsonValueKind.Number
            ? float.Parse(element.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture)
            : throw new FuzzOracleException($"accepted {element.ValueKind} where a number belongs");

    private static IEnumerable<int> Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits);

    private static void CheckSame(Network expected, Network actual, string what)
    {
        Check(expected.Sizes.SequenceEqual(actual.Sizes), $"{what} changed the sizes");
        Check(expected.Activations.SequenceEqual(actual.Activations) && expected.Cost == actual.Cost, $"{what} changed the architecture");
        Check(Bits(expected.Parameters.ToArray()).SequenceEqual(Bits(actual.Parameters.ToArray())), $"{what} changed a parameter");
    }

    private static void Check(bool condition, string problem)
    {
        if (!condition)
        {
            throw new FuzzOracleException(problem);
        }
    }
}
