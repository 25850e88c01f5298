using System.CommandLine;
using System.Diagnostics;
using Backprop.Simd.Data;
using Backprop.Simd.Serialization;
using Backprop.Simd.Training;

namespace Backprop.Simd.Cli.Commands;

/// <summary>
/// <c>backprop train</c>: the seed's <c>SGD</c> run on MNIST-format data, with the seed's defaults
/// (sizes 784,30,10, 30 epochs, mini-batch 10, eta 3.0) and the seed's per-epoch line.
/// </summary>
internal static class TrainCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string> data = CommonOptions.Data();
        Option<int[]> sizes = new("--sizes")
        {
            Description = "Layer sizes, input first, comma-separated. Default 784,30,10 (or the --init model's sizes).",
            HelpName = "N,N,...",
            Arity = ArgumentArity.ExactlyOne,
            CustomParser = ParseSizes,
        };
        Option<int> epochs = CommonOptions.WholeNumber("--epochs", "Passes over the training data.", 30, minimum: 1);
        Option<int> batchSize = CommonOptions.WholeNumber("--batch-size", "Samples per mini-batch.", 10, minimum: 1);
        Option<float> eta = CommonOptions.NonNegativeReal("--eta", "Learning rate.", 3.0f);
        Option<ulong> seed = new("--seed") { Description = "Seed for the initial weights and the shuffles; the same seed gives the same run.", DefaultValueFactory = _ => 0UL };
        Option<bool> noShuffle = new("--no-shuffle") { Description = "Visit the training samples in file order instead of shuffling every epoch." };
        Option<int> validation = CommonOptions.WholeNumber(
            "--validation",
            "Hold out the last N training images as validation data (60000 -> 50000 + 10000, as the seed's loader does); epochs are then evaluated on them and the test set once at the end.",
            0,
            minimum: 0);
        Option<string> init = new("--init") { Description = "Start from this saved model (its weights, activations and cost) instead of random weights.", HelpName = "FILE" };
        Option<string> save = new("--save") { Description = "Save the trained model here (network2.py's JSON layout, plus \"activations\" for non-sigmoid networks).", HelpName = "FILE" };
        Option<string> plot = new("--plot") { Description = "Draw the accuracy per epoch as a PNG line chart.", HelpName = "FILE.png" };

        var command = new Command("train", "Train a network with mini-batch stochastic gradient descent and report the accuracy after every epoch.")
        {
            data, sizes, epochs, batchSize, eta, seed, noShuffle, validation, init, save, plot,
        };
        command.SetAction(parsed => Run(console, new Settings(
            parsed.GetValue(data),
            parsed.GetResult(sizes) is null ? null : parsed.GetValue(sizes), // not given: the default or --init's sizes
            parsed.GetValue(epochs),
            parsed.GetValue(batchSize),
            parsed.GetValue(eta),
            parsed.GetValue(seed),
            !parsed.GetValue(noShuffle),
            parsed.GetValue(validation),
            parsed.GetValue(init),
            parsed.GetValue(save),
            parsed.GetValue(plot))));
        return command;
    }

    private sealed record Settings(
        string? Data, int[]? Sizes, int Epochs, int BatchSize, float Eta, ulong Seed, bool Shuffle, int Validation,
        string? Init, string? Save, string? Plot);

    private static int Run(CliConsole console, Settings s)
    {
        if (s.Plot is not null && !s.Plot.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            throw new UserErrorException($"--plot needs a .png file name, but was '{s.Plot}'.");
        }

        long start = Stopwatch.GetTimestamp();
        MnistSplit split;
        try
        {
            split = CommonOptions.LoadData(s.Data, s.Validation);
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName == "validationCount")
        {
            throw new UserErrorException($"--validation {s.Validation} leaves nothing to train on: {e.Message.Split('\n')[0].Replace(" (Parameter 'validationCount')", "")}");
        }

        Network network = CreateNetwork(s, split);
        Dataset evaluation = split.Validation ?? split.Test;
        string evaluationName = split.Validation is null ? "test" : "validation";

        TextWriter output = console.Out;
        output.WriteLine(
            $"Training [{string.Join(", ", network.Sizes.ToArray())}] on {split.Training.Count:N0} images from {CommonOptions.DataName(s.Data)}; " +
            $"evaluating on {evaluation.Count:N0} {evaluationName} images.");
        output.WriteLine(
            $"{s.Epochs} epochs, mini-batch {s.BatchSize}, eta {s.Eta}, seed {s.Seed}{(s.Shuffle ? "" : ", no shuffle")}{(s.Init is null ? "" : $", from {s.Init}")}.");

        var sgd = new Sgd(network, split.Training, new TrainingOptions { MiniBatchSize = s.BatchSize, Eta = s.Eta, Seed = s.Seed, Shuffle = s.Shuffle });
        var accuracy = new List<double>(s.Epochs);
        EpochResult best = default;
        TimeSpan training = TimeSpan.Zero;
        string label = "";
        Action<int, int> progress = (done, total) => console.Progress.Report(label, done, total);
        for (int j = 0; j < s.Epochs; j++)
        {
            label = $"Epoch {j}";
            EpochResult result = sgd.RunEpoch(evaluation, progress);
            console.Progress.Clear();
            training += result.TrainingTime;
            accuracy.Add(result.Accuracy * 100);
            if (j == 0 || result.Correct > best.Correct)
            {
                best = result;
            }

            output.WriteLine($"{result}  ({result.TrainingTime.TotalSeconds:F2} s, {result.SamplesPerSecond:N0} samples/s)");
        }

        output.WriteLine(
            $"Best: epoch {best.Epoch}, {best.Correct} / {best.TestCount} ({CommonOptions.Percent(best.Correct, best.TestCount)}) on {evaluationName} data. " +
            $"Training {training.TotalSeconds:F2} s ({(double)split.Training.Count * s.Epochs / training.TotalSeconds:N0} samples/s), total {Stopwatch.GetElapsedTime(start).TotalSeconds:F2} s.");
        if (split.Validation is not null)
        {
            int correct = Evaluation.Evaluate(network, sgd.Workspace, split.Test);
            output.WriteLine($"Test: {correct} / {split.Test.Count} ({CommonOptions.Percent(correct, split.Test.Count)}) after the last epoch.");
        }

        if (s.Save is not null)
        {
            ModelJson.Save(network, s.Save);
            output.WriteLine($"Saved the model to {s.Save}.");
        }

        if (s.Plot is not null)
        {
            AccuracyPlot.Save(s.Plot, accuracy, $"{evaluationName} accuracy, [{string.Join(", ", network.Sizes.ToArray())}], eta {s.Eta}, mini-batch {s.BatchSize}");
            output.WriteLine($"Plotted the accuracy to {s.Plot}.");
        }

        return 0;
    }

    private static Network CreateNetwork(Settings s, MnistSplit split)
    {
        string source;
        Network network;
        if (s.Init is not null)
        {
            network = CommonOptions.LoadModel(s.Init);
            source = s.Init;
            if (s.Sizes is not null && !s.Sizes.AsSpan().SequenceEqual(network.Sizes))
            {
                throw new UserErrorException(
                    $"--sizes {string.Join(",", s.Sizes)} differs from the sizes of --init {s.Init}: {string.Join(",", network.Sizes.ToArray())}. Leave --sizes out to train the saved network.");
            }
        }
        else
        {
            int[] sizes = s.Sizes ?? [784, 30, 10];
            network = new Network(sizes, s.Seed);
            source = $"--sizes {string.Join(",", sizes)}";
        }

        CommonOptions.CheckFits(network, split.Training, source, CommonOptions.DataName(s.Data));
        return network;
    }

    private static int[]? ParseSizes(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], out sizes[i]) || sizes[i] < 1)
            {
                result.AddError($"--sizes must be comma-separated whole numbers >= 1, like 784,30,10, but '{parts[i]}' in '{text}' is not.");
                return null;
            }
        }

        if (sizes.Length < 2)
        {
            result.AddError($"--sizes needs at least two layers (input and output), like 784,30,10, but was '{text}'.");
            return null;
        }

        return sizes;
    }
}
