using Backprop.Simd.Cli;
using Backprop.Simd.Data;
using Backprop.Simd.Serialization;
using static Backprop.Simd.Tests.Cli.CliRunner;

namespace Backprop.Simd.Tests.Cli;

/// <summary><c>backprop quantize</c>, and <c>evaluate</c>, <c>predict</c> and <c>bench</c> on the int8 model file it writes.</summary>
public sealed class QuantizedFileCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-cli-int8-file-").FullName;
    private readonly string _model;
    private readonly string _int8;

    public QuantizedFileCliTests()
    {
        _model = Path.Combine(_dir, "model.json");
        _int8 = Path.Combine(_dir, "model.int8.json");
        ModelJson.Save(new Network([784, 16, 10], seed: 5, new NetworkOptions { HiddenActivation = Activation.ReLU, Cost = CostFunction.LogLikelihood, WeightInit = WeightInit.He }), _model);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void An_int8_file_evaluates_predicts_and_benches_like_the_float_file_in_int8()
    {
        var (exit, output, error) = Run("quantize", "--model", _model, "--out", _int8);
        Assert.True(exit == 0, error);
        Assert.StartsWith($"Quantized [784, 16, 10] (relu, softmax; log-likelihood cost) from {_model} to {_int8} (", output);
        QuantizedNetwork expected = QuantizedNetwork.From(ModelJson.Load(_model));
        Assert.Equal(expected.RowCodes(1), QuantizedNetwork.Load(_int8).RowCodes(1));

        string fromFloat = Run("evaluate", "--model", _model, "--precision", "int8").Out;
        Assert.Equal(fromFloat, Run("evaluate", "--model", _int8).Out);
        Assert.Equal(fromFloat, Run("evaluate", "--model", _int8, "--precision", "int8").Out);
        Dataset test = MnistData.LoadBundled().Test;
        Assert.StartsWith($"{expected.Evaluate(test, new QuantizedWorkspace(expected))} / {test.Count}", fromFloat);

        (exit, output, error) = Run("predict", "--model", _int8, "--index", "3");
        Assert.True(exit == 0, error);
        float[] x = new float[784];
        test.Input(3, x);
        Assert.StartsWith($"Predicted: {expected.Predict(x, new QuantizedWorkspace(expected))} (label {test.Label(3)})", output);

        (exit, output, error) = Run("info", "--model", _int8);
        Assert.True(exit == 0, error);
        Assert.Contains("Sizes:       [784, 16, 10]", output);
        Assert.Contains($"Parameters:  {(784 * 16) + 16 + (16 * 10) + 10:N0}", output);
        Assert.Contains("Activations: relu, softmax", output);
        Assert.Contains("Precision:   int8 (", output);
        Assert.Contains("Scales:      dynamic (", output);
        Assert.DoesNotContain("Precision", Run("info", "--model", _model).Out);

        (exit, output, error) = Run("bench", "--model", _int8, "--batch", "100", "--threads", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("[784, 16, 10] (relu, softmax; log-likelihood cost) in int8: weights ", output);
        Assert.Contains("batch of 100 on 1 thread: ", output);
    }

    [Fact]
    public void Quantize_with_calibrate_fixes_the_scales_from_the_training_images()
    {
        var (exit, output, error) = Run("quantize", "--model", _model, "--out", _int8, "--calibrate");
        Assert.True(exit == 0, error);
        MnistSplit digits = MnistData.LoadBundled();
        Assert.EndsWith($"input scales calibrated on {digits.Training.Count:N0} training images of the bundled MNIST-10k digits).", output.Trim());
        QuantizedNetwork expected = QuantizedNetwork.From(ModelJson.Load(_model), digits.Training);
        QuantizedNetwork loaded = QuantizedNetwork.Load(_int8);
        Assert.True(loaded.IsCalibrated);
        for (int l = 1; l <= 2; l++)
        {
            Assert.Equal(expected.InputScaleOf(l), loaded.InputScaleOf(l));
        }

        Assert.StartsWith($"{expected.Evaluate(digits.Test, new QuantizedWorkspace(expected))} / {digits.Test.Count}", Run("evaluate", "--model", _int8).Out);
        Assert.Contains("Scales:      calibrated (", Run("info", "--model", _int8).Out);

        // --data names the directory; without --calibrate it is a mistake, not silently ignored.
        (exit, _, error) = Run("quantize", "--model", _model, "--out", _int8, "--data", _dir);
        Assert.Equal(BackpropCli.UserError, exit);
        Assert.Contains("--data is only read with --calibrate", error);
        (exit, _, error) = Run("quantize", "--model", _model, "--out", _int8, "--calibrate", "--data", Path.Combine(_dir, "none"));
        Assert.Equal(BackpropCli.UserError, exit);
        Assert.StartsWith("backprop: --data: ", error);
    }

    [Theory]
    [InlineData("float32", "--precision float32: {int8} holds an int8 model")]
    [InlineData("quantize", "--model: {int8} is already an int8 model file")]
    [InlineData("corrupt", "--model: {int8}: $.codes[0][0][0] is 300, expected an integer from -127 to 127.")]
    [InlineData("unwritable", "--out")]
    public void Mistakes_are_one_line_naming_the_option_and_exit_code_1(string mistake, string message)
    {
        Assert.Equal(0, Run("quantize", "--model", _model, "--out", _int8).Exit);
        string[] args = mistake switch
        {
            "float32" => ["evaluate", "--model", _int8, "--precision", "float32"],
            "quantize" => ["quantize", "--model", _int8, "--out", Path.Combine(_dir, "again.json")],
            "unwritable" => ["quantize", "--model", _model, "--out", Path.Combine(_dir, "missing", "m.json")],
            _ => ["bench", "--model", _int8],
        };
        if (mistake == "corrupt")
        {
            string text = File.ReadAllText(_int8);
            int at = text.IndexOf("\"codes\":[[[", StringComparison.Ordinal) + 11;
            File.WriteAllText(_int8, text[..at] + "300" + text[text.IndexOf(',', at)..]);
        }

        var (exit, _, error) = Run(args);
        Assert.Equal(BackpropCli.UserError, exit);
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("backprop: ", line);
        Assert.Contains(message.Replace("{int8}", _int8), line);
    }
}
