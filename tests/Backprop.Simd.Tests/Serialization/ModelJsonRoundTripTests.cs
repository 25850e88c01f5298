using System.Text;
using System.Text.Json;
using Backprop.Simd.Serialization;
using FsCheck.Xunit;

namespace Backprop.Simd.Tests.Serialization;

/// <summary>Saving then loading gives back the very same bits; the file has network2.py's layout; saving is atomic.</summary>
[Properties(Arbitrary = [typeof(Generators)], MaxTest = 40)]
public class ModelJsonRoundTripTests
{
    [Property]
    public void Save_then_Load_gives_bit_identical_parameters_and_the_same_architecture(NetShape shape)
    {
        Network network = WithRandomArchitecture(ModelNetworks.Mixed(shape.Sizes, shape.Seed), shape.Seed);
        using var directory = new TempDirectory();
        string path = directory.File("model.json");

        ModelJson.Save(network, path);
        Network loaded = ModelJson.Load(path);

        Assert.Equal(network.Cost, loaded.Cost);
        Assert.Equal(network.Activations.ToArray(), loaded.Activations.ToArray());
        Assert.Equal(shape.Sizes, loaded.Sizes.ToArray());
        ModelNetworks.AssertBitIdentical(network.Parameters, loaded.Parameters);
        Assert.Equal(["model.json"], directory.Entries()); // no temporary file left behind
    }

    public static TheoryData<Activation, Activation, CostFunction> ValidArchitectures()
    {
        var data = new TheoryData<Activation, Activation, CostFunction>();
        foreach (var (hidden, output, cost, valid) in ModelNetworks.Architectures())
        {
            if (valid)
            {
                data.Add(hidden, output, cost);
            }
        }

        return data;
    }

    [Fact]
    public void Valid_architectures_are_every_hidden_activation_but_softmax_with_every_output_and_cost_pair_that_fits()
    {
        // 9 hidden activations (8 kinds and leaky-relu:0.2) x (9 quadratic outputs + sigmoid/cross-entropy
        // + softmax/log-likelihood + log-softmax/log-likelihood)
        Assert.Equal(9 * 12, ValidArchitectures().Count);
    }

    [Theory]
    [MemberData(nameof(ValidArchitectures))]
    public void Every_valid_architecture_survives_Save_then_Load(Activation hidden, Activation output, CostFunction cost)
    {
        Network network = ModelNetworks.WithArchitecture(ModelNetworks.Mixed([7, 5, 3], seed: 11), [hidden, output], cost);
        using var directory = new TempDirectory();
        string path = directory.File("model.json");

        ModelJson.Save(network, path);
        Network loaded = ModelJson.Load(path);

        Assert.Equal(cost, loaded.Cost);
        Assert.Equal([hidden, output], loaded.Activations.ToArray());
        ModelNetworks.AssertBitIdentical(network.Parameters, loaded.Parameters);

        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement root = document.RootElement;
        Assert.Equal(ModelJson.CostName(cost), root.GetProperty("cost").GetString());
        if (hidden == Activation.Sigmoid && output == Activation.Sigmoid)
        {
            Assert.Equal(["sizes", "weights", "biases", "cost"], root.EnumerateObject().Select(p => p.Name).ToArray());
        }
        else
        {
            Assert.Equal(["sizes", "weights", "biases", "cost", "activations"], root.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal([ModelJson.ActivationName(hidden), ModelJson.ActivationName(output)], root.GetProperty("activations").EnumerateArray().Select(e => e.GetString()).ToArray());
        }
    }

    [Fact]
    public void Deep_network_with_every_activation_survives_Write_then_Read()
    {
        Activation[] activations = [Activation.Tanh, Activation.ReLU, Activation.LeakyReLU, Activation.Identity, Activation.Sigmoid, Activation.Softmax];
        Network network = ModelNetworks.WithArchitecture(ModelNetworks.Mixed([9, 8, 7, 6, 5, 4, 3], seed: 5), activations, CostFunction.LogLikelihood);

        string json = WriteToString(network);
        Network loaded = ModelJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "deep.json");

        Assert.EndsWith(""","cost":"LogLikelihoodCost","activations":["tanh","relu","leaky-relu","identity","sigmoid","softmax"]}""", json);
        Assert.Equal(activations, loaded.Activations.ToArray());
        Assert.Equal(CostFunction.LogLikelihood, loaded.Cost);
        ModelNetworks.AssertBitIdentical(network.Parameters, loaded.Parameters);
    }

    [Fact]
    public void Every_kind_of_finite_float_survives_Write_then_Read()
    {
        var network = new Network([1000, 3], seed: 1);
        var random = new SeededRandom(7);
        Span<float> p = network.MutableParameters;
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = ModelNetworks.RandomFinite(ref random);
        }

        ModelNetworks.Awkward.CopyTo(p);
        using var stream = new MemoryStream();
        ModelJson.Write(network, stream);
        stream.Position = 0;
        Network loaded = ModelJson.Read(stream, "memory");

        Assert.Equal(CostFunction.Quadratic, loaded.Cost);
        ModelNetworks.AssertBitIdentical(network.Parameters, loaded.Parameters);
        Assert.Equal(-0f, loaded.Parameters[1]);
        Assert.True(float.IsNegative(loaded.Parameters[1]));
    }

    [Fact]
    public void Floats_are_written_in_their_shortest_round_trip_form()
    {
        var network = new Network([4, 1], [0.1f, -0f, float.Epsilon, float.MaxValue, 1e-30f]);
        string json = WriteToString(network);
        Assert.Equal("""{"sizes":[4,1],"weights":[[[0.1,-0,1E-45,3.4028235E+38]]],"biases":[[[1E-30]]],"cost":"QuadraticCost"}""", json);
    }

    [Theory]
    [InlineData(CostFunction.Quadratic, "QuadraticCost")]
    [InlineData(CostFunction.CrossEntropy, "CrossEntropyCost")]
    public void Sigmoid_network_is_written_with_exactly_network2s_four_keys(CostFunction cost, string name)
    {
        var network = new Network([2, 1], [0.5f, -2f, 0.25f], [Activation.Sigmoid], cost);
        Assert.Equal($$"""{"sizes":[2,1],"weights":[[[0.5,-2]]],"biases":[[[0.25]]],"cost":"{{name}}"}""", WriteToString(network));
    }

    [Theory]
    [InlineData("relu", "sigmoid", CostFunction.CrossEntropy, "CrossEntropyCost", """["relu","sigmoid"]""")]
    [InlineData("sigmoid", "identity", CostFunction.Quadratic, "QuadraticCost", """["sigmoid","identity"]""")]
    [InlineData("leaky-relu", "tanh", CostFunction.Quadratic, "QuadraticCost", """["leaky-relu","tanh"]""")]
    [InlineData("leaky-relu:0.2", "gelu", CostFunction.Quadratic, "QuadraticCost", """["leaky-relu:0.2","gelu"]""")]
    [InlineData("elu", "silu", CostFunction.Quadratic, "QuadraticCost", """["elu","silu"]""")]
    [InlineData("sigmoid", "softmax", CostFunction.LogLikelihood, "LogLikelihoodCost", """["sigmoid","softmax"]""")]
    [InlineData("silu", "log-softmax", CostFunction.LogLikelihood, "LogLikelihoodCost", """["silu","log-softmax"]""")]
    public void Non_sigmoid_network_is_written_with_its_activations_after_network2s_keys(string hidden, string output, CostFunction cost, string costName, string names)
    {
        Assert.True(ModelJson.TryParseActivation(hidden, out Activation f1));
        Assert.True(ModelJson.TryParseActivation(output, out Activation f2));
        var network = new Network([1, 1, 1], [0.5f, 0f, -1f, 2f], [f1, f2], cost);
        Assert.Equal($$"""{"sizes":[1,1,1],"weights":[[[0.5]],[[-1]]],"biases":[[[0]],[[2]]],"cost":"{{costName}}","activations":{{names}}}""", WriteToString(network));
    }

    [Fact]
    public void Written_file_has_exactly_network2s_keys_and_shapes()
    {
        int[] sizes = [5, 4, 3, 2];
        Network network = ModelNetworks.WithArchitecture(ModelNetworks.Mixed(sizes, seed: 3), new Activation[3], CostFunction.CrossEntropy);
        using JsonDocument document = JsonDocument.Parse(WriteToString(network));
        JsonElement root = document.RootElement;

        Assert.Equal(["sizes", "weights", "biases", "cost"], root.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(sizes, root.GetProperty("sizes").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Equal("CrossEntropyCost", root.GetProperty("cost").GetString());

        JsonElement weights = root.GetProperty("weights"), biases = root.GetProperty("biases");
        Assert.Equal(network.OutputLayer, weights.GetArrayLength());
        Assert.Equal(network.OutputLayer, biases.GetArrayLength());
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            JsonElement matrix = weights[l - 1], vector = biases[l - 1];
            Assert.Equal(sizes[l], matrix.GetArrayLength());
            Assert.Equal(sizes[l], vector.GetArrayLength());
            for (int j = 0; j < sizes[l]; j++)
            {
                Assert.Equal(sizes[l - 1], matrix[j].GetArrayLength());
                for (int k = 0; k < sizes[l - 1]; k++)
                {
                    Assert.Equal(network.Weights(l)[(j * sizes[l - 1]) + k], matrix[j][k].GetSingle()); // row j = weights into neuron j
                }

                Assert.Equal(JsonValueKind.Array, vector[j].ValueKind); // network2.py's column vector: [[b0], [b1], ...]
                Assert.Equal(1, vector[j].GetArrayLength());
                Assert.Equal(network.Biases(l)[j], vector[j][0].GetSingle());
            }
        }
    }

    [Fact]
    public void Write_leaves_the_stream_open_and_rejects_unwritable_ones()
    {
        var network = new Network([2, 1], seed: 1);
        using var stream = new MemoryStream();
        ModelJson.Write(network, stream);
        Assert.True(stream.CanWrite);
        Assert.True(stream.Length > 0);

        using var readOnly = new MemoryStream(new byte[10], writable: false);
        ArgumentException error = Assert.Throws<ArgumentException>(() => ModelJson.Write(network, readOnly));
        Assert.Equal("destination", error.ParamName);
    }

    [Fact]
    public void Save_replaces_an_existing_file_and_leaves_no_temporary_file()
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.json");
        File.WriteAllText(path, "old contents, not even JSON");
        var network = new Network([3, 2], seed: 4);

        ModelJson.Save(network, path);

        Assert.Equal(["model.json"], directory.Entries());
        ModelNetworks.AssertBitIdentical(network.Parameters, ModelJson.Load(path).Parameters);
    }

    [Fact]
    public void Save_interrupted_midway_keeps_the_old_file_and_removes_the_temporary_one()
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.json");
        var old = new Network([3, 2], seed: 1);
        ModelJson.Save(old, path);
        byte[] before = File.ReadAllBytes(path);
        var network = new Network([784, 30, 10], seed: 2); // ~250 kB of JSON: the writer flushes several times before failing

        Stream? temporary = null;
        IOException error = Assert.Throws<IOException>(() => ModelJson.Save(network, path, file =>
        {
            temporary = file;
            return new FailingStream(file, budget: 100_000);
        }));

        Assert.Contains("Simulated failure", error.Message);
        Assert.NotNull(temporary);                 // the failure really happened while writing the temporary file
        Assert.Equal(["model.json"], directory.Entries());
        Assert.Equal(before, File.ReadAllBytes(path));
        ModelNetworks.AssertBitIdentical(old.Parameters, ModelJson.Load(path).Parameters);
    }

    [Fact]
    public void Save_into_a_missing_directory_creates_nothing()
    {
        using var directory = new TempDirectory();
        string path = Path.Combine(directory.Path, "missing", "model.json");

        Assert.Throws<DirectoryNotFoundException>(() => ModelJson.Save(new Network([2, 1], seed: 1), path));

        Assert.Empty(directory.Entries());
    }

    [Fact]
    public void Save_that_cannot_rename_keeps_the_target_and_removes_the_temporary_file()
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.json");
        Directory.CreateDirectory(path);                       // the target is a directory: the final rename must fail
        File.WriteAllText(Path.Combine(path, "keep.txt"), "x");

        Exception? error = Record.Exception(() => ModelJson.Save(new Network([2, 1], seed: 1), path));

        Assert.True(error is IOException or UnauthorizedAccessException, $"unexpected {error?.GetType().Name}: {error?.Message}");
        Assert.Equal(["model.json"], directory.Entries());
        Assert.Equal("x", File.ReadAllText(Path.Combine(path, "keep.txt")));
    }

    [Fact]
    public void Save_rejects_bad_arguments_before_touching_the_disk()
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.json");
        var network = new Network([3, 2], seed: 1);

        network.Edit(p => p[(1 * 3) + 2] = float.NaN); // W^1[1,2]
        ArgumentException nan = Assert.Throws<ArgumentException>(() => ModelJson.Save(network, path));
        Assert.Equal("network", nan.ParamName);
        Assert.Contains("W^1[1,2]", nan.Message);
        Assert.Contains("NaN", nan.Message);

        network.Edit(p => p[(1 * 3) + 2] = 0f);
        network.Edit(p => p[network.Layout.BiasOffset(1) + 1] = float.NegativeInfinity); // b^1[1]
        ArgumentException infinity = Assert.Throws<ArgumentException>(() => ModelJson.Write(network, new MemoryStream()));
        Assert.Equal("network", infinity.ParamName);
        Assert.Contains("b^1[1]", infinity.Message);

        network.Edit(p => p[network.Layout.BiasOffset(1) + 1] = 0f);
        ArgumentException folder = Assert.Throws<ArgumentException>(() => ModelJson.Save(network, directory.Path + Path.DirectorySeparatorChar));
        Assert.Equal("path", folder.ParamName);
        Assert.Throws<ArgumentException>(() => ModelJson.Save(network, ""));
        Assert.Throws<ArgumentNullException>(() => ModelJson.Save(null!, path));

        Assert.Empty(directory.Entries());
    }

    private static string WriteToString(Network network)
    {
        using var stream = new MemoryStream();
        ModelJson.Write(network, stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary><paramref name="network"/> with hidden activations and an output/cost pair drawn from <paramref name="seed"/>.</summary>
    private static Network WithRandomArchitecture(Network network, ulong seed)
    {
        var random = new SeededRandom(seed ^ 0x51ab);
        Activation[] hidden = [Activation.Sigmoid, Activation.Tanh, Activation.ReLU, Activation.LeakyReLU, Activation.Identity];
        (Activation Output, CostFunction Cost)[] outputs =
        [
            (Activation.Sigmoid, CostFunction.Quadratic), (Activation.Sigmoid, CostFunction.CrossEntropy), (Activation.Softmax, CostFunction.LogLikelihood),
            (Activation.Tanh, CostFunction.Quadratic), (Activation.ReLU, CostFunction.Quadratic), (Activation.LeakyReLU, CostFunction.Quadratic), (Activation.Identity, CostFunction.Quadratic),
        ];
        var activations = new Activation[network.OutputLayer];
        for (int l = 0; l < activations.Length - 1; l++)
        {
            activations[l] = random.NextDouble() < 0.3 ? Activation.Sigmoid : hidden[random.NextInt(hidden.Length)];
        }

        var (output, cost) = outputs[random.NextInt(outputs.Length)];
        activations[^1] = output;
        return ModelNetworks.WithArchitecture(network, activations, cost);
    }
}
