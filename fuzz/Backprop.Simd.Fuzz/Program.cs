using System.Buffers.Binary;
using System.IO.Compression;
using Backprop.Simd;
using Backprop.Simd.Data;
using Backprop.Simd.Onnx;
using Backprop.Simd.Serialization;
using SharpFuzz;

// Coverage-guided fuzzing of the readers under afl++ (fuzz/run-afl.sh). "TARGET" reads afl++'s inputs; "--seeds
// DATA_DIR OUT_DIR" writes the starting corpora. A documented rejection (InvalidDataException) is a normal outcome;
// any other exception escapes, and afl++ records the input as a crash.
if (args is ["--seeds", string data, string output])
{
    WriteSeeds(data, output);
    return 0;
}

Action<Stream>? read = args is [string target] ? target switch
{
    "idx-images" => stream => _ = IdxReader.ReadImages(stream, "afl-input"),
    "idx-labels" => stream => _ = IdxReader.ReadLabels(stream, "afl-input"),
    "model-json" => stream => _ = ModelJson.Read(stream, "afl-input"),
    "onnx" => stream => _ = OnnxModel.Read(stream, "afl-input"),
    _ => null,
} : null;

if (read is null)
{
    Console.Error.WriteLine("usage: Backprop.Simd.Fuzz idx-images|idx-labels|model-json|onnx   (input on stdin, under afl-fuzz)");
    Console.Error.WriteLine("       Backprop.Simd.Fuzz --seeds DATA_DIR OUT_DIR                  (writes OUT_DIR/TARGET/* seed files)");
    return 2;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    try
    {
        read(stream);
    }
    catch (InvalidDataException)
    {
        // Rejected as documented.
    }
});
return 0;

// Small seeds, as afl++ prefers: the first records of the bundled digits (raw and gzipped), and model files and ONNX
// models of a few small architectures.
static void WriteSeeds(string dataDirectory, string output)
{
    byte[] images = Prefix(Path.Combine(dataDirectory, MnistData.TestImagesFile + ".gz"), 16, 784, 2);
    byte[] labels = Prefix(Path.Combine(dataDirectory, MnistData.TestLabelsFile + ".gz"), 8, 1, 16);
    Write(output, "idx-images", ("raw.idx", images), ("gzip.idx.gz", Gzip(images)));
    Write(output, "idx-labels", ("raw.idx", labels), ("gzip.idx.gz", Gzip(labels)));

    Network sigmoid = new([4, 3, 2], seed: 1);
    Network softmax = new([5, 4, 3], seed: 2, new NetworkOptions { HiddenActivation = Activation.ReLU, Cost = CostFunction.LogLikelihood });
    Network deep = new([3, 3, 2, 2], seed: 3, new NetworkOptions { HiddenActivation = Activation.Tanh, Cost = CostFunction.CrossEntropy });
    Write(output, "model-json", ("sigmoid.json", Json(sigmoid)), ("softmax.json", Json(softmax)), ("deep.json", Json(deep)));
    Write(output, "onnx", ("sigmoid.onnx", OnnxModel.ToBytes(sigmoid)), ("softmax.onnx", OnnxModel.ToBytes(softmax)), ("deep.onnx", OnnxModel.ToBytes(deep)));
}

static byte[] Prefix(string gzipFile, int headerLength, int recordLength, int count)
{
    using var gzip = new GZipStream(File.OpenRead(gzipFile), CompressionMode.Decompress);
    var bytes = new byte[headerLength + (count * recordLength)];
    gzip.ReadExactly(bytes);
    BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
    return bytes;
}

static byte[] Gzip(byte[] raw)
{
    var compressed = new MemoryStream();
    using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
    {
        gzip.Write(raw);
    }

    return compressed.ToArray();
}

static byte[] Json(Network network)
{
    var json = new MemoryStream();
    ModelJson.Write(network, json);
    return json.ToArray();
}

static void Write(string output, string target, params (string Name, byte[] Bytes)[] files)
{
    string directory = Path.Combine(output, target);
    Directory.CreateDirectory(directory);
    foreach ((string name, byte[] bytes) in files)
    {
        File.WriteAllBytes(Path.Combine(directory, name), bytes);
    }
}
