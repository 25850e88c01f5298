using System.Text;
using Backprop.Simd.Serialization;

namespace Backprop.Simd.Tests.Serialization;

/// <summary>A bad model file gets an <see cref="InvalidDataException"/> naming the file, where the problem is and what
/// was expected, before any network is built.</summary>
public class ModelJsonRejectionTests
{
    private const string Sizes = "[2, 3, 1]";
    private const string Weights = "[[[1, 2], [3, 4], [5, 6]], [[7, 8, 9]]]";
    private const string Biases = "[[[1], [2], [3]], [[4]]]";
    private const string Cost = "\"QuadraticCost\"";

    private const string AllNames = "\"sigmoid\", \"tanh\", \"relu\", \"leaky-relu\", \"identity\", \"softmax\", \"elu\", \"gelu\", \"silu\", \"log-softmax\", or \"leaky-relu:SLOPE\" with a SLOPE from -1 to 1 (e.g. \"leaky-relu:0.2\")";

    private static string Model(string sizes = Sizes, string weights = Weights, string biases = Biases, string cost = Cost, string? activations = null) =>
        activations is null
            ? $$"""{"sizes": {{sizes}}, "weights": {{weights}}, "biases": {{biases}}, "cost": {{cost}}}"""
            : $$"""{"sizes": {{sizes}}, "weights": {{weights}}, "biases": {{biases}}, "cost": {{cost}}, "activations": {{activations}}}""";

    private static InvalidDataException Rejects(string json, string[] mentions, string name = "bad-model.json")
    {
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => ModelJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), name));
        Assert.StartsWith(name + ": ", error.Message);
        foreach (string text in mentions)
        {
            Assert.Contains(text, error.Message);
        }

        return error;
    }

    [Fact]
    public void The_base_model_of_these_tests_is_valid() =>
        Assert.Equal([1f, 2, 3, 4, 5, 6, 1, 2, 3, 7, 8, 9, 4], ModelJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(Model())), "ok.json").Parameters.ToArray());

    [Theory]
    [InlineData("\"784\"", "$.sizes is the string \"784\"", "expected an array of layer sizes")]
    [InlineData("[]", "$.sizes has 0 layers", "expected at least 2")]
    [InlineData("[784]", "$.sizes has 1 layer,", "expected at least 2")]
    [InlineData("[2, 0, 1]", "$.sizes[1] is 0", "at least 1")]
    [InlineData("[2, 3, -1]", "$.sizes[2] is -1", "at least 1")]
    [InlineData("[2.0, 3, 1]", "$.sizes[0] is 2.0", "expected a layer size: an integer")]
    [InlineData("[2, 3e0, 1]", "$.sizes[1] is 3e0", "an integer")]
    [InlineData("[2, 3.5, 1]", "$.sizes[1] is 3.5", "an integer")]
    [InlineData("[2, \"3\", 1]", "$.sizes[1] is the string \"3\"", "an integer")]
    [InlineData("[2, null, 1]", "$.sizes[1] is null", "an integer")]
    [InlineData("[2, [3], 1]", "$.sizes[1] is an array", "an integer")]
    [InlineData("[2, 10000000000, 1]", "$.sizes[1] is 10000000000", "an integer")]
    [InlineData("[100000000, 100000000]", "$.sizes [100000000, 100000000] describe 10000000100000000 parameters", "more than one array can hold")]
    public void Rejects_bad_sizes(string sizes, params string[] mentions) => Rejects(Model(sizes: sizes), mentions);

    [Theory]
    [InlineData("{}", "$.weights is an object", "one weight matrix per layer")]
    [InlineData("[[[1, 2], [3, 4], [5, 6]]]", "$.weights has 1 weight matrix,", "expected 2", "[2, 3, 1]")]
    [InlineData("[[[1, 2], [3, 4], [5, 6]], [[7, 8, 9]], []]", "$.weights has 3 weight matrices", "expected 2")]
    [InlineData("[5, [[7, 8, 9]]]", "$.weights[0] is 5", "layer 1's weight matrix", "3 rows", "2 numbers")]
    [InlineData("[[[1, 2], [3, 4]], [[7, 8, 9]]]", "$.weights[0] has 2 rows, expected 3", "sizes[1] = 3")]
    [InlineData("[[[1, 2], [3, 4], [5, 6], [7, 8]], [[7, 8, 9]]]", "$.weights[0] has 4 rows, expected 3")]
    [InlineData("[[[1, 2], [3, 4], [5, 6]], []]", "$.weights[1] has 0 rows, expected 1", "layer 2")]
    [InlineData("[[[1], [3, 4], [5, 6]], [[7, 8, 9]]]", "$.weights[0][0] has 1 number, expected 2", "sizes[0] = 2")]
    [InlineData("[[[1, 2], [3, 4], [5, 6]], [[7, 8, 9, 10]]]", "$.weights[1][0] has 4 numbers, expected 3", "layer 2", "sizes[1] = 3")]
    [InlineData("[[[1, 2], 3, [5, 6]], [[7, 8, 9]]]", "$.weights[0][1] is 3", "row 1 of layer 1's weights")]
    [InlineData("[[[1, 2], [3, \"4\"], [5, 6]], [[7, 8, 9]]]", "$.weights[0][1][1] is the string \"4\", expected a number")]
    [InlineData("[[[1, 2], [3, 4], [5, null]], [[7, 8, 9]]]", "$.weights[0][2][1] is null, expected a number")]
    [InlineData("[[[1, 2], [3, 4], [5, 6]], [[7, true, 9]]]", "$.weights[1][0][1] is true, expected a number")]
    [InlineData("[[[1, 2], [3, 4], [5, 6]], [[7, [8], 9]]]", "$.weights[1][0][1] is an array, expected a number")]
    [InlineData("[[[1, 2], [3, 4], [5, 6]], [[7, {}, 9]]]", "$.weights[1][0][1] is an object, expected a number")]
    [InlineData("[[[\"NaN\", 2], [3, 4], [5, 6]], [[7, 8, 9]]]", "$.weights[0][0][0] is the string \"NaN\"", "finite", "NaN and infinities")]
    [InlineData("[[[1, 2], [3, \"Infinity\"], [5, 6]], [[7, 8, 9]]]", "$.weights[0][1][1] is the string \"Infinity\"", "finite")]
    [InlineData("[[[1, 2], [3, 4], [5, 6]], [[7, 8, \"-Infinity\"]]]", "$.weights[1][0][2] is the string \"-Infinity\"", "finite")]
    [InlineData("[[[1, 1e39], [3, 4], [5, 6]], [[7, 8, 9]]]", "$.weights[0][0][1] is 1e39, outside float's range", "3.4028235E+38")]
    [InlineData("[[[1, 2], [3, 4], [5, 6]], [[7, -1.7976931348623157e+308, 9]]]", "$.weights[1][0][1] is -1.7976931348623157e+308, outside float's range")]
    public void Rejects_bad_weights(string weights, params string[] mentions) => Rejects(Model(weights: weights), mentions);

    [Theory]
    [InlineData("\"none\"", "$.biases is the string \"none\"", "one bias vector per layer")]
    [InlineData("[[[1], [2], [3]]]", "$.biases has 1 bias vector,", "expected 2")]
    [InlineData("[[[1], [2]], [[4]]]", "$.biases[0] has 2 biases, expected 3", "sizes[1] = 3")]
    [InlineData("[[[1], [2], [3]], [[4], [5]]]", "$.biases[1] has 2 biases, expected 1", "layer 2")]
    [InlineData("[[1, 2, 3], [[4]]]", "$.biases[0][0] is 1, expected a one-element list [b]")]
    [InlineData("[[[1], [2, 2.5], [3]], [[4]]]", "$.biases[0][1] has 2 numbers, expected a one-element list [b]")]
    [InlineData("[[[1], [2], []], [[4]]]", "$.biases[0][2] has 0 numbers, expected a one-element list [b]")]
    [InlineData("[[[1], [2], [3]], {\"b\": 4}]", "$.biases[1] is an object", "layer 2's biases")]
    [InlineData("[[[1], [2], [3]], [[\"4\"]]]", "$.biases[1][0][0] is the string \"4\", expected a number")]
    [InlineData("[[[1], [\"nan\"], [3]], [[4]]]", "$.biases[0][1][0] is the string \"nan\"", "finite")]
    [InlineData("[[[1], [2], [-3.5e38]], [[4]]]", "$.biases[0][2][0] is -3.5e38, outside float's range")]
    public void Rejects_bad_biases(string biases, params string[] mentions) => Rejects(Model(biases: biases), mentions);

    [Theory]
    [InlineData("1", "$.cost is 1, expected a string")]
    [InlineData("null", "$.cost is null, expected a string")]
    [InlineData("[\"QuadraticCost\"]", "$.cost is an array, expected a string")]
    [InlineData("\"quadraticcost\"", "$.cost is \"quadraticcost\"", "expected \"QuadraticCost\", \"CrossEntropyCost\" or \"LogLikelihoodCost\"")]
    [InlineData("\"SoftmaxCost\"", "$.cost is \"SoftmaxCost\"", "expected \"QuadraticCost\", \"CrossEntropyCost\" or \"LogLikelihoodCost\"")]
    [InlineData("\"\"", "$.cost is \"\"", "expected \"QuadraticCost\", \"CrossEntropyCost\" or \"LogLikelihoodCost\"")]
    public void Rejects_bad_costs(string cost, params string[] mentions) => Rejects(Model(cost: cost), mentions);

    [Theory]
    [InlineData("\"relu\"", "$.activations is the string \"relu\", expected an array with one activation name per layer after the input")]
    [InlineData("{}", "$.activations is an object, expected an array")]
    [InlineData("null", "$.activations is null, expected an array")]
    [InlineData("2", "$.activations is 2, expected an array")]
    [InlineData("[\"sigmoid\", 1]", "$.activations[1] is 1, expected an activation name: one of " + AllNames)]
    [InlineData("[null, \"sigmoid\"]", "$.activations[0] is null, expected an activation name: one of " + AllNames)]
    [InlineData("[[\"relu\"], \"sigmoid\"]", "$.activations[0] is an array, expected an activation name")]
    [InlineData("[\"sigmoid\", {\"name\": \"relu\"}]", "$.activations[1] is an object, expected an activation name")]
    [InlineData("[\"ReLU\", \"sigmoid\"]", "$.activations[0] is \"ReLU\", expected one of " + AllNames)]
    [InlineData("[\"relu\", \"swish\"]", "$.activations[1] is \"swish\", expected one of " + AllNames)]
    [InlineData("[\"leaky_relu\", \"sigmoid\"]", "$.activations[0] is \"leaky_relu\", expected one of " + AllNames)]
    [InlineData("[\"Sigmoid\", \"sigmoid\"]", "$.activations[0] is \"Sigmoid\"")]
    [InlineData("[]", "$.activations has 0 names, expected 2, one per layer after the input of sizes [2, 3, 1]")]
    [InlineData("[\"relu\"]", "$.activations has 1 name, expected 2, one per layer after the input of sizes [2, 3, 1]")]
    [InlineData("[\"sigmoid\", \"relu\", \"sigmoid\"]", "$.activations has 3 names, expected 2")]
    public void Rejects_bad_activations(string activations, params string[] mentions) => Rejects(Model(activations: activations), mentions);

    [Theory]
    [InlineData("[\"softmax\", \"softmax\"]", "\"LogLikelihoodCost\"", "$.activations [softmax, softmax] and $.cost \"LogLikelihoodCost\" do not go together", "activations[0] is Softmax, but it is only supported on the output layer")]
    [InlineData("[\"softmax\", \"sigmoid\"]", "\"QuadraticCost\"", "$.activations [softmax, sigmoid] and $.cost \"QuadraticCost\" do not go together", "only supported on the output layer")]
    [InlineData("[\"sigmoid\", \"relu\"]", "\"CrossEntropyCost\"", "$.activations [sigmoid, relu] and $.cost \"CrossEntropyCost\" do not go together: the cross-entropy cost needs a sigmoid output layer, not ReLU.")]
    [InlineData("[\"relu\", \"softmax\"]", "\"CrossEntropyCost\"", "the cross-entropy cost needs a sigmoid output layer, not Softmax.")]
    [InlineData("[\"relu\", \"softmax\"]", "\"QuadraticCost\"", "$.activations [relu, softmax] and $.cost \"QuadraticCost\"", "the quadratic cost cannot train a softmax output; use the log-likelihood cost.")]
    [InlineData("[\"relu\", \"sigmoid\"]", "\"LogLikelihoodCost\"", "the log-likelihood cost needs a softmax or log-softmax output layer, not Sigmoid.")]
    [InlineData("[\"relu\", \"log-softmax\"]", "\"QuadraticCost\"", "the quadratic cost cannot train a log-softmax output; use the log-likelihood cost.")]
    [InlineData("[\"log-softmax\", \"softmax\"]", "\"LogLikelihoodCost\"", "activations[0] is LogSoftmax, but it is only supported on the output layer")]
    [InlineData("[\"leaky-relu:0.2\", \"relu\"]", "\"CrossEntropyCost\"", "$.activations [leaky-relu:0.2, relu] and $.cost \"CrossEntropyCost\" do not go together")]
    [InlineData(null, "\"LogLikelihoodCost\"", "$ has no \"activations\" (so every layer is sigmoid, as in network2.py), which does not go with $.cost \"LogLikelihoodCost\": the log-likelihood cost needs a softmax or log-softmax output layer, not Sigmoid.")]
    public void Rejects_activations_that_do_not_fit_the_cost(string? activations, string cost, params string[] mentions)
    {
        InvalidDataException error = Rejects(Model(cost: cost, activations: activations), mentions);
        Assert.IsAssignableFrom<ArgumentException>(error.InnerException);
        Assert.DoesNotContain("(Parameter", error.Message);
    }

    [Fact]
    public void Rejects_every_architecture_that_CheckArchitecture_rejects()
    {
        int rejected = 0;
        foreach (var (hidden, output, cost, valid) in ModelNetworks.Architectures())
        {
            string json = Model(
                cost: $"\"{ModelJson.CostName(cost)}\"",
                activations: $"[\"{ModelJson.ActivationName(hidden)}\", \"{ModelJson.ActivationName(output)}\"]");
            if (valid)
            {
                Network network = ModelJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "ok.json");
                Assert.Equal([hidden, output], network.Activations.ToArray());
                Assert.Equal(cost, network.Cost);
            }
            else
            {
                Rejects(json, ["do not go together"], $"{hidden}-{output}-{cost}.json");
                rejected++;
            }
        }

        Assert.Equal((11 * 11 * 3) - (9 * 12), rejected);
    }

    [Fact]
    public void Rejects_an_architecture_problem_in_a_file_naming_its_path()
    {
        using var directory = new TempDirectory();
        string path = directory.File("relu-cross-entropy.json");
        File.WriteAllText(path, Model(cost: "\"CrossEntropyCost\"", activations: "[\"relu\", \"relu\"]"));

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => ModelJson.Load(path));

        Assert.StartsWith(path + ": $.activations [relu, relu] and $.cost \"CrossEntropyCost\" do not go together", error.Message);
    }

    [Fact]
    public void Unknown_keys_stay_ignored_next_to_activations() =>
        Assert.Equal(
            [Activation.Tanh, Activation.Identity],
            ModelJson.Read(
                new MemoryStream(Encoding.UTF8.GetBytes(Model(activations: """["tanh", "identity"], "dropout": [0.5], "activation": "relu" """))),
                "extra.json").Activations.ToArray());

    [Theory]
    [InlineData("""{"weights": [], "biases": [], "cost": "QuadraticCost"}""", "$ is missing the key \"sizes\";")]
    [InlineData("""{"sizes": [2, 3, 1], "biases": [], "cost": "QuadraticCost"}""", "$ is missing the key \"weights\";")]
    [InlineData("""{"sizes": [2, 3, 1], "weights": [], "cost": "QuadraticCost"}""", "$ is missing the key \"biases\";")]
    [InlineData("""{"sizes": [2, 3, 1], "weights": [], "biases": []}""", "$ is missing the key \"cost\";")]
    [InlineData("""{"Sizes": [2, 3, 1], "weights": [], "biases": []}""", "$ is missing the keys \"sizes\", \"cost\";")]
    [InlineData("{}", "$ is missing the keys \"sizes\", \"weights\", \"biases\", \"cost\";")]
    [InlineData("[2, 3, 1]", "$ is an array, expected a JSON object")]
    [InlineData("\"model\"", "$ is the string \"model\", expected a JSON object")]
    [InlineData("""{"sizes": [2, 3, 1], "sizes": [2, 3, 1], "weights": [], "biases": [], "cost": "QuadraticCost"}""", "$.sizes appears twice")]
    [InlineData("""{"cost": "QuadraticCost", "cost": "CrossEntropyCost"}""", "$.cost appears twice")]
    [InlineData("""{"activations": ["relu"], "sizes": [2, 1], "activations": ["relu"]}""", "$.activations appears twice")]
    [InlineData("""{"sizes": [2, 1], "activations": ["relu"]}""", "$ is missing the keys \"weights\", \"biases\", \"cost\";")]
    public void Rejects_bad_documents(string json, params string[] mentions) => Rejects(json, mentions);

    [Theory]
    [InlineData("", "line 1, byte 1", "the data is empty")]
    [InlineData(" \r\n ", "line 2, byte 2", "the data is empty")]
    [InlineData("{\"sizes\": [2, 3, 1], ", "line 1", "truncated?")]
    [InlineData("{\"sizes\": [2, 3", "line 1, byte 16", "truncated?")]
    [InlineData("{\"sizes\": [2, 3, 1],}", "line 1, byte 21")]
    [InlineData("{\"sizes\": [2, 3, 1]} {}", "line 1, byte 22")]
    [InlineData("{\"sizes\": [2, 3, 1] // network2\n}", "line 1")]
    [InlineData("{\n  \"sizes\": [2, 3, 1],\n  \"weights\": [[[1, 2,]]]\n}", "line 3, byte 22")]
    [InlineData("{'sizes': [2, 3, 1]}", "line 1, byte 2")]
    public void Rejects_malformed_json_with_its_position(string json, params string[] mentions)
    {
        InvalidDataException error = Rejects(json, ["not valid JSON at", .. mentions]);
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(error.InnerException);
    }

    [Theory]
    [InlineData("[[[1, NaN], [3, 4], [5, 6]], [[7, 8, 9]]]")]
    [InlineData("[[[1, 2], [3, 4], [5, 6]], [[7, 8, Infinity]]]")]
    [InlineData("[[[1, 2], [3, -Infinity], [5, 6]], [[7, 8, 9]]]")]
    public void Rejects_Pythons_non_finite_literals_by_name(string weights) =>
        Rejects(Model(weights: weights), ["not valid JSON at line 1", "NaN, Infinity and -Infinity", "must be finite"]);

    [Fact]
    public void Rejects_a_truncated_file_naming_it()
    {
        using var directory = new TempDirectory();
        string path = directory.File("truncated.json");
        var network = new Network([784, 30, 10], seed: 1);
        ModelJson.Save(network, path);
        byte[] full = File.ReadAllBytes(path);
        File.WriteAllBytes(path, full[..(full.Length / 2)]);

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => ModelJson.Load(path));

        Assert.StartsWith(path + ": not valid JSON at line 1, byte ", error.Message);
        Assert.EndsWith("is the file truncated?", error.Message);
    }

    [Fact]
    public void Rejects_a_bad_file_naming_its_path()
    {
        using var directory = new TempDirectory();
        string path = directory.File("wrong-shape.json");
        File.WriteAllText(path, Model(weights: "[[[1, 2], [3, 4]], [[7, 8, 9]]]"));

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => ModelJson.Load(path));

        Assert.StartsWith(path + ": $.weights[0] has 2 rows, expected 3", error.Message);
    }

    [Fact]
    public void Missing_file_is_FileNotFoundException()
    {
        using var directory = new TempDirectory();
        string path = directory.File("absent.json");
        FileNotFoundException error = Assert.Throws<FileNotFoundException>(() => ModelJson.Load(path));
        Assert.Equal(path, error.FileName);
    }

    [Fact]
    public void Huge_sizes_with_little_data_are_rejected_without_allocating_for_them()
    {
        // 1.6e9 parameters fit in one array (6.4 GB of floats), but the file holds three numbers.
        string json = Model(sizes: "[40000, 40000]", weights: "[[[1, 2]]]", biases: "[[[1]]]");
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        ModelJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(Model())), "warm-up.json");

        long before = GC.GetAllocatedBytesForCurrentThread();
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => ModelJson.Read(new MemoryStream(bytes), "huge.json"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.StartsWith("huge.json: $.weights[0][0] has 2 numbers, expected 40000", error.Message);
        Assert.InRange(allocated, 0, 1 << 20);
    }
}
