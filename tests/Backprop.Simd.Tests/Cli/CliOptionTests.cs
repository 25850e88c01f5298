using System.Text.RegularExpressions;
using Backprop.Simd.Cli;
using Backprop.Simd.Serialization;
using static Backprop.Simd.Tests.Cli.CliRunner;

namespace Backprop.Simd.Tests.Cli;

/// <summary>Every option of every command: bad values, the help text, plurals, warnings and the sample image.</summary>
public sealed partial class CliOptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-cli-options-").FullName;

    public CliOptionTests()
    {
        ModelJson.Save(new Network([784, 10], seed: 1), PathOf("small.json"));
        File.WriteAllText(PathOf("corrupt.json"), "{\"sizes\": [784, 10], \"weights\": [[[0.1, ");
        File.WriteAllText(PathOf("not-a.png"), "not an image");
        Directory.CreateDirectory(PathOf("empty"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Backprop.Simd.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No folder above '{AppContext.BaseDirectory}' holds Backprop.Simd.sln.");
    }

    /// <summary>A bad value for every option of every command ({dir} is a temporary folder holding small.json,
    /// corrupt.json, not-a.png and an empty folder), and the option the one-line message must name.</summary>
    public static TheoryData<string[], string> BadValues => new()
    {
        { ["train", "--data", "{dir}/missing"], "--data" },
        { ["train", "--data", "{dir}/small.json"], "--data" },
        { ["train", "--data", "{dir}/empty"], "--data" },
        { ["train", "--sizes", "784,x,10"], "--sizes" },
        { ["train", "--sizes", "784"], "--sizes" },
        { ["train", "--sizes", "-1,10"], "--sizes" },
        { ["train", "--sizes", "99999999999,10"], "--sizes" },
        { ["train", "--sizes", "784,100000000,10"], "--sizes" },
        { ["train", "--sizes", "100,10"], "--sizes" },
        { ["train", "--epochs", "0"], "--epochs" },
        { ["train", "--epochs", "-1"], "--epochs" },
        { ["train", "--epochs", "many"], "--epochs" },
        { ["train", "--epochs", "99999999999"], "--epochs" },
        { ["train", "--epochs"], "--epochs" },
        { ["train", "--batch-size", "0"], "--batch-size" },
        { ["train", "--batch-size", "ten"], "--batch-size" },
        { ["train", "--eta", "-1"], "--eta" },
        { ["train", "--eta", "abc"], "--eta" },
        { ["train", "--eta", "NaN"], "--eta" },
        { ["train", "--eta", "Infinity"], "--eta" },
        { ["train", "--eta", "1e39"], "--eta" },
        { ["train", "--seed", "-1"], "--seed" },
        { ["train", "--seed", "abc"], "--seed" },
        { ["train", "--seed", "1.5"], "--seed" },
        { ["train", "--seed", "18446744073709551616"], "--seed" },
        { ["train", "--no-shuffle", "maybe"], "maybe" },
        { ["train", "--monitor", "yes"], "yes" },
        { ["train", "--validation", "-5"], "--validation" },
        { ["train", "--validation", "x"], "--validation" },
        { ["train", "--validation", "8004"], "--validation" },
        { ["train", "--cost", "hinge"], "--cost" },
        { ["train", "--cost", "LogLikelihood"], "--cost" },
        { ["train", "--activation", "softmax"], "--activation" },
        { ["train", "--activation", "ReLU"], "--activation" },
        { ["train", "--activation", "leaky-relu:2"], "--activation" },
        { ["train", "--activation", "leaky-relu:x"], "--activation" },
        { ["train", "--activation", "gelu:0.2"], "--activation" },
        { ["train", "--activation", "log-softmax"], "--activation" },
        { ["train", "--weight-init", "zeros"], "--weight-init" },
        { ["train", "--optimizer", "rmsprop"], "--optimizer" },
        { ["train", "--lambda", "-1"], "--lambda" },
        { ["train", "--lambda", "x"], "--lambda" },
        { ["train", "--l1", "-0.5"], "--l1" },
        { ["train", "--momentum", "1"], "--momentum" },
        { ["train", "--momentum", "-0.5"], "--momentum" },
        { ["train", "--patience", "-1"], "--patience" },
        { ["train", "--halve-eta-after", "-1"], "--halve-eta-after" },
        { ["train", "--threads", "0"], "--threads" },
        { ["train", "--threads", "99999"], "--threads" },
        { ["train", "--threads", "x"], "--threads" },
        { ["train", "--init", "{dir}/missing.json"], "--init" },
        { ["train", "--init", "{dir}/corrupt.json"], "--init" },
        { ["train", "--init", "{dir}/small.json", "--sizes", "784,30,10"], "--sizes" },
        { ["train", "--save", "{dir}/missing/model.json"], "--save" },
        { ["train", "--save", "{dir}/empty"], "--save" },
        { ["train", "--plot", "chart.jpg"], "--plot" },
        { ["train", "--plot", "{dir}/missing/chart.png"], "--plot" },
        { ["evaluate"], "--model" },
        { ["evaluate", "--model", "{dir}/missing.json"], "--model" },
        { ["evaluate", "--model", "{dir}/corrupt.json"], "--model" },
        { ["evaluate", "--model", "{dir}/empty"], "--model" },
        { ["evaluate", "--model", "{dir}/small.json", "--data", "{dir}/empty"], "--data" },
        { ["predict", "--model", "{dir}/small.json"], "--index" },
        { ["predict", "--model", "{dir}/small.json", "--index", "1", "--image", "{dir}/not-a.png"], "--image" },
        { ["predict", "--model", "{dir}/small.json", "--index", "-1"], "--index" },
        { ["predict", "--model", "{dir}/small.json", "--index", "x"], "--index" },
        { ["predict", "--model", "{dir}/small.json", "--index", "1996"], "--index" },
        { ["predict", "--model", "{dir}/small.json", "--image", "{dir}/missing.png"], "--image" },
        { ["predict", "--model", "{dir}/small.json", "--image", "{dir}/not-a.png"], "--image" },
        { ["predict", "--model", "{dir}/missing.json", "--index", "1"], "--model" },
        { ["info", "--model", "{dir}/missing.json"], "--model" },
        { ["info", "--model", "{dir}/corrupt.json"], "--model" },
        { ["export", "--model", "{dir}/missing.json", "--onnx", "{dir}/m.onnx"], "--model" },
        { ["export", "--model", "{dir}/small.json", "--onnx", "{dir}/missing/m.onnx"], "--onnx" },
        { ["export", "--model", "{dir}/small.json", "--onnx", "{dir}/empty"], "--onnx" },
        { ["export", "--model", "{dir}/small.json"], "--onnx" },
        { ["import", "--onnx", "{dir}/missing.onnx", "--save", "{dir}/m.json"], "--onnx" },
        { ["import", "--onnx", "{dir}/small.json", "--save", "{dir}/m.json"], "--onnx" },
        { ["import", "--onnx", "{dir}/small.json", "--save", "{dir}/missing/m.json"], "--save" },
        { ["import", "--onnx", "{dir}/small.json"], "--save" },
    };

    // Names of C# parameters in the library and the command line that a message must never show.
    private static readonly string[] Internals =
        ["System.", "Exception", "bin/", "obj/", "(Parameter", "validationCount", "paramName", "ParamName", "directory'", "   at "];

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_bad_value_is_one_plain_line_naming_the_option_and_exit_code_1(string[] args, string option)
    {
        var (exit, output, error) = Run([.. args.Select(a => a.Replace("{dir}", _dir))]);

        Assert.True(exit == BackpropCli.UserError, $"exit {exit}: {error}");
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("backprop: ", line);
        Assert.Contains(option, line);
        foreach (string leak in Internals)
        {
            Assert.DoesNotContain(leak, line);
        }

        Assert.DoesNotContain("Epoch 0:", output);
    }

    [Theory]
    [InlineData(new[] { "train", "--eta", "x" }, "--eta must be a finite number >= 0, but was 'x'.")]
    [InlineData(new[] { "train", "--seed", "-1" }, "--seed must be a whole number from 0 to 18446744073709551615, but was '-1'.")]
    [InlineData(new[] { "train", "--threads", "0" }, "--threads must be a whole number from 1 to ")]
    [InlineData(new[] { "predict", "--model", "m.json", "--index", "x" }, "--index must be a whole number >= 0, but was 'x'.")]
    [InlineData(new[] { "train", "--cost", "CrossEntropyCost" }, "--cost must be one of quadratic, cross-entropy, log-likelihood, but was 'CrossEntropyCost'.")]
    public void A_bad_value_says_what_the_option_accepts(string[] args, string message) =>
        Assert.Contains(message, Run(args).Err);

    [GeneratedRegex(@"^  (?<names>-[^<\s]*(, -[^<\s]*)*)(?: <(?<placeholder>[^>]+)>)?(?: \(REQUIRED\))?\s+(?<description>.*)$", RegexOptions.Multiline)]
    private static partial Regex OptionRow();

    [Theory]
    [InlineData("train")]
    [InlineData("evaluate")]
    [InlineData("predict")]
    [InlineData("info")]
    [InlineData("export")]
    [InlineData("import")]
    public void Help_uses_upper_case_placeholders_and_states_each_default_once(string command)
    {
        var (exit, output, _) = Run(command, "--help");
        Assert.Equal(0, exit);
        MatchCollection rows = OptionRow().Matches(output);
        Assert.NotEmpty(rows);
        foreach (Match row in rows)
        {
            string placeholder = row.Groups["placeholder"].Value, description = row.Groups["description"].Value;
            Assert.Matches("^[A-Z.,]*$", placeholder);
            Assert.True(Regex.Matches(description, @"\[default: ").Count <= 1, row.Value);
            Assert.DoesNotMatch(@"\bDefault\b|\(default\)", description);
        }

        Assert.Contains("--model <FILE>", Run("info", "--help").Out);
    }

    [Fact]
    public void Train_help_lists_the_names_of_the_shared_table()
    {
        string help = Run("train", "--help").Out;
        Assert.Contains($"{Names.List(Names.HiddenActivations)};", help);
        Assert.Contains("leaky-relu:SLOPE", help);
        Assert.Contains("[default: 3 for sgd and momentum, 0.001 for adam]", help);
        Assert.DoesNotContain("[default: 3]", help);
        foreach (string name in Names.Costs.All.Concat(Names.WeightInits.All).Concat(Names.Optimizers.All))
        {
            Assert.Contains(name, help);
        }
    }

    [Theory]
    [InlineData("gelu", "activations gelu, sigmoid")]
    [InlineData("elu", "activations elu, sigmoid")]
    [InlineData("silu", "activations silu, sigmoid")]
    [InlineData("leaky-relu:0.2", "activations leaky-relu:0.2, sigmoid")]
    [InlineData("leaky-relu:-0.5", "activations leaky-relu:-0.5, softmax")]
    public void Train_takes_every_hidden_activation_and_saves_it(string activation, string described)
    {
        string model = PathOf($"{activation.Replace(':', '_')}.json");
        string cost = described.EndsWith("softmax", StringComparison.Ordinal) ? "log-likelihood" : "cross-entropy";
        var (exit, output, error) = Run("train", "--epochs", "1", "--sizes", "784,16,10", "--activation", activation, "--cost", cost,
            "--weight-init", "he", "--eta", "0.1", "--threads", "1", "--save", model);
        Assert.True(exit == 0, error);
        Assert.Contains(described, output);
        Match epoch = Regex.Match(output, @"^Epoch 0: (\d+) / 1996", RegexOptions.Multiline);
        Assert.True(epoch.Success && int.Parse(epoch.Groups[1].Value) > 1996 * 0.8, output); // learns: all of them reach 87-89% in one epoch
        Assert.Contains(described[("activations ".Length)..], Run("info", "--model", model).Out);
    }

    [Fact]
    public void One_of_a_thing_is_singular()
    {
        var (exit, output, error) = Run("train", "--epochs", "1", "--sizes", "784,10", "--threads", "1", "--validation", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("evaluating on 1 validation image.", output);
        Assert.Contains("1 epoch, mini-batch 10", output);
        Assert.Contains("; 1 thread,", output);
        Assert.DoesNotMatch(@"\b1 (epochs|threads|images)\b", output);

        (exit, output, error) = Run("info", "--model", PathOf("small.json"));
        Assert.True(exit == 0, error);
        Assert.Contains("Layers:      2 (1 weight layer)", output);
    }

    [Fact]
    public void A_model_is_described_in_the_option_spelling_by_every_command()
    {
        string model = PathOf("leaky.json"), onnx = PathOf("leaky.onnx");
        ModelJson.Save(new Network([784, 12, 10], seed: 2, new NetworkOptions { HiddenActivation = Activation.LeakyReLU, Cost = CostFunction.LogLikelihood }), model);

        string info = Run("info", "--model", model).Out;
        Assert.Contains("Cost:        log-likelihood", info);
        Assert.Contains("Activations: leaky-relu, softmax", info);
        string export = Run("export", "--model", model, "--onnx", onnx).Out;
        Assert.Contains("(leaky-relu, softmax; log-likelihood cost)", export);
        string import = Run("import", "--onnx", onnx, "--save", PathOf("back.json")).Out;
        Assert.Contains("(leaky-relu, softmax; log-likelihood cost)", import);
        string train = Run("train", "--epochs", "1", "--init", model, "--eta", "0.1").Out;
        Assert.Contains("cost log-likelihood; activations leaky-relu, softmax; optimizer sgd.", train);
        foreach (string output in new[] { info, export, import, train })
        {
            Assert.DoesNotMatch("LogLikelihood|LeakyReLU|LeakyRelu|Softmax", output);
        }
    }

    [Fact]
    public void Training_that_collapses_to_chance_warns_once_and_goes_on()
    {
        var (exit, output, error) = Run("train", "--epochs", "3", "--eta", "300");
        Assert.Equal(0, exit);
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.Matches(@"^warning: after epoch 1 the accuracy on the test data is \d+\.\d\d% \(\d+ / 1996\), no better than guessing among 10 classes: .*--eta", line);
        Assert.Equal(3, Regex.Matches(output, @"^Epoch \d: ", RegexOptions.Multiline).Count);
    }

    [Fact]
    public void Training_that_learns_gives_no_warning()
    {
        var (exit, output, error) = Run("train", "--epochs", "2", "--monitor", "--sizes", "784,10");
        Assert.True(exit == 0, error);
        Assert.Equal("", error);
        Assert.Contains("Epoch 1: ", output);
    }

    [Fact]
    public void A_cost_that_grows_for_three_epochs_running_is_reported_once()
    {
        var warnings = new TrainingWarnings(10, "test");
        double[] costs = [0.5, 0.4, 0.45, 0.3, 0.31, 0.32, 0.33, 0.34, 0.35];
        var said = new List<(int Epoch, string Warning)>();
        for (int epoch = 0; epoch < costs.Length; epoch++)
        {
            said.AddRange(warnings.After(epoch, 900, 1000, costs[epoch]).Select(w => (epoch, w)));
        }

        (int at, string warning) = Assert.Single(said);
        Assert.Equal(6, at);
        Assert.Equal("warning: the cost on the training data has grown for 3 epochs running (from 0.300000 to 0.330000 after epoch 6): training is diverging; try a smaller --eta.", warning);

        // Not monitored: no cost, no cost warning; chance level only from the second epoch on, and once.
        var unmonitored = new TrainingWarnings(10, "validation");
        Assert.Empty(unmonitored.After(0, 100, 1000, null));
        Assert.Single(unmonitored.After(1, 150, 1000, null));
        Assert.Empty(unmonitored.After(2, 100, 1000, null));
        Assert.Empty(new TrainingWarnings(10, "test").After(1, 151, 1000, null));
    }

    [Fact]
    public void The_sample_digit_is_predicted_as_a_7()
    {
        string sample = Path.Combine(RepositoryRoot(), "samples", "digit-7.png");
        Assert.True(new FileInfo(sample).Length < 4096, "the sample stays small");
        string model = PathOf("model.json");
        var trained = Run("train", "--epochs", "1", "--save", model);
        Assert.True(trained.Exit == 0, trained.Err);

        var (exit, output, error) = Run("predict", "--model", model, "--image", sample);
        Assert.True(exit == 0, error);
        Assert.Equal("Predicted: 7", output.Split('\n')[0].Trim());

        // It is test image 1 of the bundled digits, pixel for pixel (scripts/render-sample-digit.cs).
        var byIndex = Run("predict", "--model", model, "--index", "1");
        Assert.Equal("Predicted: 7 (label 7)", byIndex.Out.Split('\n')[0].Trim());
        Assert.Equal(byIndex.Out.Split('\n').Skip(1), output.Split('\n').Skip(1));
    }
}
