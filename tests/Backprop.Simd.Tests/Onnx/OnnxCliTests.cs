using Backprop.Simd.Cli;
using Backprop.Simd.Onnx;
using Backprop.Simd.Serialization;
using static Backprop.Simd.Tests.Cli.CliRunner;

namespace Backprop.Simd.Tests.Onnx;

/// <summary><c>backprop export</c> and <c>backprop import</c>, in process.</summary>
public sealed class OnnxCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-onnx-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Export_writes_a_model_Onnx_Runtime_runs_and_import_gives_the_same_model_file_back()
    {
        var network = new Network([784, 30, 10], seed: 4);
        string json = PathOf("model.json"), onnx = PathOf("model.onnx"), back = PathOf("back.json");
        ModelJson.Save(network, json);

        var (exit, output, error) = Run("export", "--model", json, "--onnx", onnx);
        Assert.True(exit == 0, error);
        Assert.Equal("", error);
        Assert.StartsWith($"Exported [784, 30, 10] (sigmoid, sigmoid; quadratic cost) from {json} to {onnx} (", output);
        Assert.Contains($"bytes, ONNX IR {OnnxModel.IrVersion}, opset {OnnxModel.OpsetVersion}).", output);

        using (var oracle = new OnnxRuntimeOracle(File.ReadAllBytes(onnx)))
        {
            var random = new SeededRandom(1);
            float[] x = TestData.Uniform(784, ref random, 0, 1);
            float[] theirs = oracle.Run(x, 1);
            ReadOnlySpan<float> ours = network.FeedForward(x, new Workspace(network));
            (double[] _, double[] bound) = ForwardErrorBound.Compute(network, x);
            for (int j = 0; j < 10; j++)
            {
                Assert.True(Math.Abs(ours[j] - theirs[j]) <= (2 * bound[j]) + Tolerance.Subnormal, $"output {j}: {ours[j]} vs {theirs[j]}");
            }
        }

        (exit, output, error) = Run("import", "--onnx", onnx, "--save", back);
        Assert.True(exit == 0, error);
        Assert.Equal($"Imported [784, 30, 10] (sigmoid, sigmoid; quadratic cost) from {onnx} and saved it to {back}.", output.Trim());
        Assert.Equal(File.ReadAllBytes(json), File.ReadAllBytes(back));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void A_softmax_model_keeps_its_activations_and_cost_through_export_and_import()
    {
        var network = new Network([784, 40, 20, 10], 6, new NetworkOptions { HiddenActivation = Activation.LeakyReLU, Cost = CostFunction.LogLikelihood });
        string json = PathOf("softmax.json"), onnx = PathOf("softmax.onnx"), back = PathOf("softmax-back.json");
        ModelJson.Save(network, json);
        Assert.Equal(0, Run("export", "--model", json, "--onnx", onnx).Exit);
        var (exit, _, error) = Run("import", "--onnx", onnx, "--save", back);
        Assert.True(exit == 0, error);
        Assert.Equal(File.ReadAllBytes(json), File.ReadAllBytes(back));
        Network loaded = ModelJson.Load(back);
        Assert.Equal([Activation.LeakyReLU, Activation.LeakyReLU, Activation.Softmax], loaded.Activations.ToArray());
        Assert.Equal(CostFunction.LogLikelihood, loaded.Cost);
    }

    [Fact]
    public void Import_reads_PyTorchs_layout_and_says_what_it_found()
    {
        string onnx = PathOf("torch.onnx"), json = PathOf("torch.json");
        File.WriteAllBytes(onnx, OnnxFixtures.PyTorchGemm().Model);

        var (exit, output, error) = Run("import", "--onnx", onnx, "--save", json);

        Assert.True(exit == 0, error);
        Assert.Contains("Imported [6, 5, 4, 3] (relu, tanh, softmax; log-likelihood cost)", output);
        Assert.True(File.Exists(json));
    }

    [Fact]
    public void Bad_input_is_a_one_line_user_error()
    {
        string corrupt = PathOf("corrupt.onnx"), conv = PathOf("conv.onnx"), json = PathOf("out.json");
        byte[] model = OnnxFixtures.HandAssembled();
        File.WriteAllBytes(corrupt, model[..40]);
        File.WriteAllBytes(conv, OnnxFixtures.Model(OnnxFixtures.Graph([OnnxFixtures.Node("Conv", "c", ["x", "W"], "y")], [], [OnnxFixtures.FloatValue("x", "N", 3L)], [OnnxFixtures.FloatValue("y", "N", 3L)])).ToArray());

        (string[] Args, string Mention)[] cases =
        [
            (["import", "--onnx", corrupt, "--save", json], $"backprop: --onnx: {corrupt}: model: field 7 (graph) at byte 8 declares 155 bytes, but only 29 remain"),
            (["import", "--onnx", conv, "--save", json], $"backprop: --onnx: {conv}: graph.node[0] 'c' (Conv): is a 'Conv' node, which is not supported"),
            (["import", "--onnx", PathOf("missing.onnx"), "--save", json], "--onnx: ONNX model file"),
            (["import", "--onnx", corrupt], "--save"),
            (["export", "--model", PathOf("missing.json"), "--onnx", PathOf("x.onnx")], "--model: model file"),
            (["export", "--model", PathOf("missing.json")], "--onnx"),
        ];
        foreach ((string[] args, string mention) in cases)
        {
            var (exit, output, error) = Run(args);
            Assert.Equal(BackpropCli.UserError, exit);
            Assert.Equal("", output);
            Assert.Contains(mention, error);
            Assert.Single(error.Trim().Split('\n'));
        }

        Assert.False(File.Exists(json));
    }
}
