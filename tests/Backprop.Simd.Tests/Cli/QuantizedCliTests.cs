using System.Text.RegularExpressions;
using Backprop.Simd.Cli;
using Backprop.Simd.Data;
using Backprop.Simd.Serialization;
using static Backprop.Simd.Tests.Cli.CliRunner;

namespace Backprop.Simd.Tests.Cli;

/// <summary><c>evaluate --precision</c> and <c>bench</c>, in process, on the bundled digits.</summary>
public sealed partial class QuantizedCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-cli-int8-").FullName;
    private readonly string _model;
    private readonly Network _network = new([784, 20, 10], seed: 3, new NetworkOptions { HiddenActivation = Activation.ReLU, Cost = CostFunction.LogLikelihood, WeightInit = WeightInit.He });

    public QuantizedCliTests()
    {
        _model = Path.Combine(_dir, "model.json");
        ModelJson.Save(_network, _model);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Evaluate_in_int8_counts_what_the_quantized_network_classifies_correctly()
    {
        Dataset test = MnistData.LoadBundled().Test;
        Network saved = ModelJson.Load(_model);
        QuantizedNetwork quantized = QuantizedNetwork.From(saved);
        int expected = quantized.Evaluate(test, new QuantizedWorkspace(quantized));

        var (exit, output, error) = Run("evaluate", "--model", _model, "--precision", "int8");
        Assert.True(exit == 0, error);
        Assert.Equal($"{expected} / {test.Count} ({100.0 * expected / test.Count:F2}%)", output.Trim());

        int floats = Runtime.Evaluation.Evaluate(saved, new Workspace(saved), test);
        (exit, output, error) = Run("evaluate", "--model", _model, "--precision", "float32");
        Assert.True(exit == 0, error);
        Assert.Equal($"{floats} / {test.Count} ({100.0 * floats / test.Count:F2}%)", output.Trim());
        Assert.Equal(output, Run("evaluate", "--model", _model).Out); // float32 is the default
    }

    [GeneratedRegex(@"^single sample: p50 \d+\.\d\d us, p99 \d+\.\d\d us \(100,000 calls, [\d,]+ GCs?, ([\d,]+) bytes? allocated\)$", RegexOptions.Multiline)]
    private static partial Regex LatencyLine();

    [GeneratedRegex(@"^batch of 500 on 2 threads: [\d,]+ samples/s \(median of \d+ runs, ([\d,]+) GCs?\)$", RegexOptions.Multiline)]
    private static partial Regex ThroughputLine();

    [Theory]
    [InlineData("int8", "int8: weights 18.7 KiB")] // 196 quads x 24 rows (20 padded to 8s) x 4 bytes, 5 quads x 16 rows x 4
    [InlineData("float32", "float32: weights 62.0 KiB")]
    public void Bench_prints_latency_percentiles_and_throughput_without_allocating(string precision, string header)
    {
        var (exit, output, error) = Run("bench", "--model", _model, "--precision", precision, "--batch", "500", "--threads", "2");
        Assert.True(exit == 0, error);
        Assert.Equal("", error);
        Assert.Contains($"[784, 20, 10] (relu, softmax; log-likelihood cost) in {header}", output);
        Assert.Contains("inputs: the test images of the bundled MNIST-10k digits.", output);
        // The GC counts are the process's, which other tests share; the bytes are the timing thread's own.
        Assert.Equal("0", LatencyLine().Match(output).Groups[1].Value);
        Assert.True(ThroughputLine().IsMatch(output), output);
    }

    [Fact]
    public void Bench_uses_random_inputs_for_a_model_that_does_not_take_images()
    {
        string small = Path.Combine(_dir, "small.json");
        ModelJson.Save(new Network([5, 3], seed: 1), small);
        var (exit, output, error) = Run("bench", "--model", small, "--precision", "int8", "--batch", "10", "--threads", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("inputs: random values in [0, 1).", output);
        Assert.Contains("batch of 10 on 1 thread: ", output);
    }

    public static TheoryData<string[], string> BadValues => new()
    {
        { ["evaluate", "--model", "{model}", "--precision", "int4"], "--precision must be one of float32, int8, but was 'int4'." },
        { ["bench"], "--model" },
        { ["bench", "--model", "{dir}/missing.json"], "--model" },
        { ["bench", "--model", "{model}", "--precision", "fp16"], "--precision must be one of float32, int8, but was 'fp16'." },
        { ["bench", "--model", "{model}", "--batch", "0"], "--batch must be a whole number from 1 to 1000000, but was '0'." },
        { ["bench", "--model", "{model}", "--threads", "99999"], "--threads must be a whole number from 1 to " },
        { ["bench", "--model", "{model}", "--data", "{dir}"], "--data" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_bad_value_is_one_line_naming_the_option_and_exit_code_1(string[] args, string message)
    {
        var (exit, _, error) = Run([.. args.Select(a => a.Replace("{model}", _model).Replace("{dir}", _dir))]);
        Assert.Equal(BackpropCli.UserError, exit);
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("backprop: ", line);
        Assert.Contains(message, line);
    }

    [Fact]
    public void Bench_help_states_each_option_with_an_upper_case_placeholder()
    {
        var (exit, output, _) = Run("bench", "--help");
        Assert.Equal(0, exit);
        foreach (string option in new[] { "--model <FILE>", "--precision <NAME>", "--batch <N>", "--threads <N>", "--data <DIR>" })
        {
            Assert.Contains(option, output);
        }

        Assert.Contains("--precision <NAME>", Run("evaluate", "--help").Out);
    }
}
