using Backprop.Simd.Onnx;

namespace Backprop.Simd.Tests.Onnx;

/// <summary>
/// Every graph form PyTorch writes that the importer reads (<see cref="TorchForms"/>) imports with the right sizes,
/// activations and cost, with each parameter the float nearest the exact fold of the graph's constants, and computes
/// what ONNX Runtime computes from the same bytes: both within their error bounds of the graph's exact value
/// (<see cref="GraphReference"/>).
/// </summary>
public class OnnxTorchFormTests
{
    public static TheoryData<string> Forms => [.. TorchForms.All.Select(f => f.Name)];

    private static TorchForm Form(string name) => TorchForms.All.Single(f => f.Name == name);

    [Theory]
    [MemberData(nameof(Forms))]
    public void Imports_with_its_layers_folded_exactly_and_rounded_once(string name)
    {
        TorchForm form = Form(name);
        Network network = OnnxModel.Parse(form.Model, "torch.onnx");

        Assert.Equal(form.Sizes, network.Sizes.ToArray());
        Assert.Equal(form.Activations, network.Activations.ToArray());
        Assert.Equal(form.Cost, network.Cost);
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            AssertNearest(form.Layers[l - 1].W, network.Weights(l), $"layer {l} weight");
            AssertNearest(form.Layers[l - 1].B, network.Biases(l), $"layer {l} bias");
        }
    }

    // Each float is the one nearest the exact value (computed in double; the slack covers double's own rounding).
    private static void AssertNearest(double[] exact, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(exact.Length, actual.Length);
        for (int i = 0; i < exact.Length; i++)
        {
            double halfUlp = Math.Abs(exact[i]) * Tolerance.U; // half a unit in the last place, at most
            Assert.True(Math.Abs(actual[i] - exact[i]) <= (halfUlp * (1 + 1e-6)) + 1e-300, $"{what} {i}: {actual[i]:R}, exact {exact[i]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void Computes_what_Onnx_Runtime_computes_from_the_same_bytes(string name)
    {
        TorchForm form = Form(name);
        Network network = OnnxModel.Parse(form.Model, "torch.onnx");
        using var oracle = new OnnxRuntimeOracle(form.Model);
        var random = new SeededRandom(41);
        int batch = form.FixedBatch ? 1 : 50, runs = form.FixedBatch ? 30 : 1, width = network.InputSize;
        var workspace = new Workspace(network);
        for (int run = 0; run < runs; run++)
        {
            float[] x = TestData.Uniform(batch * width, ref random, -2, 2);
            float[] theirs = oracle.Run(x, batch, [batch, .. form.SampleShape]);
            for (int s = 0; s < batch; s++)
            {
                GraphReference graph = form.Reference(x[(s * width)..((s + 1) * width)]);
                for (int j = 0; j < network.OutputSize; j++)
                {
                    double exact = graph.Value[j], onnx = theirs[(s * network.OutputSize) + j];
                    Assert.True(Math.Abs(onnx - exact) <= graph.Error[j] + Tolerance.Subnormal, $"output {j} of sample {s}: ONNX Runtime {onnx:R}, exact {exact:R}, bound {graph.Error[j]:R}");
                }
            }

            for (int s = 0; s < batch; s++)
            {
                float[] sample = x[(s * width)..((s + 1) * width)];
                GraphReference graph = form.Reference(sample), ours = GraphReference.Ours(network, sample);
                ReadOnlySpan<float> output = network.FeedForward(sample, workspace);
                for (int j = 0; j < network.OutputSize; j++)
                {
                    double exact = graph.Value[j];
                    Assert.True(Math.Abs(output[j] - exact) <= ours.Error[j] + Tolerance.Subnormal, $"output {j} of sample {s}: ours {output[j]:R}, exact {exact:R}, bound {ours.Error[j]:R}");
                }
            }
        }
    }
}
