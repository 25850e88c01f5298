using System.Text;
using Backprop.Simd.Serialization;

namespace Backprop.Simd.Tests.Serialization;

/// <summary>Files as network2.py's <c>save</c> writes them (Python's <c>json.dump</c>: float64 reprs, ", " and ": "
/// separators) load value by value and compute what the formulas say.</summary>
public class ModelJsonFixtureTests
{
    // json.dumps of a [2, 3, 1] network2.py model, character for character.
    private const string Network2File =
        """{"sizes": [2, 3, 1], "weights": [[[0.1, -0.2], [1.2345678901234567, -0.9876543210987654], [3.0000000000000004, 1e-07]], [[0.7071067811865476, -1.4142135623730951, 2.718281828459045]]], "biases": [[[0.01], [-0.5], [1.0000000000000003e-05]], [[-0.3333333333333333]]], "cost": "CrossEntropyCost"}""";

    // The same model through json.dump(..., indent=2) with the keys in another order and keys a later version might add.
    private const string IndentedReorderedFile =
        """
        {
          "cost": "QuadraticCost",
          "biases": [
            [
              [
                0.01
              ],
              [
                -0.5
              ],
              [
                1.0000000000000003e-05
              ]
            ],
            [
              [
                -0.3333333333333333
              ]
            ]
          ],
          "eta": 0.5,
          "history": {
            "accuracy": [
              0.9,
              0.95
            ],
            "weights": "not these"
          },
          "weights": [
            [
              [
                0.1,
                -0.2
              ],
              [
                1.2345678901234567,
                -0.9876543210987654
              ],
              [
                3.0000000000000004,
                1e-07
              ]
            ],
            [
              [
                0.7071067811865476,
                -1.4142135623730951,
                2.718281828459045
              ]
            ]
          ],
          "sizes": [
            2,
            3,
            1
          ]
        }
        """;

    private static readonly double[][] W1 = [[0.1, -0.2], [1.2345678901234567, -0.9876543210987654], [3.0000000000000004, 1e-07]];
    private static readonly double[] W2 = [0.7071067811865476, -1.4142135623730951, 2.718281828459045];
    private static readonly double[] B1 = [0.01, -0.5, 1.0000000000000003e-05];
    private const double B2 = -0.3333333333333333;

    private static Network Read(string json, string name = "network2.json") =>
        ModelJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), name);

    public static TheoryData<string, CostFunction> Network2Files => new()
    {
        { Network2File, CostFunction.CrossEntropy },
        { Network2File.Replace("\"CrossEntropyCost\"", "\"QuadraticCost\"", StringComparison.Ordinal), CostFunction.Quadratic },
        { IndentedReorderedFile, CostFunction.Quadratic },
    };

    [Theory]
    [MemberData(nameof(Network2Files))]
    public void Network2_file_loads_value_by_value_as_a_sigmoid_network_with_its_cost(string json, CostFunction cost)
    {
        Network network = Read(json);

        Assert.Equal(cost, network.Cost);
        Assert.Equal([Activation.Sigmoid, Activation.Sigmoid], network.Activations.ToArray()); // no "activations": network2.py's sigmoid layers
        Assert.Equal([2, 3, 1], network.Sizes.ToArray());
        for (int j = 0; j < 3; j++)
        {
            for (int k = 0; k < 2; k++)
            {
                Assert.Equal((float)W1[j][k], network.Weights(1)[(j * 2) + k]); // float64 rounded to the nearest float
            }

            Assert.Equal((float)B1[j], network.Biases(1)[j]);
            Assert.Equal((float)W2[j], network.Weights(2)[j]);
        }

        Assert.Equal((float)B2, network.Biases(2)[0]);
    }

    [Fact]
    public void Loaded_fixture_feeds_forward_to_the_hand_computed_output()
    {
        Network network = Read(Network2File);
        double[] x = [0.5, -1.0];

        // z^2 = W^2 x + b^2 and a^2 = sigma(z^2), written out:
        double a0 = Sigma((0.1 * 0.5) + (-0.2 * -1.0) + 0.01);                                             // sigma(0.26)
        double a1 = Sigma((1.2345678901234567 * 0.5) + (-0.9876543210987654 * -1.0) - 0.5);                 // sigma(1.104938...)
        double a2 = Sigma((3.0000000000000004 * 0.5) + (1e-07 * -1.0) + 1.0000000000000003e-05);            // sigma(1.50000990...)
        double output = Sigma((0.7071067811865476 * a0) + (-1.4142135623730951 * a1) + (2.718281828459045 * a2) - 0.3333333333333333);
        Assert.Equal(0.7731162629743676, output, 1e-15); // what network2.py's feedforward prints for this model

        ReadOnlySpan<float> actual = network.FeedForward([(float)x[0], (float)x[1]], new Workspace(network));
        Assert.Equal(1, actual.Length);
        Assert.Equal(output, actual[0], 1e-6); // float parameters and arithmetic: a few float ulps
    }

    [Fact]
    public void Loaded_fixture_saves_back_to_the_same_floats()
    {
        Network network = Read(Network2File);
        using var directory = new TempDirectory();
        string path = directory.File("copy.json");
        ModelJson.Save(network, path);
        Network copy = ModelJson.Load(path);
        ModelNetworks.AssertBitIdentical(network.Parameters, copy.Parameters);
        Assert.Equal(CostFunction.CrossEntropy, copy.Cost);
        Assert.Contains("\"cost\":\"CrossEntropyCost\"}", File.ReadAllText(path)); // still network2.py's four keys
    }

    [Fact]
    public void Float64_values_are_rounded_to_float_and_tiny_ones_flush_towards_zero()
    {
        const string json = """{"sizes": [3, 1], "weights": [[[1e-50, -1e-50, 3.4028235677973366e+38]]], "biases": [[[1.401298464324817e-45]]], "cost": "QuadraticCost"}""";
        Network network = Read(json);

        Assert.Equal(0x00000000, BitConverter.SingleToInt32Bits(network.Weights(1)[0]));
        Assert.Equal(unchecked((int)0x80000000), BitConverter.SingleToInt32Bits(network.Weights(1)[1])); // -0
        Assert.Equal(float.MaxValue, network.Weights(1)[2]);                                           // rounds down to MaxValue
        Assert.Equal(float.Epsilon, network.Biases(1)[0]);
    }

    [Fact]
    public void Byte_order_mark_and_surrounding_whitespace_are_accepted()
    {
        byte[] json = [.. "\uFEFF"u8, .. "\r\n\t "u8, .. Encoding.UTF8.GetBytes(Network2File), .. "\n\n"u8];
        Assert.Equal(CostFunction.CrossEntropy, ModelJson.Read(new MemoryStream(json), "bom.json").Cost);
    }

    [Fact]
    public void Load_reads_a_file_from_disk()
    {
        using var directory = new TempDirectory();
        string path = directory.File("network2.json");
        File.WriteAllText(path, Network2File);
        Assert.Equal([2, 3, 1], ModelJson.Load(path).Sizes.ToArray());
    }

    [Fact]
    public void Activations_key_gives_each_layer_its_function_and_the_forward_pass_uses_them()
    {
        // The fixture's parameters with a ReLU hidden layer and a linear output, the new key first this time.
        string json = "{\"activations\": [\"relu\", \"identity\"], " + Network2File[1..].Replace("\"CrossEntropyCost\"", "\"QuadraticCost\"", StringComparison.Ordinal);
        Network network = Read(json, "relu.json");

        Assert.Equal([Activation.ReLU, Activation.Identity], network.Activations.ToArray());
        Assert.Equal(CostFunction.Quadratic, network.Cost);

        double a0 = Math.Max(0, (0.1 * 0.5) + (-0.2 * -1.0) + 0.01);                                       // relu(0.26)
        double a1 = Math.Max(0, (1.2345678901234567 * 0.5) + (-0.9876543210987654 * -1.0) - 0.5);           // relu(1.104938...)
        double a2 = Math.Max(0, (3.0000000000000004 * 0.5) + (1e-07 * -1.0) + 1.0000000000000003e-05);      // relu(1.50000990...)
        double output = (0.7071067811865476 * a0) + (-1.4142135623730951 * a1) + (2.718281828459045 * a2) - 0.3333333333333333;
        ReadOnlySpan<float> actual = network.FeedForward([0.5f, -1f], new Workspace(network));
        Assert.Equal(output, actual[0], 1e-5);
    }

    [Fact]
    public void Log_likelihood_file_with_a_softmax_output_loads()
    {
        const string json = """{"sizes": [2, 2], "weights": [[[1.0, 0.0], [0.0, 1.0]]], "biases": [[[0.0], [0.0]]], "cost": "LogLikelihoodCost", "activations": ["softmax"], "note": "ignored"}""";
        Network network = Read(json, "softmax.json");

        Assert.Equal(CostFunction.LogLikelihood, network.Cost);
        Assert.Equal(Activation.Softmax, network.OutputActivation);
        ReadOnlySpan<float> output = network.FeedForward([1f, 0f], new Workspace(network));
        Assert.Equal(Math.E / (Math.E + 1), output[0], 1e-6);
        Assert.Equal(1 / (Math.E + 1), output[1], 1e-6);
    }

    [Fact]
    public void An_explicit_all_sigmoid_activations_key_is_the_same_as_none()
    {
        string json = Network2File.Replace("}", ", \"activations\": [\"sigmoid\", \"sigmoid\"]}", StringComparison.Ordinal);
        Network explicitly = Read(json), implicitly = Read(Network2File);

        Assert.Equal(implicitly.Activations.ToArray(), explicitly.Activations.ToArray());
        ModelNetworks.AssertBitIdentical(implicitly.Parameters, explicitly.Parameters);
    }

    private static double Sigma(double z) => 1.0 / (1.0 + Math.Exp(-z));
}
