using System.Runtime.InteropServices;
using Backprop.Simd.Onnx;

namespace Backprop.Simd.Tests.Onnx;

/// <summary>Models in other producers' layouts import with the right parameters and activations and compute what
/// ONNX Runtime computes from the same bytes; our own models come back bit for bit.</summary>
public class OnnxImportTests
{
    /// <summary>Imports <paramref name="model"/> and checks it against ONNX Runtime on random batches.</summary>
    private static Network ImportAndCompare(byte[] model, int batch, long[]? inputShape = null, ulong seed = 5)
    {
        Network network = OnnxModel.Parse(model, "fixture.onnx");
        using var oracle = new OnnxRuntimeOracle(model);
        var random = new SeededRandom(seed);
        float[] x = TestData.Uniform(batch * network.InputSize, ref random, -2, 2);
        float[] theirs = oracle.Run(x, batch, inputShape);
        var workspace = new Workspace(network);
        for (int s = 0; s < batch; s++)
        {
            ReadOnlySpan<float> sample = x.AsSpan(s * network.InputSize, network.InputSize);
            ReadOnlySpan<float> ours = network.FeedForward(sample, workspace);
            (double[] _, double[] bound) = ForwardErrorBound.Compute(network, sample);
            for (int j = 0; j < network.OutputSize; j++)
            {
                double tolerance = (2 * bound[j]) + Tolerance.Subnormal;
                float onnx = theirs[(s * network.OutputSize) + j];
                Assert.True(Math.Abs(ours[j] - onnx) <= tolerance, $"output {j} of sample {s}: ours {ours[j]}, ONNX Runtime {onnx}, tolerance {tolerance}");
            }
        }

        return network;
    }

    private static void AssertLayers(Network network, float[][] weights, float[][] biases)
    {
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            Assert.Equal(weights[l - 1], network.Weights(l).ToArray());
            Assert.Equal(biases[l - 1], network.Biases(l).ToArray());
        }
    }

    [Fact]
    public void A_hand_assembled_model_imports_and_matches_Onnx_Runtime()
    {
        Network network = ImportAndCompare(OnnxFixtures.HandAssembled(), batch: 4);

        Assert.Equal([3, 2], network.Sizes.ToArray());
        Assert.Equal([1f, 2, 3, -1, 0.5f, 0.25f, 0.5f, -2], network.Parameters.ToArray());
        Assert.Equal([Activation.Sigmoid], network.Activations.ToArray());
        Assert.Equal(CostFunction.Quadratic, network.Cost);
        float[] y = network.FeedForward([1f, 1f, 1f], new Workspace(network)).ToArray();
        Assert.Equal(1 / (1 + Math.Exp(-6.5)), y[0], 6);
        Assert.Equal(1 / (1 + Math.Exp(2.25)), y[1], 6);
    }

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(false, "batch_size")]
    public void PyTorchs_Gemm_layout_imports_and_matches_Onnx_Runtime(bool initializersAsInputs, string? batch)
    {
        (byte[] model, float[][] w, float[][] b) = OnnxFixtures.PyTorchGemm(initializersAsInputs, batch);
        Network network = ImportAndCompare(model, batch: batch is null ? 1 : 1000);

        Assert.Equal([6, 5, 4, 3], network.Sizes.ToArray());
        Assert.Equal([Activation.ReLU, Activation.Tanh, Activation.Softmax], network.Activations.ToArray());
        Assert.Equal(CostFunction.LogLikelihood, network.Cost);
        AssertLayers(network, w, b);
    }

    [Fact]
    public void PyTorchs_MatMul_Add_layout_with_a_Flatten_in_front_imports_and_matches_Onnx_Runtime()
    {
        (byte[] model, float[][] w, float[][] b) = OnnxFixtures.PyTorchMatMul();
        Network network = ImportAndCompare(model, batch: 1000, inputShape: [1000, 1, 2, 2]);

        Assert.Equal([4, 7, 3], network.Sizes.ToArray());
        Assert.Equal([Activation.Sigmoid, Activation.LeakyReLU], network.Activations.ToArray());
        Assert.Equal(CostFunction.Quadratic, network.Cost);
        AssertLayers(network, w, b);
    }

    [Fact]
    public void Gemm_without_transB_and_without_bias_and_MatMul_without_Add_import()
    {
        float[] w1 = OnnxFixtures.Values(3 * 2, 1), w2 = OnnxFixtures.Values(2 * 3, 2), w3 = OnnxFixtures.Values(4 * 2, 3), b3 = OnnxFixtures.Values(4, 4);
        byte[] model = OnnxFixtures.Model(OnnxFixtures.Graph(
            [
                OnnxFixtures.Node("Gemm", "g1", ["in", "W1"], "h1"),                  // B [in, out], no C
                OnnxFixtures.Node("MatMul", "m2", ["h1", "W2"], "h2"),                // no bias at all
                OnnxFixtures.Node("Tanh", "t2", ["h2"], "a2"),
                OnnxFixtures.Node("Gemm", "g3", ["a2", "W3", "b3"], "out", OnnxFixtures.IntAttribute("transB", 0)),
            ],
            [
                OnnxFixtures.Floats("W1", [2, 3], w1), OnnxFixtures.Floats("W2", [3, 2], w2),
                OnnxFixtures.Floats("W3", [2, 4], w3, raw: false), OnnxFixtures.Floats("b3", [1, 4], b3),
            ],
            [OnnxFixtures.FloatValue("in", "N", 2L)],
            [OnnxFixtures.FloatValue("out", "N", 4L)])).ToArray();

        Network network = ImportAndCompare(model, batch: 50);

        Assert.Equal([2, 3, 2, 4], network.Sizes.ToArray());
        Assert.Equal([Activation.Identity, Activation.Tanh, Activation.Identity], network.Activations.ToArray());
        AssertLayers(network,
            [OnnxFixtures.Transpose(w1, 2, 3), OnnxFixtures.Transpose(w2, 3, 2), OnnxFixtures.Transpose(w3, 2, 4)],
            [new float[3], new float[2], b3]);
    }

    public static TheoryData<int[], Activation, Activation, CostFunction> Architectures()
    {
        var data = new TheoryData<int[], Activation, Activation, CostFunction>();
        foreach (Activation hidden in new[] { Activation.Sigmoid, Activation.Tanh, Activation.ReLU, Activation.LeakyReLU, Activation.Identity })
        {
            data.Add([7, 5, 3], hidden, Activation.Softmax, CostFunction.LogLikelihood);
            data.Add([1, 9, 2, 4, 1], hidden, Activation.Sigmoid, CostFunction.CrossEntropy);
            data.Add([33, 17], hidden, hidden, CostFunction.Quadratic);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Export_then_import_gives_bit_identical_parameters_and_the_same_architecture(int[] sizes, Activation hidden, Activation output, CostFunction cost)
    {
        var network = new Network(sizes, seed: 77, new NetworkOptions { HiddenActivation = hidden, OutputActivation = output, Cost = cost });
        // Values that only a bit-exact path preserves.
        network.Edit(p =>
        {
            p[0] = -0f;
            p[^1] = float.Epsilon;
            p[p.Length / 2] = float.MaxValue;
            p[1] = BitConverter.Int32BitsToSingle(0x7FC1_2345); // a NaN with a payload
        });

        Network back = OnnxModel.Parse(OnnxModel.ToBytes(network), "round-trip.onnx");

        Assert.Equal(network.Sizes.ToArray(), back.Sizes.ToArray());
        Assert.Equal(network.Activations.ToArray(), back.Activations.ToArray());
        Assert.Equal(cost, back.Cost);
        Assert.Equal(MemoryMarshal.Cast<float, int>(network.Parameters).ToArray(), MemoryMarshal.Cast<float, int>(back.Parameters).ToArray());
    }

    [Fact]
    public void Save_and_Load_go_through_a_file_atomically_and_Write_and_Read_through_streams()
    {
        string dir = Directory.CreateTempSubdirectory("backprop-onnx-").FullName;
        try
        {
            var network = new Network([784, 30, 10], seed: 8);
            string path = Path.Combine(dir, "model.onnx");
            File.WriteAllText(path, "old contents");
            OnnxModel.Save(network, path);
            Assert.Equal(OnnxModel.ToBytes(network), File.ReadAllBytes(path));
            Assert.Equal(["model.onnx"], Directory.GetFiles(dir).Select(Path.GetFileName));
            Assert.Equal(network.Parameters.ToArray(), OnnxModel.Load(path).Parameters.ToArray());

            using var stream = new MemoryStream();
            OnnxModel.Write(network, stream);
            stream.Position = 0;
            Assert.Equal(network.Parameters.ToArray(), OnnxModel.Read(stream, "stream").Parameters.ToArray());

            Assert.Throws<FileNotFoundException>(() => OnnxModel.Load(Path.Combine(dir, "missing.onnx")));
            Assert.Throws<DirectoryNotFoundException>(() => OnnxModel.Save(network, Path.Combine(dir, "no", "such", "dir.onnx")));
            Assert.Equal(["model.onnx"], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
