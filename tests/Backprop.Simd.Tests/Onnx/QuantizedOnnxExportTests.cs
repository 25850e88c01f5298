using Backprop.Simd.Data;
using Backprop.Simd.Onnx;
using Backprop.Simd.Serialization;
using Backprop.Simd.Tests.Quantized;

namespace Backprop.Simd.Tests.Onnx;

/// <summary>
/// The ONNX export of int8 networks, run by ONNX Runtime on the bundled digits. ORT computes the same integer sums
/// (MatMulInteger on the same 7-bit codes); its floats can differ from ours only where it computes a scale in float
/// that we compute in double (one rounding apart, which can move a code by one step), or in the activation functions'
/// roundoff. So each output must be within twice the quantization bound of the exact float network's output
/// (<see cref="QuantizationErrorBound"/>: both are int8 results under that bound), and nearly all must be equal to a few units in the last place.
/// Calibrated networks export constant scales (no float-versus-double step at all), and pass the same checks.
/// </summary>
public sealed class QuantizedOnnxExportTests
{
    public static TheoryData<int[], string, string, bool> Models => new()
    {
        { [784, 30, 10], "relu", "softmax", false },      // non-negative inputs: zero point 0
        { [784, 20, 9, 5], "tanh", "identity", false },   // hidden inputs of both signs: zero points inside the range
        { [784, 12, 10], "gelu", "log-softmax", false },
        { [784, 30, 10], "relu", "softmax", true },       // calibrated on 1,000 training digits: constant scales
        { [784, 20, 9, 5], "tanh", "identity", true },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Onnx_Runtime_runs_the_int8_export_and_agrees_with_FeedForward(int[] sizes, string hidden, string output, bool calibrated)
    {
        Assert.True(ModelJson.TryParseActivation(hidden, out Activation h));
        Assert.True(ModelJson.TryParseActivation(output, out Activation o));
        var network = new Network(sizes, seed: 8, new NetworkOptions
        {
            HiddenActivation = h,
            OutputActivation = o,
            Cost = o.IsOutputOnly ? CostFunction.LogLikelihood : CostFunction.Quadratic,
            WeightInit = WeightInit.He,
        });
        MnistSplit split = MnistData.LoadBundled();
        QuantizedNetwork quantized = calibrated ? QuantizedNetwork.From(network, split.Training.Slice(0, 1000)) : QuantizedNetwork.From(network);
        Assert.Equal(calibrated, quantized.IsCalibrated);
        Dataset digits = split.Test;
        const int Count = 400;
        int n0 = sizes[0], nL = sizes[^1];
        float[] inputs = new float[Count * n0];
        for (int i = 0; i < Count; i++)
        {
            digits.Input(i, inputs.AsSpan(i * n0, n0));
        }

        using var ort = new OnnxRuntimeOracle(OnnxModel.ToBytes(quantized));
        float[] theirs = ort.Run(inputs, Count);
        var ws = new QuantizedWorkspace(quantized);
        int close = 0, samePrediction = 0;
        for (int i = 0; i < Count; i++)
        {
            float[] x = inputs.AsSpan(i * n0, n0).ToArray();
            float[] ours = quantized.FeedForward(x, ws).ToArray();
            double[] bound = QuantizationErrorBound.Compute(network, quantized, ws, x);
            double[] exact = QuantizationErrorBound.Exact(network, x);
            bool near = true;
            for (int j = 0; j < nL; j++)
            {
                float t = theirs[(i * nL) + j];
                Assert.True(Math.Abs(t - exact[j]) <= 2 * bound[j], $"sample {i}, output {j}: ORT {t}, ours {ours[j]}, exact {exact[j]}, bound {bound[j]:E3}");
                near &= Math.Abs(t - ours[j]) <= 1e-5 * (1 + Math.Abs(ours[j]));
            }

            close += near ? 1 : 0;
            samePrediction += Network.ArgMax(ours) == Network.ArgMax(theirs.AsSpan(i * nL, nL)) ? 1 : 0;
        }

        Assert.True(close >= Count * 0.98, $"{close} / {Count} samples within 1e-5 relative of ours");
        Assert.True(samePrediction >= Count * 0.99, $"{samePrediction} / {Count} samples predict the same class");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_initializer_of_the_export_is_read_by_a_node(bool calibrated)
    {
        // ONNX Runtime drops an unread initializer with a warning; the file should not carry one.
        var network = new Network([784, 12, 10], seed: 4, new NetworkOptions { HiddenActivation = Activation.GELU, OutputActivation = Activation.Softmax, Cost = CostFunction.LogLikelihood });
        QuantizedNetwork quantized = calibrated ? QuantizedNetwork.From(network, MnistData.LoadBundled().Training.Slice(0, 200)) : QuantizedNetwork.From(network);
        OnnxGraph graph = OnnxProtoParser.Parse(OnnxModel.ToBytes(quantized), "int8.onnx").Graph!;
        var read = graph.Nodes.SelectMany(node => node.Inputs).ToHashSet();
        Assert.All(graph.Initializers, tensor => Assert.Contains(tensor.Name, read));
    }

    [Fact]
    public void The_export_command_writes_the_int8_graph_for_an_int8_model_file()
    {
        string dir = Directory.CreateTempSubdirectory("backprop-int8-onnx-").FullName;
        try
        {
            string model = Path.Combine(dir, "m.json"), int8 = Path.Combine(dir, "m.int8.json"), onnx = Path.Combine(dir, "m.onnx");
            ModelJson.Save(new Network([784, 10, 10], seed: 2), model);
            Assert.Equal(0, Cli.CliRunner.Run("quantize", "--model", model, "--out", int8).Exit);
            var (exit, text, error) = Cli.CliRunner.Run("export", "--model", int8, "--onnx", onnx);
            Assert.True(exit == 0, error);
            Assert.StartsWith("Exported int8 [784, 10, 10] (sigmoid, sigmoid; quadratic cost) from ", text);
            Assert.Equal(OnnxModel.ToBytes(QuantizedNetwork.Load(int8)), File.ReadAllBytes(onnx));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
