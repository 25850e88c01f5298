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
    public void Save_then_Load_gives_bit_identical_parameters(NetShape shape)
    {
        Network network = ModelNetworks.Mixed(shape.Sizes, shape.Seed);
        using var directory = new TempDirectory();
        string path = directory.File("model.json");

        ModelJson.Save(network, path, ModelJson.CrossEntropyCost);
        SavedModel loaded = ModelJson.Load(path);

        Assert.Equal(ModelJson.CrossEntropyCost, loaded.Cost);
        Assert.Equal(shape.Sizes, loaded.Network.Sizes.ToArray());
        ModelNetworks.AssertBitIdentical(network.Parameters, loaded.Network.Parameters);
        Assert.Equal(["model.json"], directory.Entries()); // no temporary file left behind
    }

    [Fact]
    public void Every_kind_of_finite_float_survives_Write_then_Read()
    {
        var network = new Network([1000, 3], seed: 1);
        var random = new SeededRandom(7);
        Span<float> p = network.Parameters;
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = ModelNetworks.RandomFinite(ref random);
        }

        ModelNetworks.Awkward.CopyTo(p);
        using var stream = new MemoryStream();
        ModelJson.Write(network, stream);
        stream.Position = 0;
        SavedModel loaded = ModelJson.Read(stream, "memory");

        Assert.Equal(ModelJson.QuadraticCost, loaded.Cost);
        ModelNetworks.AssertBitIdentical(network.Parameters, loaded.Network.Parameters);
        Assert.Equal(-0f, loaded.Network.Parameters[1]);
        Assert.True(float.IsNegative(loaded.Network.Parameters[1]));
    }

    [Fact]
    public void Floats_are_written_in_their_shortest_round_trip_form()
    {
        var network = new Network([4, 1], [0.1f, -0f, float.Epsilon, float.MaxValue, 1e-30f]);
        string json = WriteToString(network);
        Assert.Equal("""{"sizes":[4,1],"weights":[[[0.1,-0,1E-45,3.4028235E+38]]],"biases":[[[1E-30]]],"cost":"QuadraticCost"}""", json);
    }

    [Fact]
    public void Written_file_has_exactly_network2s_keys_and_shapes()
    {
        int[] sizes = [5, 4, 3, 2];
        Network network = ModelNetworks.Mixed(sizes, seed: 3);
        using JsonDocument document = JsonDocument.Parse(WriteToString(network, ModelJson.CrossEntropyCost));
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
        ModelNetworks.AssertBitIdentical(network.Parameters, ModelJson.Load(path).Network.Parameters);
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
        IOException error = Assert.Throws<IOException>(() => ModelJson.Save(network, path, ModelJson.QuadraticCost, file =>
        {
            temporary = file;
            return new FailingStream(file, budget: 100_000);
        }));

        Assert.Contains("Simulated failure", error.Message);
        Assert.NotNull(temporary);                 // the failure really happened while writing the temporary file
        Assert.Equal(["model.json"], directory.Entries());
        Assert.Equal(before, File.ReadAllBytes(path));
        ModelNetworks.AssertBitIdentical(old.Parameters, ModelJson.Load(path).Network.Parameters);
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

        ArgumentException cost = Assert.Throws<ArgumentException>(() => ModelJson.Save(network, path, "LogLikelihoodCost"));
        Assert.Equal("cost", cost.ParamName);
        Assert.Contains("LogLikelihoodCost", cost.Message);
        Assert.Contains("\"QuadraticCost\" or \"CrossEntropyCost\"", cost.Message);

        network.Weights(1)[(1 * 3) + 2] = float.NaN;
        ArgumentException nan = Assert.Throws<ArgumentException>(() => ModelJson.Save(network, path));
        Assert.Equal("network", nan.ParamName);
        Assert.Contains("W^1[1,2]", nan.Message);
        Assert.Contains("NaN", nan.Message);

        network.Weights(1)[(1 * 3) + 2] = 0f;
        network.Biases(1)[1] = float.NegativeInfinity;
        ArgumentException infinity = Assert.Throws<ArgumentException>(() => ModelJson.Write(network, new MemoryStream()));
        Assert.Equal("network", infinity.ParamName);
        Assert.Contains("b^1[1]", infinity.Message);

        network.Biases(1)[1] = 0f;
        ArgumentException folder = Assert.Throws<ArgumentException>(() => ModelJson.Save(network, directory.Path + Path.DirectorySeparatorChar));
        Assert.Equal("path", folder.ParamName);
        Assert.Throws<ArgumentException>(() => ModelJson.Save(network, ""));
        Assert.Throws<ArgumentNullException>(() => ModelJson.Save(null!, path));

        Assert.Empty(directory.Entries());
    }

    private static string WriteToString(Network network, string cost = ModelJson.QuadraticCost)
    {
        using var stream = new MemoryStream();
        ModelJson.Write(network, stream, cost);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
