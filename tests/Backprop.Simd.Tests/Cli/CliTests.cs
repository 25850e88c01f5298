using System.Text.RegularExpressions;
using Backprop.Simd.Cli;
using SkiaSharp;
using static Backprop.Simd.Tests.Cli.CliRunner;

namespace Backprop.Simd.Tests.Cli;

/// <summary>End-to-end runs of the <c>backprop</c> command line, in process, on the bundled digits.</summary>
public sealed partial class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [GeneratedRegex(@"^Epoch (\d+): (\d+) / 1996  \(\d+\.\d\d s, [\d,]+ samples/s\)$", RegexOptions.Multiline)]
    private static partial Regex EpochLine();

    [Fact]
    public void Train_prints_the_seed_epoch_lines_then_saves_plots_and_the_model_evaluates_the_same()
    {
        string model = PathOf("model.json"), plot = PathOf("accuracy.png");
        var (exit, output, error) = Run("train", "--epochs", "2", "--seed", "5", "--save", model, "--plot", plot);

        Assert.True(exit == 0, error);
        Assert.Equal("", error);
        Assert.Contains("Training [784, 30, 10] on 8,004 images from the bundled MNIST-10k digits", output);
        Assert.Contains("2 epochs, mini-batch 10, eta 3, seed 5; ", output);
        MatchCollection epochs = EpochLine().Matches(output);
        Assert.Equal(2, epochs.Count);
        Assert.Equal(["0", "1"], epochs.Select(m => m.Groups[1].Value));
        int lastCorrect = int.Parse(epochs[1].Groups[2].Value);
        Assert.True(lastCorrect > 1996 * 0.8, $"only {lastCorrect} / 1996 after two epochs:\n{output}");
        Assert.Matches(@"Best: epoch [01], \d+ / 1996 \(\d+\.\d\d%\) on test data\. Training \d+\.\d\d s", output);

        using (SKBitmap png = SKBitmap.Decode(plot))
        {
            Assert.Equal((900, 540), (png.Width, png.Height));
        }

        Assert.Empty(Directory.GetFiles(_dir, "*.tmp*"));

        (exit, output, error) = Run("evaluate", "--model", model);
        Assert.True(exit == 0, error);
        Assert.Equal($"{lastCorrect} / 1996 ({100.0 * lastCorrect / 1996:F2}%)", output.Trim());

        (exit, output, _) = Run("info", "--model", model);
        Assert.Equal(0, exit);
        Assert.Contains("Sizes:       [784, 30, 10]", output);
        Assert.Contains("Parameters:  23,860", output);
        Assert.Contains("Cost:        quadratic", output);
        Assert.Contains("Activations: sigmoid, sigmoid", output);
    }

    [Fact]
    public void Info_evaluate_and_predict_use_the_architecture_in_the_model_file()
    {
        string model = PathOf("relu-softmax.json");
        var network = new Network([784, 20, 10], seed: 3, new NetworkOptions { HiddenActivation = Activation.ReLU, Cost = CostFunction.LogLikelihood, WeightInit = WeightInit.He });
        Backprop.Simd.Serialization.ModelJson.Save(network, model);

        var (exit, output, error) = Run("info", "--model", model);
        Assert.True(exit == 0, error);
        Assert.Contains("Cost:        log-likelihood", output);
        Assert.Contains("Activations: relu, softmax", output);

        (exit, output, error) = Run("evaluate", "--model", model);
        Assert.True(exit == 0, error);
        Assert.Matches(@"^\d+ / 1996 \(\d+\.\d\d%\)$", output.Trim());

        (exit, output, error) = Run("predict", "--model", model, "--index", "0");
        Assert.True(exit == 0, error);
        double sum = Regex.Matches(output, @"^  \d: (\d\.\d{4})", RegexOptions.Multiline).Sum(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1.0, sum, 0.006); // a softmax output: ten probabilities, each rounded to 4 decimals
    }

    [Fact]
    public void A_model_whose_activations_do_not_fit_its_cost_is_a_user_error_naming_the_file()
    {
        string model = PathOf("bad-architecture.json");
        File.WriteAllText(model, """{"sizes": [2, 1], "weights": [[[1, 2]]], "biases": [[[0]]], "cost": "CrossEntropyCost", "activations": ["relu"]}""");

        var (exit, _, error) = Run("info", "--model", model);

        Assert.Equal(BackpropCli.UserError, exit);
        Assert.Contains(model, error);
        Assert.Contains("the cross-entropy cost needs a sigmoid output layer", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void Same_seed_gives_the_same_run_and_init_continues_from_a_saved_model()
    {
        string first = PathOf("first.json");
        var a = Run("train", "--epochs", "1", "--seed", "9", "--no-shuffle", "--save", first);
        var b = Run("train", "--epochs", "1", "--seed", "9", "--no-shuffle");
        Assert.Equal(0, a.Exit);
        Assert.Equal(EpochLine().Match(a.Out).Groups[2].Value, EpochLine().Match(b.Out).Groups[2].Value);
        Assert.Contains("no shuffle", a.Out);

        var resumed = Run("train", "--epochs", "1", "--init", first, "--eta", "0.5");
        Assert.True(resumed.Exit == 0, resumed.Err);
        Assert.Contains($"from {first}", resumed.Out);
        int before = int.Parse(EpochLine().Match(a.Out).Groups[2].Value);
        int after = int.Parse(EpochLine().Match(resumed.Out).Groups[2].Value);
        Assert.True(after > before - 60, $"resuming from {before} / 1996 fell to {after}: was the model loaded?");
    }

    [Fact]
    public void Validation_holds_out_the_last_training_images_and_reports_the_test_set_at_the_end()
    {
        var (exit, output, error) = Run("train", "--epochs", "1", "--validation", "1000", "--sizes", "784,10");
        Assert.True(exit == 0, error);
        Assert.Contains("Training [784, 10] on 7,004 images", output);
        Assert.Contains("evaluating on 1,000 validation images", output);
        Assert.Matches(@"Epoch 0: \d+ / 1000 ", output);
        Assert.Matches(@"Test: \d+ / 1996 \(\d+\.\d\d%\) with the last epoch.s parameters\.", output);
    }

    [Fact]
    public void Timing_says_where_the_run_spent_its_time()
    {
        var (exit, output, error) = Run("train", "--epochs", "2", "--validation", "500", "--sizes", "784,10", "--save", PathOf("timed.json"), "--timing");
        Assert.True(exit == 0, error);
        string last = output.TrimEnd().Split('\n')[^1];
        Match m = Regex.Match(last,
            @"^Timing: start-up (?<startUp>\d+\.\d{3}) s \(process start to the command, \+-10 ms\), loading (?<loading>\d+\.\d{3}) s, set-up (?<setUp>\d+\.\d{3}) s, " +
            @"training (?<training>\d+\.\d{3}) s \(epoch 0 (?<first>\d+\.\d{3}) s(; \d+ threads shared \d+% of the mini-batches)?\), validation (?<validation>\d+\.\d{3}) s \(2 passes\), reporting \d+\.\d{3} s, " +
            @"test (?<test>\d+\.\d{3}) s, saving (?<saving>\d+\.\d{3}) s, plotting 0\.000 s; (?<total>\d+\.\d{3}) s since the process started\.$");
        Assert.True(m.Success, last);
        double Seconds(string name) => double.Parse(m.Groups[name].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Seconds("training") >= Seconds("first") && Seconds("first") > 0, last);
        // Two passes over 500 validation samples and one over the 1,996 test samples can each take under half a
        // millisecond, printed as 0.000: only their presence is checked for those two.
        Assert.True(Seconds("saving") > 0 && Seconds("loading") > 0, last);
        Assert.True(Seconds("startUp") + Seconds("loading") + Seconds("setUp") + Seconds("training") + Seconds("validation") <= Seconds("total") + 0.011, last);

        Assert.DoesNotContain("Timing:", Run("train", "--epochs", "1", "--sizes", "784,10").Out);
    }

    [Fact]
    public void Predict_by_index_and_by_png_agree()
    {
        string model = PathOf("model.json");
        Assert.Equal(0, Run("train", "--epochs", "1", "--save", model).Exit);

        var byIndex = Run("predict", "--model", model, "--index", "7");
        Assert.True(byIndex.Exit == 0, byIndex.Err);
        Match predicted = Regex.Match(byIndex.Out, @"^Predicted: (\d) \(label (\d)\)", RegexOptions.Multiline);
        Assert.True(predicted.Success, byIndex.Out);
        Assert.Equal(10, Regex.Matches(byIndex.Out, @"^  \d: \d\.\d{4}", RegexOptions.Multiline).Count);

        // Write test image 7 as a PNG and predict from the file.
        var split = Backprop.Simd.Data.MnistData.LoadBundled();
        ReadOnlySpan<float> pixels = split.Test.Input(7);
        using var bitmap = new SKBitmap(28, 28, SKColorType.Gray8, SKAlphaType.Opaque);
        for (int i = 0; i < 784; i++)
        {
            byte v = (byte)Math.Round(pixels[i] * 255);
            bitmap.SetPixel(i % 28, i / 28, new SKColor(v, v, v));
        }

        string png = PathOf("digit.png");
        using (FileStream file = File.Create(png))
        {
            bitmap.Encode(file, SKEncodedImageFormat.Png, 100);
        }

        var byImage = Run("predict", "--model", model, "--image", png);
        Assert.True(byImage.Exit == 0, byImage.Err);
        Assert.Equal($"Predicted: {predicted.Groups[1].Value}", byImage.Out.Split('\n')[0].Trim());
        Assert.Equal(byIndex.Out.Split('\n').Skip(1), byImage.Out.Split('\n').Skip(1));
    }

    [Fact]
    public void Network2_options_train_save_and_describe_the_model()
    {
        string model = PathOf("softmax.json"), plot = PathOf("series.png");
        var (exit, output, error) = Run("train", "--epochs", "2", "--cost", "log-likelihood", "--activation", "relu", "--weight-init", "he",
            "--optimizer", "adam", "--lambda", "1", "--l1", "0.5", "--monitor", "--save", model, "--plot", plot);
        Assert.True(exit == 0, error);
        Assert.Contains("2 epochs, mini-batch 10, eta 0.001, seed 0; ", output); // Adam's default eta
        Assert.Contains("cost log-likelihood; activations relu, softmax; weight-init he; optimizer adam; L2 lambda 1; L1 0.5.", output);
        Assert.Equal(2, Regex.Matches(output, @"^  cost on training data \d+\.\d{6}, accuracy on training data \d+ / 8004 \(\d+\.\d\d%\), cost on test data \d+\.\d{6}$", RegexOptions.Multiline).Count);
        Assert.Contains("Plotted the monitored series", output);
        int last = int.Parse(EpochLine().Matches(output)[1].Groups[2].Value);
        Assert.True(last > 1996 * 0.85, output);

        (exit, output, _) = Run("info", "--model", model);
        Assert.Equal(0, exit);
        Assert.Contains("Cost:        log-likelihood", output);
        Assert.Contains("relu, softmax", output);
        Assert.Equal($"{last} / 1996 ({100.0 * last / 1996:F2}%)", Run("evaluate", "--model", model).Out.Trim());

        // --init keeps the saved architecture; --cost may change it, --activation may not.
        var resumed = Run("train", "--epochs", "1", "--init", model, "--optimizer", "momentum", "--eta", "0.01");
        Assert.True(resumed.Exit == 0, resumed.Err);
        Assert.Contains("cost log-likelihood; activations relu, softmax; optimizer momentum 0.9.", resumed.Out);
        var mismatch = Run("train", "--epochs", "1", "--init", model, "--activation", "tanh");
        Assert.Equal(BackpropCli.UserError, mismatch.Exit);
        Assert.Contains("--activation tanh differs from the hidden activations of --init", mismatch.Err);
    }

    [Fact]
    public void Early_stopping_and_the_eta_schedule_report_what_they_did()
    {
        // eta so small that nothing improves after the first epoch
        var early = Run("train", "--epochs", "10", "--eta", "1e-9", "--patience", "2", "--validation", "500", "--sizes", "784,10");
        Assert.True(early.Exit == 0, early.Err);
        Assert.Equal(3, EpochLineAnyCount().Matches(early.Out).Count);
        Assert.Contains("Stopped early: no improvement for 2 epochs; kept the parameters of epoch 0.", early.Out);

        var halving = Run("train", "--epochs", "10", "--eta", "1e-9", "--halve-eta-after", "1", "--sizes", "784,10");
        Assert.True(halving.Exit == 0, halving.Err);
        Assert.Contains("  no improvement for 1 epoch: eta halved to 5E-10", halving.Out);
        Assert.Contains("Stopped: eta was halved 7 times", halving.Out);
        Assert.Equal(8, EpochLine().Matches(halving.Out).Count);
    }

    [Fact]
    public void Every_thread_count_gives_the_same_model()
    {
        string one = PathOf("one.json"), two = PathOf("two.json");
        var a = Run("train", "--epochs", "1", "--threads", "1", "--save", one);
        var b = Run("train", "--epochs", "1", "--threads", "2", "--save", two);
        Assert.True(a.Exit == 0 && b.Exit == 0, a.Err + b.Err);
        Assert.Contains("; 1 thread, ", a.Out);
        Assert.Contains("; 2 threads, ", b.Out);
        Assert.Equal(File.ReadAllBytes(one), File.ReadAllBytes(two)); // bit-identical whatever the thread count
    }

    [Fact]
    public void Divergence_is_a_one_line_user_error()
    {
        var (exit, _, error) = Run("train", "--epochs", "2", "--activation", "identity", "--eta", "1e30");
        Assert.Equal(BackpropCli.UserError, exit);
        Assert.Matches(@"^backprop: training diverged in epoch 0, mini-batch \d+: the gradient became NaN or infinite .* Try a smaller --eta\.$", error.Trim());
    }

    [GeneratedRegex(@"^Epoch \d+: \d+ / \d+  ", RegexOptions.Multiline)]
    private static partial Regex EpochLineAnyCount();

    public static TheoryData<string[], string> UserErrors => new()
    {
        { ["train", "--cost", "hinge"], "--cost must be one of quadratic, cross-entropy, log-likelihood, but was 'hinge'." },
        { ["train", "--activation", "softmax"], "--activation must be one of sigmoid, tanh, relu, leaky-relu, identity, elu, gelu, silu (or leaky-relu:SLOPE with a SLOPE from -1 to 1, e.g. leaky-relu:0.2), but was 'softmax'." },
        { ["train", "--activation", "log-softmax"], "--activation must be one of sigmoid, tanh, relu, leaky-relu, identity, elu, gelu, silu (or leaky-relu:SLOPE with a SLOPE from -1 to 1, e.g. leaky-relu:0.2), but was 'log-softmax'." },
        { ["train", "--activation", "leaky-relu:2"], "but was 'leaky-relu:2'." },
        { ["train", "--optimizer", "rmsprop"], "--optimizer must be one of sgd, momentum, adam, but was 'rmsprop'." },
        { ["train", "--weight-init", "zeros"], "--weight-init must be one of normal, scaled-normal, glorot, he, but was 'zeros'." },
        { ["train", "--momentum", "1"], "--momentum must be a number >= 0 and < 1, but was '1'." },
        { ["train", "--threads", "0"], "--threads must be a whole number from 1 to" },
        { ["train", "--lambda", "-1"], "--lambda must be a finite number >= 0" },
        { ["train", "--patience", "-1"], "--patience must be a whole number >= 0" },
        { ["train", "--sizes", "784,x,10"], "--sizes must be comma-separated whole numbers" },
        { ["train", "--sizes", "784"], "at least two layers" },
        { ["train", "--sizes", "100,10", "--epochs", "1"], "need 784 inputs and 10 outputs" },
        { ["train", "--batch-size", "0"], "--batch-size must be a whole number >= 1, but was '0'" },
        { ["train", "--epochs", "0"], "--epochs must be a whole number >= 1" },
        { ["train", "--epochs", "many"], "--epochs must be a whole number >= 1, but was 'many'" },
        { ["train", "--eta", "abc"], "--eta must be a finite number >= 0" },
        { ["train", "--eta", "-1"], "--eta must be a finite number >= 0" },
        { ["train", "--eta", "NaN"], "--eta must be a finite number >= 0" },
        { ["train", "--data", "/nonexistent/backprop-data"], "/nonexistent/backprop-data" },
        { ["train", "--plot", "chart.jpg"], "--plot needs a .png file name" },
        { ["train", "--validation", "9000"], "--validation must be a whole number from 0 to 8003 (the bundled MNIST-10k digits hold 8,004 training images, and at least 1 must stay for training), but was 9000." },
        { ["train", "--validation", "-5"], "--validation must be a whole number >= 0" },
        { [], "Required command was not provided" },
        { ["evaluate", "--model", "/nonexistent/model.json"], "/nonexistent/model.json" },
        { ["evaluate"], "--model" },
        { ["predict", "--model", "/nonexistent/model.json"], "exactly one of --image FILE or --index N" },
        { ["info", "--model", "/nonexistent/model.json"], "/nonexistent/model.json" },
        { ["nonsense"], "nonsense" },
    };

    [Theory]
    [MemberData(nameof(UserErrors))]
    public void User_errors_exit_non_zero_with_a_message_and_no_stack_trace(string[] args, string mention)
    {
        var (exit, output, error) = Run(args);
        Assert.NotEqual(0, exit);
        Assert.Contains(mention, error);
        Assert.DoesNotContain("   at ", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.DoesNotMatch(@"^Epoch \d", output);
    }

    [Fact]
    public void Corrupt_models_images_and_mismatched_sizes_are_user_errors()
    {
        string broken = PathOf("broken.json");
        File.WriteAllText(broken, "{\"sizes\": [784, 30, 10], \"weights\": [[[0.1, ");
        var run = Run("info", "--model", broken);
        Assert.Equal(BackpropCli.UserError, run.Exit);
        Assert.Contains(broken, run.Err);

        string small = PathOf("small.json");
        Assert.Equal(0, Run("train", "--epochs", "1", "--sizes", "784,10", "--save", small).Exit);
        run = Run("train", "--epochs", "1", "--init", small, "--sizes", "784,30,10");
        Assert.Equal(BackpropCli.UserError, run.Exit);
        Assert.Contains("differs from the sizes of --init", run.Err);

        string notPng = PathOf("digit.png");
        File.WriteAllText(notPng, "not an image");
        run = Run("predict", "--model", small, "--image", notPng);
        Assert.Equal(BackpropCli.UserError, run.Exit);
        Assert.Contains("is not an image", run.Err);

        run = Run("predict", "--model", small, "--index", "5000");
        Assert.Equal(BackpropCli.UserError, run.Exit);
        Assert.Contains("--index must be a whole number from 0 to 1995, the test images of the bundled MNIST-10k digits, but was 5000.", run.Err);
        Assert.Single(run.Err.Trim().Split('\n'));
    }
}
