using Backprop.Simd.IO;
using Backprop.Simd.Onnx.Protobuf;

namespace Backprop.Simd.Onnx;

/// <summary>
/// Networks as ONNX models, written and read by this assembly's own protobuf code (no ONNX or protobuf package).
/// </summary>
/// <remarks>
/// <para><b>Export</b> writes ONNX IR version <see cref="IrVersion"/> with the default operator set at
/// <see cref="OpsetVersion"/>: per layer <c>l</c> one <c>Gemm</c> node with <c>transB=1</c>, whose weight initializer
/// <c>layer{l}.weight</c> is our row-major <c>[n_l, n_{l-1}]</c> matrix as it is (PyTorch's <c>Linear</c> layout) and
/// whose bias is <c>layer{l}.bias</c> <c>[n_l]</c>, followed by the layer's activation node: <c>Sigmoid</c>,
/// <c>Tanh</c>, <c>Relu</c>, <c>LeakyRelu</c> (alpha = the slope), <c>Elu</c> (alpha 1.0), <c>Softmax</c> and
/// <c>LogSoftmax</c> (axis -1), and none for <see cref="Activation.Identity"/>; SiLU and GELU, which have no
/// operator before opset 20, as the nodes PyTorch 1.13 writes for them: <c>Sigmoid</c> then <c>Mul(z, sigmoid)</c>,
/// and <c>Div(z, sqrt 2)</c>, <c>Erf</c>, <c>Add(., 1)</c>, <c>Mul(z, .)</c>, <c>Mul(., 0.5)</c> with the float32
/// scalar initializers <c>layer{l}.gelu.sqrt2</c>, <c>.one</c> and <c>.half</c>. The initializers are float32 <c>raw_data</c>, little-endian. The graph input
/// <see cref="InputName"/> is <c>[N, n_0]</c> and the output <see cref="OutputName"/> <c>[N, n_L]</c>, with the
/// symbolic batch dimension <see cref="BatchDimension"/>. The cost is kept in the metadata entry
/// <see cref="CostMetadataKey"/> so that importing our own files restores it.</para>
/// <para><b>Import</b> reads what <c>torch.onnx.export</c> writes for a fully connected model: a graph whose nodes,
/// apart from computations on constants (which are done at import time: <c>Constant</c>, <c>Identity</c>,
/// <c>Transpose</c> of a weight, the <c>Shape</c>, <c>Gather</c>, <c>Unsqueeze</c>, <c>Concat</c> arithmetic of
/// <c>x.view(x.size(0), -1)</c>, ...), form one chain from its single input to its single output. Along it:
/// <c>Gemm</c> (transB 0 or 1, transA 0, alpha = beta = 1, bias optional) or <c>MatMul</c> with an
/// <c>[n_in, n_out]</c> weight and an optional bias <c>Add</c> make a layer; after each layer at most one of
/// <c>Sigmoid</c>, <c>Tanh</c>, <c>Relu</c>, <c>LeakyRelu</c> (alpha from -1 to 1), <c>Elu</c> (alpha 1), GELU (PyTorch's
/// <c>Div</c>, <c>Erf</c>, <c>Add</c>, <c>Mul</c>, <c>Mul</c>), SiLU (<c>Mul(z, Sigmoid(z))</c>), and on the output
/// layer <c>Softmax</c> or <c>LogSoftmax</c> (axis 1 or -1) (no activation means <see cref="Activation.Identity"/>);
/// <c>Add</c>, <c>Sub</c>, <c>Mul</c>, <c>Div</c> by constants and inference-mode <c>BatchNormalization</c>, folded into
/// the layer before its activation or into the next layer (in double, each parameter rounded to float once);
/// <c>Flatten</c> or a <c>Reshape</c> to <c>[N, width]</c>, <c>Identity</c> and inference-mode <c>Dropout</c>. Weights
/// must be float tensors inside the file. The cost is the one our exporter recorded, otherwise
/// <see cref="CostFunction.LogLikelihood"/> for a softmax or log-softmax output and <see cref="CostFunction.Quadratic"/>
/// for any other (cross-entropy cannot be told from the graph). docs/onnx.md lists every form with the PyTorch code
/// that writes it.</para>
/// <para>Everything else is an <see cref="InvalidDataException"/> whose message starts with the source's name and
/// the place in the model (e.g. <c>model.onnx: graph.node[2] '/1/Conv' (Conv): ...</c>): other operators
/// (<c>Conv</c>, <c>PRelu</c>, <c>Clip</c>, ...), training-mode exports, other data types, external data, branches,
/// mismatched sizes, and truncated or corrupt bytes. The decoder checks every length field against the bytes that
/// remain before reading or allocating, bounds nesting and counts, and skips unknown fields by wire type.</para>
/// </remarks>
public static class OnnxModel
{
    /// <summary>The ONNX IR version written: 8, the one that goes with opset 17 (ONNX 1.12).</summary>
    public const long IrVersion = 8;

    /// <summary>The version of the default ONNX operator set written: 17.</summary>
    public const long OpsetVersion = 17;

    /// <summary>The <c>producer_name</c> written.</summary>
    public const string ProducerName = "Backprop.Simd";

    /// <summary>Name of the graph input, <c>[N, n_0]</c> float32.</summary>
    public const string InputName = "input";

    /// <summary>Name of the graph output, <c>[N, n_L]</c> float32.</summary>
    public const string OutputName = "output";

    /// <summary>The symbolic batch dimension of the input and output.</summary>
    public const string BatchDimension = "N";

    /// <summary>The <c>metadata_props</c> key holding the network's <see cref="CostFunction"/> name.</summary>
    public const string CostMetadataKey = "backprop_simd.cost";

    /// <summary>Largest model file <see cref="Load"/> and <see cref="Read"/> accept: 2 GiB less a little (protobuf's own limit is 2 GiB).</summary>
    public const int MaxModelBytes = 0x7FFF_FFC7; // Array.MaxLength

    /// <summary>The <c>producer_version</c> written: this assembly's version.</summary>
    public static string ProducerVersion { get; } = typeof(OnnxModel).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>
    /// Saves <paramref name="network"/> as an ONNX model at <paramref name="path"/>, atomically: the model is written
    /// to a temporary file in the same directory, flushed to disk, then renamed over <paramref name="path"/>; on any
    /// failure the temporary file is deleted and an existing file at <paramref name="path"/> is left untouched.
    /// </summary>
    /// <param name="network">The network to export.</param>
    /// <param name="path">The <c>.onnx</c> file to create or replace.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a directory.</exception>
    /// <exception cref="IOException">The file could not be written or renamed, or <paramref name="path"/> is a
    /// directory, a device, a FIFO or a socket (only a regular file is ever replaced).</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public static void Save(Network network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ProtoMessage model = OnnxExporter.Build(network);
        SafeFile.WriteAtomically(path, model.WriteTo);
    }

    /// <summary>Writes <paramref name="network"/> as an ONNX model to <paramref name="destination"/> (not closed).</summary>
    /// <param name="network">The network to export.</param>
    /// <param name="destination">A writable stream; writing starts at its current position.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not writable.</exception>
    public static void Write(Network network, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.CanWrite)
        {
            throw new ArgumentException("destination is not writable, expected a writable stream.", nameof(destination));
        }

        OnnxExporter.Build(network).WriteTo(destination);
    }

    /// <summary>The ONNX model of <paramref name="network"/> as bytes, e.g. for an in-memory inference session.</summary>
    /// <param name="network">The network to export.</param>
    public static byte[] ToBytes(Network network) => OnnxExporter.Build(network).ToArray();

    /// <summary>
    /// Saves an int8 network as an ONNX model at <paramref name="path"/>, atomically (as <see cref="Save(Network, string)"/>):
    /// per layer the per-sample 7-bit quantization of its input in float operators, <c>MatMulInteger</c> with the int8
    /// weight codes, the exact zero-point correction, the dequantization and the activation (docs/onnx.md). ONNX
    /// Runtime computes the same integers; its outputs differ from <see cref="QuantizedNetwork.FeedForward"/> only
    /// where a scale computed in float differs from ours (computed in double) or in its activation functions' roundoff.
    /// Such files are for running; <see cref="Load"/> does not import them.
    /// </summary>
    /// <exception cref="IOException">The file could not be written or renamed.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public static void Save(QuantizedNetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ProtoMessage model = QuantizedOnnxExporter.Build(network);
        SafeFile.WriteAtomically(path, model.WriteTo);
    }

    /// <summary>The ONNX model of an int8 network as bytes (see <see cref="Save(QuantizedNetwork, string)"/>).</summary>
    public static byte[] ToBytes(QuantizedNetwork network) => QuantizedOnnxExporter.Build(network).ToArray();

    /// <summary>Imports the network in the ONNX model file at <paramref name="path"/> (see <see cref="OnnxModel"/> for what is supported).</summary>
    /// <param name="path">The <c>.onnx</c> file.</param>
    /// <returns>A new network with the model's sizes, weights, biases and activations.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a directory, a device, a FIFO or a socket (only
    /// regular files are read), or reading failed.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed ONNX model, or uses something not
    /// supported; the message names <paramref name="path"/> and the node or field.</exception>
    public static Network Load(string path)
    {
        return Parse(SafeFile.ReadAll(path, MaxModelBytes, "ONNX model"), path);
    }

    /// <summary>Imports the network in the ONNX model read from <paramref name="source"/>'s current position to its end.</summary>
    /// <param name="source">A readable stream.</param>
    /// <param name="sourceName">What to call the source in error messages, e.g. its file name.</param>
    /// <returns>A new network with the model's sizes, weights, biases and activations.</returns>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not readable.</exception>
    /// <exception cref="InvalidDataException">The data is not a well-formed ONNX model, or uses something not
    /// supported; the message starts with <paramref name="sourceName"/>.</exception>
    public static Network Read(Stream source, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(sourceName);
        if (!source.CanRead)
        {
            throw new ArgumentException("source is not readable, expected a readable stream.", nameof(source));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int got;
        while ((got = source.Read(chunk)) > 0)
        {
            if (buffer.Length + got > MaxModelBytes)
            {
                throw new InvalidDataException($"{sourceName}: the data has more than {MaxModelBytes} bytes, more than an ONNX model (a protobuf message) can have.");
            }

            buffer.Write(chunk, 0, got);
        }

        return Parse(buffer.ToArray(), sourceName);
    }

    /// <summary>Imports the network in an ONNX model held in memory.</summary>
    /// <param name="model">The model's bytes (not modified; the network copies what it needs).</param>
    /// <param name="sourceName">What to call the data in error messages.</param>
    /// <returns>A new network with the model's sizes, weights, biases and activations.</returns>
    /// <exception cref="InvalidDataException">The data is not a well-formed ONNX model, or uses something not
    /// supported; the message starts with <paramref name="sourceName"/>.</exception>
    public static Network Parse(byte[] model, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(sourceName);
        if (model.Length == 0)
        {
            throw new InvalidDataException($"{sourceName}: the data is empty, expected an ONNX model.");
        }

        return Import.OnnxImporter.Import(OnnxProtoParser.Parse(model, sourceName));
    }
}
