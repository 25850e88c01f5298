using System.Buffers.Binary;
using System.Globalization;
using Backprop.Simd.Onnx.Protobuf;
using Backprop.Simd.Serialization;
using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Onnx;

/// <summary>
/// The <c>ModelProto</c> of a <see cref="QuantizedNetwork"/>, with standard opset-17 operators only, computing what
/// <see cref="QuantizedNetwork.FeedForward"/> computes, per sample (row) and layer:
/// <list type="number">
/// <item>the input's range: <c>lo = Min(ReduceMin(a), 0)</c>, <c>hi = Max(ReduceMax(a), 0)</c>, <c>r = hi - lo</c>;
/// the step <c>s_a = r / 127</c>, its inverse <c>127 / Max(r, 1e-30)</c> (an all-zero input gets codes 0 either way),
/// the zero point <c>zp = Round(-lo x inverse)</c>;</item>
/// <item>7-bit codes <c>u = Cast&lt;uint8&gt;(Clip(Round(a x inverse) + zp, 0, 127))</c> (ONNX's <c>Round</c> rounds
/// half to even, as our kernels do);</item>
/// <item><c>MatMulInteger(u, Q^T)</c> with the int8 codes <c>Q^T</c> <c>[n_in, n_out]</c>: exact int32 sums, then
/// <c>- Cast&lt;int32&gt;(zp) x rowSums</c> (exact);</item>
/// <item><c>z = Cast&lt;float&gt;(sums) x (s_a x s_j) + b</c>, the same products and sum in the same order as ours, then the activation nodes of the float export.</item>
/// </list>
/// A network with calibrated input scales (<see cref="QuantizedNetwork.IsCalibrated"/>) has constants in place of
/// steps 1's nodes, as its kernels do: <c>u = Cast&lt;uint8&gt;(Round(Clip(a x inverse, -zp, 127 - zp)) + zp)</c> (the
/// product clamped before rounding, so a value beyond the calibrated range saturates), <c>zp x rowSums</c> and
/// <c>s_a x s_j</c> computed here in the same int32 and float arithmetic.
/// No zero point goes into <c>MatMulInteger</c> (it takes one per tensor or per row in ONNX, but one per sample in a
/// batch is what dynamic quantization needs); the 7-bit codes keep x86's <c>pmaddubsw</c> from saturating in ONNX
/// Runtime as in our kernels. DynamicQuantizeLinear is not used: it makes 8-bit codes (255 steps), not ours.
/// </summary>
internal static class QuantizedOnnxExporter
{
    private const int UInt8 = 2, Int8 = 3; // TensorProto.DataType

    public static ProtoMessage Build(QuantizedNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var graph = new ProtoMessage();
        string previous = OnnxModel.InputName;
        if (!network.IsCalibrated)
        {
            // The constants the per-sample range and scale nodes share (a calibrated network has none of those nodes).
            graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor("q.zero", [], new[] { 0f }));
            graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor("q.steps", [], new[] { 127f }));
            graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor("q.tiny", [], new[] { 1e-30f }));
        }

        for (int l = 1; l <= network.OutputLayer; l++)
        {
            Activation activation = network.ActivationOf(l);
            string p = $"layer{l}";
            string output = l == network.OutputLayer ? OnnxModel.OutputName : $"{p}.a";
            string z = activation == Activation.Identity ? output : $"{p}.z";
            if (network.InputScaleOf(l) is { } fixedScale)
            {
                AddCalibratedLayer(graph, network, l, fixedScale, previous, z);
                OnnxExporter.AddActivation(graph, l, activation, z, output);
                AddInitializers(graph, network, l, activation, calibrated: true);
                previous = output;
                continue;
            }

            Add(graph, Reduce($"{p}.reducemin", "ReduceMin", previous, $"{p}.min"));
            Add(graph, Reduce($"{p}.reducemax", "ReduceMax", previous, $"{p}.max"));
            Add(graph, OnnxExporter.Node($"{p}.lo", "Min", [$"{p}.min", "q.zero"], $"{p}.lo"));
            Add(graph, OnnxExporter.Node($"{p}.hi", "Max", [$"{p}.max", "q.zero"], $"{p}.hi"));
            Add(graph, OnnxExporter.Node($"{p}.range", "Sub", [$"{p}.hi", $"{p}.lo"], $"{p}.range"));
            Add(graph, OnnxExporter.Node($"{p}.step", "Div", [$"{p}.range", "q.steps"], $"{p}.step"));
            Add(graph, OnnxExporter.Node($"{p}.range_nonzero", "Max", [$"{p}.range", "q.tiny"], $"{p}.range_nonzero"));
            Add(graph, OnnxExporter.Node($"{p}.inverse", "Div", ["q.steps", $"{p}.range_nonzero"], $"{p}.inverse"));
            Add(graph, OnnxExporter.Node($"{p}.neg_lo", "Neg", [$"{p}.lo"], $"{p}.neg_lo"));
            Add(graph, OnnxExporter.Node($"{p}.zp_scaled", "Mul", [$"{p}.neg_lo", $"{p}.inverse"], $"{p}.zp_scaled"));
            Add(graph, OnnxExporter.Node($"{p}.zp", "Round", [$"{p}.zp_scaled"], $"{p}.zp"));
            Add(graph, OnnxExporter.Node($"{p}.scaled", "Mul", [previous, $"{p}.inverse"], $"{p}.scaled"));
            Add(graph, OnnxExporter.Node($"{p}.rounded", "Round", [$"{p}.scaled"], $"{p}.rounded"));
            Add(graph, OnnxExporter.Node($"{p}.shifted", "Add", [$"{p}.rounded", $"{p}.zp"], $"{p}.shifted"));
            Add(graph, OnnxExporter.Node($"{p}.clip", "Clip", [$"{p}.shifted", "q.zero", "q.steps"], $"{p}.clipped"));
            Add(graph, Cast($"{p}.codes", $"{p}.clipped", UInt8));
            Add(graph, OnnxExporter.Node($"{p}.matmul", "MatMulInteger", [$"{p}.codes", $"{p}.weight_codes"], $"{p}.sums"));
            Add(graph, Cast($"{p}.zp_int", $"{p}.zp", S.DataType.Int32));
            Add(graph, OnnxExporter.Node($"{p}.zp_rows", "Mul", [$"{p}.zp_int", $"{p}.row_sums"], $"{p}.zp_rows"));
            Add(graph, OnnxExporter.Node($"{p}.exact", "Sub", [$"{p}.sums", $"{p}.zp_rows"], $"{p}.exact"));
            Add(graph, Cast($"{p}.exact_float", $"{p}.exact", S.DataType.Float));
            Add(graph, OnnxExporter.Node($"{p}.scales", "Mul", [$"{p}.row_scales", $"{p}.step"], $"{p}.scales"));
            Add(graph, OnnxExporter.Node($"{p}.dequantized", "Mul", [$"{p}.exact_float", $"{p}.scales"], $"{p}.dequantized"));
            Add(graph, OnnxExporter.Node($"{p}.add", "Add", [$"{p}.dequantized", $"{p}.bias"], z));
            OnnxExporter.AddActivation(graph, l, activation, z, output);
            AddInitializers(graph, network, l, activation, calibrated: false);
            previous = output;
        }

        graph.String(S.Graph.Name, "backprop_simd_int8_network");
        return OnnxExporter.ModelOf(graph, Describe(network), network.InputSize, network.OutputSize, network.Cost);
    }

    // Layer l with a fixed input scale: constants for the step's products, the clamp before the rounding.
    private static void AddCalibratedLayer(ProtoMessage graph, QuantizedNetwork network, int l, ActivationScale input, string previous, string z)
    {
        string p = $"layer{l}";
        int rows = network.Sizes[l];
        var zeroRows = new byte[rows * sizeof(int)];
        var scales = new float[rows];
        for (int j = 0; j < rows; j++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(zeroRows.AsSpan(j * sizeof(int)), input.ZeroPoint * network.RowSumsOf(l)[j]);
            scales[j] = network.ScalesOf(l)[j] * input.Scale; // as QuantizedNetwork.Dequantize forms it
        }

        graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor($"{p}.inverse", [], new[] { input.Inverse }));
        graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor($"{p}.low", [], new[] { (float)-input.ZeroPoint }));
        graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor($"{p}.high", [], new[] { (float)(127 - input.ZeroPoint) }));
        graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor($"{p}.zp", [], new[] { (float)input.ZeroPoint }));
        graph.Message(S.Graph.Initializer, Tensor($"{p}.zp_rows", [rows], S.DataType.Int32, zeroRows));
        graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor($"{p}.scales", [rows], scales));
        Add(graph, OnnxExporter.Node($"{p}.scaled", "Mul", [previous, $"{p}.inverse"], $"{p}.scaled"));
        Add(graph, OnnxExporter.Node($"{p}.clip", "Clip", [$"{p}.scaled", $"{p}.low", $"{p}.high"], $"{p}.clipped"));
        Add(graph, OnnxExporter.Node($"{p}.rounded", "Round", [$"{p}.clipped"], $"{p}.rounded"));
        Add(graph, OnnxExporter.Node($"{p}.shifted", "Add", [$"{p}.rounded", $"{p}.zp"], $"{p}.shifted"));
        Add(graph, Cast($"{p}.codes", $"{p}.shifted", UInt8));
        Add(graph, OnnxExporter.Node($"{p}.matmul", "MatMulInteger", [$"{p}.codes", $"{p}.weight_codes"], $"{p}.sums"));
        Add(graph, OnnxExporter.Node($"{p}.exact", "Sub", [$"{p}.sums", $"{p}.zp_rows"], $"{p}.exact"));
        Add(graph, Cast($"{p}.exact_float", $"{p}.exact", S.DataType.Float));
        Add(graph, OnnxExporter.Node($"{p}.dequantized", "Mul", [$"{p}.exact_float", $"{p}.scales"], $"{p}.dequantized"));
        Add(graph, OnnxExporter.Node($"{p}.add", "Add", [$"{p}.dequantized", $"{p}.bias"], z));
    }

    private static void Add(ProtoMessage graph, ProtoMessage node) => graph.Message(S.Graph.Node, node);

    // ReduceMin / ReduceMax over each row (axis 1), kept as [N, 1] so that it broadcasts over the row.
    private static ProtoMessage Reduce(string name, string op, string input, string output) =>
        OnnxExporter.Node(name, op, [input], output)
            .Message(S.Node.Attribute, new ProtoMessage().String(S.Attribute.Name, "axes").Int64(S.Attribute.Ints, 1).Int64(S.Attribute.Type, S.AttributeType.Ints))
            .Message(S.Node.Attribute, OnnxExporter.IntAttribute("keepdims", 1));

    private static ProtoMessage Cast(string name, string input, int to) =>
        OnnxExporter.Node(name, "Cast", [input], name).Message(S.Node.Attribute, OnnxExporter.IntAttribute("to", to));

    // A calibrated layer's zero-point correction and output scales are constants of their own (AddCalibratedLayer),
    // so it needs no row sums or row scales.
    private static void AddInitializers(ProtoMessage graph, QuantizedNetwork network, int l, Activation activation, bool calibrated)
    {
        int rows = network.Sizes[l], cols = network.Sizes[l - 1];
        sbyte[] codes = network.RowCodes(l);
        var transposed = new byte[cols * rows]; // [n_in, n_out]: MatMulInteger's B
        for (int j = 0; j < rows; j++)
        {
            for (int k = 0; k < cols; k++)
            {
                transposed[(k * rows) + j] = (byte)codes[(j * cols) + k];
            }
        }

        graph.Message(S.Graph.Initializer, Tensor($"layer{l}.weight_codes", [cols, rows], Int8, transposed));
        if (!calibrated)
        {
            var rowSums = new byte[rows * sizeof(int)];
            for (int j = 0; j < rows; j++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(rowSums.AsSpan(j * sizeof(int)), network.RowSumsOf(l)[j]);
            }

            graph.Message(S.Graph.Initializer, Tensor($"layer{l}.row_sums", [rows], S.DataType.Int32, rowSums));
            graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor($"layer{l}.row_scales", [rows], network.ScalesOf(l).ToArray()));
        }

        graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor($"layer{l}.bias", [rows], network.BiasesOf(l).ToArray()));
        if (activation == Activation.GELU)
        {
            graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor($"layer{l}.gelu.sqrt2", [], new[] { OnnxExporter.GeluSqrt2 }));
            graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor($"layer{l}.gelu.one", [], new[] { 1f }));
            graph.Message(S.Graph.Initializer, OnnxExporter.FloatTensor($"layer{l}.gelu.half", [], new[] { 0.5f }));
        }
    }

    private static ProtoMessage Tensor(string name, long[] dims, int dataType, byte[] raw)
    {
        var tensor = new ProtoMessage();
        foreach (long dim in dims)
        {
            tensor.Int64(S.Tensor.Dims, dim);
        }

        return tensor.Int64(S.Tensor.DataType, dataType).String(S.Tensor.Name, name).Bytes(S.Tensor.RawData, raw);
    }

    private static string Describe(QuantizedNetwork network) => string.Create(CultureInfo.InvariantCulture,
        $"Int8 fully connected network [{string.Join(", ", network.Sizes.ToArray())}] exported by {OnnxModel.ProducerName}: " +
        $"per layer the input quantized {(network.IsCalibrated ? "to 7-bit codes with a scale calibrated on data (values beyond its range saturate)" : "per sample to 7-bit codes over [min(a, 0), max(a, 0)]")}, " +
        $"MatMulInteger with int8 weight codes " +
        $"(one scale per output row), dequantized, plus the float bias, then the activation ({Names.Of(network.Activations)}); " +
        $"trained with the {Names.Of(network.Cost)} cost. Input '{OnnxModel.InputName}' [N, {network.InputSize}], output '{OnnxModel.OutputName}' [N, {network.OutputSize}], float32.");
}
