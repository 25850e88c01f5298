using System.Text;
using Backprop.Simd.Serialization;

namespace Backprop.Simd.Tests.Quantized;

/// <summary>Int8 model files: bit-exact round trips, and corrupt, truncated or absurd files refused with the file's name and the problem.</summary>
public sealed class QuantizedModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-int8-file-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<int[], string, string> Architectures => new()
    {
        { [784, 30, 10], "relu", "softmax" },
        { [5, 3], "sigmoid", "sigmoid" },
        { [13, 9, 7, 2], "leaky-relu:0.2", "identity" },
        { [6, 11, 3], "tanh", "log-softmax" },
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void A_saved_network_loads_bit_for_bit_and_computes_the_same_outputs(int[] sizes, string hidden, string output)
    {
        Assert.True(ModelJson.TryParseActivation(hidden, out Activation h));
        Assert.True(ModelJson.TryParseActivation(output, out Activation o));
        CostFunction cost = o.IsOutputOnly ? CostFunction.LogLikelihood : CostFunction.Quadratic;
        var network = new Network(sizes, seed: 4, new NetworkOptions { HiddenActivation = h, OutputActivation = o, Cost = cost });
        RoundTrip(QuantizedNetwork.From(network), sizes, cost);
        RoundTrip(QuantizedNetwork.From(network, CalibratedNetworkTests.Calibration(16, sizes[0], -1, 5)), sizes, cost);
    }

    private void RoundTrip(QuantizedNetwork original, int[] sizes, CostFunction cost)
    {
        string path = Path.Combine(_dir, "model.int8.json");
        original.Save(path);
        QuantizedNetwork loaded = QuantizedNetwork.Load(path);

        Assert.Equal(original.Sizes.ToArray(), loaded.Sizes.ToArray());
        Assert.Equal(cost, loaded.Cost);
        Assert.Equal(original.IsCalibrated, loaded.IsCalibrated);
        Assert.Contains(original.IsCalibrated ? "\"version\":2" : "\"version\":1", File.ReadAllText(path));
        for (int l = 1; l <= original.OutputLayer; l++)
        {
            Assert.Equal(original.InputScaleOf(l), loaded.InputScaleOf(l)); // the record compares the floats' values; the outputs below their bits
            Assert.Equal(original.ActivationOf(l), loaded.ActivationOf(l));
            Assert.Equal(original.RowCodes(l), loaded.RowCodes(l));
            Assert.Equal(original.WeightsOf(l).ToArray(), loaded.WeightsOf(l).ToArray()); // the padding too
            Assert.Equal(original.RowSumsOf(l).ToArray(), loaded.RowSumsOf(l).ToArray());
            Assert.Equal(Bits(original.ScalesOf(l)), Bits(loaded.ScalesOf(l)));
            Assert.Equal(Bits(original.BiasesOf(l)), Bits(loaded.BiasesOf(l)));
        }

        var random = new SeededRandom(9);
        var a = new QuantizedWorkspace(original);
        var b = new QuantizedWorkspace(loaded);
        for (int i = 0; i < 20; i++)
        {
            float[] x = TestData.Uniform(sizes[0], ref random, -1.5, 1.5); // some beyond a calibrated range
            Assert.Equal(Bits(original.FeedForward(x, a)), Bits(loaded.FeedForward(x, b)));
        }

        // Saving the loaded network writes the same bytes.
        string again = Path.Combine(_dir, "again.json");
        loaded.Save(again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
        Assert.True(QuantizedModelJson.IsQuantized(File.ReadAllBytes(path)));
    }

    [Fact]
    public void Extreme_floats_survive_the_round_trip()
    {
        string path = Path.Combine(_dir, "extreme.json");
        File.WriteAllText(path, Valid(scale: "1.401298E-45", bias: "-3.4028235E+38"));
        QuantizedNetwork loaded = QuantizedNetwork.Load(path);
        Assert.Equal(float.Epsilon, loaded.ScalesOf(1)[0]);
        Assert.Equal(float.MinValue, loaded.BiasesOf(1)[0]);
        string again = Path.Combine(_dir, "again.json");
        loaded.Save(again);
        Assert.Equal(Bits(loaded.ScalesOf(1)), Bits(QuantizedNetwork.Load(again).ScalesOf(1)));
    }

    public static TheoryData<string, string> Hostile => new()
    {
        { "", "is not valid JSON" },
        { "[1, 2]", "$ is an array of 2, expected an object" },
        { Valid().Replace("\"version\": 1", "\"version\": 3"), "$.version is 3, expected 1 (dynamic input scales) or 2 (calibrated)" },
        { Valid().Replace("\"version\": 1", "\"version\": 2"), "$ has no \"inputScales\", expected one in a version 2 file" },
        { Calibrated(zeroPoints: null), "$ has no \"inputZeroPoints\", expected one in a version 2 file" },
        { Calibrated().Replace("\"version\": 2", "\"version\": 1"), "$.inputScales is in a version 1 file, expected only in version 2" },
        { Calibrated(scales: "[\"NaN\"]"), "$.inputScales[0] is the string \"NaN\", expected a positive finite float" },
        { Calibrated(scales: "[-0.5]"), "$.inputScales[0] is -0.5, expected a positive finite float" },
        { Calibrated(scales: "[0]"), "$.inputScales[0] is 0, expected a positive finite float" },
        { Calibrated(scales: "[1e39]"), "$.inputScales[0] is 1e39, expected a positive finite float" },
        { Calibrated(scales: "[1e-45]"), "$.inputScales[0] is 1e-45, expected a positive finite float whose inverse is finite" },
        { Calibrated(scales: "[0.1, 0.2]"), "$.inputScales is an array of 2, expected an array of 1 (from $.sizes)" },
        { Calibrated(scales: "0.1"), "$.inputScales is 0.1, expected an array of 1" },
        { Calibrated(zeroPoints: "[]"), "$.inputZeroPoints is an array of 0, expected an array of 1 (from $.sizes)" },
        { Calibrated(zeroPoints: "[128]"), "$.inputZeroPoints[0] is 128, expected an integer from 0 to 127" },
        { Calibrated(zeroPoints: "[-1]"), "$.inputZeroPoints[0] is -1, expected an integer from 0 to 127" },
        { Calibrated(zeroPoints: "[1.5]"), "$.inputZeroPoints[0] is 1.5, expected an integer from 0 to 127" },
        { Calibrated().Replace("\"inputZeroPoints\"", "\"inputScales\": [0.5], \"inputZeroPoints\""), "$.inputScales appears twice" },
        { Valid().Replace("\"backprop-int8\"", "\"backprop-int4\""), "$.format is the string \"backprop-int4\", expected \"backprop-int8\"" },
        { Valid().Replace("\"cost\": \"QuadraticCost\", ", ""), "has no \"cost\"" },
        { Valid().Replace("\"cost\": \"QuadraticCost\"", "\"cost\": \"QuadraticCost\", \"cost\": \"QuadraticCost\""), "$.cost appears twice" },
        { Valid(codes: "[[1, -127, 127], [0, 0, 5]]"), "$.codes[0][0] is an array of 3, expected an array of 2 (from $.sizes)" },
        { Valid(codes: "[[1, 2]]"), "$.codes[0] is an array of 1, expected an array of 2" },
        { Valid(codes: "[[1, 128], [0, 5]]"), "$.codes[0][0][1] is 128, expected an integer from -127 to 127" },
        { Valid(codes: "[[1, 1.5], [0, 5]]"), "$.codes[0][0][1] is 1.5, expected an integer" },
        { Valid(codes: "[[1, \"2\"], [0, 5]]"), "$.codes[0][0][1] is the string \"2\", expected an integer" },
        { Valid(scale: "NaN"), "is not valid JSON" },
        { Valid(scale: "\"NaN\""), "$.scales[0][0] is the string \"NaN\", expected a finite non-negative float" },
        { Valid(scale: "1e39"), "$.scales[0][0] is 1e39, expected a finite non-negative float" },
        { Valid(scale: "-0.5"), "$.scales[0][0] is -0.5, expected a finite non-negative float" },
        { Valid(scale: "0"), "$.scales[0][0] is 0, but the row's codes are not all 0" },
        { Valid(bias: "-1e400"), "$.biases[0][0] is -1e400, expected a finite float" },
        { Valid(sizes: "[2147483647, 2147483647]"), "$.codes[0] is an array of 2, expected an array of 2147483647 (from $.sizes)" },
        { Valid(sizes: "[2, 0]"), "$.sizes[1] is 0, expected a whole number from 1" },
        { Valid(sizes: "[2, 2.0]"), "$.sizes[1] is 2.0, expected a whole number" },
        { Valid(sizes: "[2]"), "$.sizes is an array of 1, expected an array of at least 2 layer sizes" },
        { Valid(activations: "[\"swish\"]"), "$.activations[0] is the string \"swish\", expected one of" },
        { Valid(activations: "[\"softmax\"]"), "the quadratic cost cannot train a softmax output" },
        { "{\"sizes\": [2, 2], \"weights\": [[[1, 2], [3, 4]]], \"biases\": [[[0], [1]]], \"cost\": \"QuadraticCost\"}", "has no \"format\", expected an int8 model file" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_corrupt_file_is_refused_naming_the_file_and_the_problem(string content, string problem)
    {
        string path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, content);
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => QuantizedNetwork.Load(path));
        Assert.StartsWith($"{path}: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Every_truncation_of_a_file_is_refused()
    {
        string path = Path.Combine(_dir, "whole.json");
        QuantizedNetwork.From(new Network([7, 5, 3], seed: 2)).Save(path);
        byte[] whole = File.ReadAllBytes(path);
        string cut = Path.Combine(_dir, "cut.json");
        for (int length = 0; length < whole.Length; length++)
        {
            File.WriteAllBytes(cut, whole[..length]);
            InvalidDataException e = Assert.Throws<InvalidDataException>(() => QuantizedNetwork.Load(cut));
            Assert.StartsWith($"{cut}: ", e.Message);
        }
    }

    [Fact]
    public void A_failed_save_leaves_no_file_and_bad_paths_are_refused()
    {
        QuantizedNetwork network = QuantizedNetwork.From(new Network([3, 2], seed: 1));
        Assert.Throws<DirectoryNotFoundException>(() => network.Save(Path.Combine(_dir, "missing", "m.json")));
        Assert.False(Directory.Exists(Path.Combine(_dir, "missing")));
        Assert.Throws<ArgumentException>("path", () => network.Save(""));
        Assert.Throws<ArgumentException>("path", () => QuantizedNetwork.Load(""));
        Assert.Throws<FileNotFoundException>(() => QuantizedNetwork.Load(Path.Combine(_dir, "none.json")));
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void A_calibrated_file_written_by_hand_loads_with_its_scale()
    {
        string path = Path.Combine(_dir, "calibrated.json");
        File.WriteAllText(path, Calibrated(scales: "[0.125]", zeroPoints: "[3]"));
        QuantizedNetwork loaded = QuantizedNetwork.Load(path);
        Assert.True(loaded.IsCalibrated);
        Assert.Equal(new ActivationScale(0.125f, 8f, 3), loaded.InputScaleOf(1));
        Assert.False(QuantizedNetwork.Load(WriteValid()).IsCalibrated); // version 1: dynamic
    }

    private string WriteValid()
    {
        string path = Path.Combine(_dir, "valid.json");
        File.WriteAllText(path, Valid());
        return path;
    }

    private static string Calibrated(string scales = "[0.5]", string? zeroPoints = "[0]") =>
        Valid().Replace("\"version\": 1", "\"version\": 2").TrimEnd('}') + $", \"inputScales\": {scales}" + (zeroPoints is null ? "" : $", \"inputZeroPoints\": {zeroPoints}") + "}";

    private static string Valid(string sizes = "[2, 2]", string codes = "[[1, -127], [0, 5]]", string scale = "0.25", string bias = "1", string activations = "[\"relu\"]") =>
        $"{{\"format\": \"backprop-int8\", \"version\": 1, \"sizes\": {sizes}, \"codes\": [{codes}], \"scales\": [[{scale}, 0.5]], \"biases\": [[{bias}, -2]], \"cost\": \"QuadraticCost\", \"activations\": {activations}}}";

    private static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            bits[i] = BitConverter.SingleToInt32Bits(values[i]);
        }

        return bits;
    }
}
