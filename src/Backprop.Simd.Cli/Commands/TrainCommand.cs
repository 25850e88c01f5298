using System.CommandLine;
using System.Diagnostics;
using Backprop.Simd.Data;
using Backprop.Simd.IO;
using Backprop.Simd.Kernels;
using Backprop.Simd.Serialization;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Cli.Commands;

/// <summary>
/// <c>backprop train</c>: the seed's <c>SGD</c> run on MNIST-format data, with the seed's defaults
/// (sizes 784,30,10, 30 epochs, mini-batch 10, eta 3.0) and the seed's per-epoch line, plus network2's costs,
/// activations, initialisations, regularisation, optimizers, schedule, early stopping and monitoring.
/// </summary>
internal static class TrainCommand
{

    public static Command Create(CliConsole console)
    {
        Option<string> data = CommonOptions.Data();
        Option<int[]> sizes = new("--sizes")
        {
            Description = $"Layer sizes, input first, comma-separated. {CommonOptions.Default("784,30,10, or the --init model's sizes")}",
            HelpName = "N,N,...",
            Arity = ArgumentArity.ExactlyOne,
            CustomParser = ParseSizes,
        };
        Option<int> epochs = CommonOptions.WholeNumber("--epochs", "Passes over the training data.", 30, minimum: 1);
        Option<int> batchSize = CommonOptions.WholeNumber("--batch-size", "Samples per mini-batch.", 10, minimum: 1);
        Option<float> eta = CommonOptions.NonNegativeReal(
            "--eta",
            $"Learning rate. {CommonOptions.Default($"3 for {Names.Of(Optimizer.Sgd)} and {Names.Of(Optimizer.Momentum)}, 0.001 for {Names.Of(Optimizer.Adam)}")}",
            defaultValue: null);
        Option<ulong> seed = CommonOptions.Seed("Seed for the initial weights and the shuffles; the same seed gives the same run.");
        Option<bool> noShuffle = new("--no-shuffle") { Description = "Visit the training samples in file order instead of shuffling every epoch.", Arity = ArgumentArity.Zero };
        Option<int> validation = CommonOptions.WholeNumber(
            "--validation",
            "Hold out the last N training images as validation data (60000 -> 50000 + 10000, as the seed's loader does); epochs are then evaluated on them and the test set once at the end.",
            0,
            minimum: 0);
        Option<CostFunction?> cost = CommonOptions.Choice(
            "--cost",
            "NAME",
            $"The cost: {Names.Of(CostFunction.Quadratic)} (the seed's), {Names.Of(CostFunction.CrossEntropy)} (sigmoid output) or {Names.Of(CostFunction.LogLikelihood)} (softmax output).",
            Names.Costs,
            $"{Names.Of(CostFunction.Quadratic)}, or the --init model's cost");
        Option<Activation?> activation = CommonOptions.HiddenActivation(
            "--activation",
            "NAME",
            $"Activation of the hidden layers: {Names.List(Names.HiddenActivations)}; leaky-relu{Names.SlopeSeparator}SLOPE sets the leaky ReLU's slope (leaky-relu is leaky-relu{Names.SlopeSeparator}0.01). The output layer follows the cost: {Names.Of(Activation.Softmax)} for {Names.Of(CostFunction.LogLikelihood)}, {Names.Of(Activation.Sigmoid)} otherwise.",
            $"{Names.Of(Activation.Sigmoid)}, or the --init model's activations");
        Option<WeightInit?> weightInit = CommonOptions.Choice(
            "--weight-init",
            "NAME",
            $"Initial weights: {Names.Of(WeightInit.StandardNormal)} N(0,1) (the seed's), {Names.Of(WeightInit.ScaledNormal)} N(0,1/n_in) (network2's), {Names.Of(WeightInit.Glorot)} or {Names.Of(WeightInit.He)}.",
            Names.WeightInits,
            Names.Of(WeightInit.StandardNormal));
        Option<float> lambda = CommonOptions.NonNegativeReal("--lambda", "L2 regularisation strength (network2's lmbda): w = (1 - eta*lambda/n) w - (eta/m) nabla_w.", 0f);
        Option<float> l1 = CommonOptions.NonNegativeReal("--l1", "L1 regularisation strength: w = w - (eta*l1/n) sgn(w) - (eta/m) nabla_w.", 0f);
        Option<Optimizer?> optimizer = CommonOptions.Choice(
            "--optimizer",
            "NAME",
            $"Update rule: {Names.Of(Optimizer.Sgd)} (the seed's), {Names.Of(Optimizer.Momentum)} or {Names.Of(Optimizer.Adam)}.",
            Names.Optimizers,
            Names.Of(Optimizer.Sgd));
        Option<float> momentum = CommonOptions.NonNegativeReal("--momentum", $"Momentum coefficient mu for --optimizer {Names.Of(Optimizer.Momentum)}.", 0.9f, below: 1f);
        Option<int> patience = CommonOptions.WholeNumber("--patience", "Early stopping: stop when the accuracy on the evaluation data has not improved for N epochs, and keep the best epoch's parameters; 0 never stops early.", 0, minimum: 0);
        Option<int> halveEtaAfter = CommonOptions.WholeNumber("--halve-eta-after", "network2's schedule: halve eta when the evaluation accuracy has not improved for N epochs, and stop after 7 halvings; 0 keeps eta constant.", 0, minimum: 0);
        Option<int> threads = CommonOptions.WholeNumber(
            "--threads",
            $"Threads sharing each mini-batch, where timing shows that faster than one thread alone; with more than one, an epoch run on one thread is evaluated on another while the next trains (not with --patience, --halve-eta-after or --monitor). The results are the same for any count. {CommonOptions.Default($"{Environment.ProcessorCount}, one per core")}",
            defaultValue: null,
            minimum: 1,
            maximum: TrainingOptions.MaxThreads);
        Option<bool> monitor = new("--monitor") { Description = "After every epoch also print the cost on the evaluation data and the cost and accuracy on the training data (network2's four monitor_* series).", Arity = ArgumentArity.Zero };
        Option<string> init = new("--init") { Description = "Start from this saved model (its weights, activations and cost) instead of random weights.", HelpName = "FILE" };
        Option<string> save = new("--save") { Description = "Save the trained model here (network2.py's JSON layout, plus \"activations\" for non-sigmoid networks).", HelpName = "FILE" };
        Option<string> plot = new("--plot") { Description = "Draw the accuracy per epoch (and, with --monitor, every monitored series) as a PNG line chart; the name must end in .png.", HelpName = "FILE" };
        Option<bool> timing = new("--timing") { Description = "At the end, print where the run's time went: start-up, loading, set-up, training (epoch 0 apart), evaluation after the epochs, the test set, saving and plotting.", Arity = ArgumentArity.Zero };

        var command = new Command("train", "Train a network with mini-batch stochastic gradient descent and report the accuracy after every epoch.")
        {
            data, sizes, epochs, batchSize, eta, seed, noShuffle, validation, cost, activation, weightInit, lambda, l1, optimizer,
            momentum, patience, halveEtaAfter, threads, monitor, init, save, plot, timing,
        };
        command.SetAction(parsed =>
        {
            Optimizer chosen = parsed.GetValue(optimizer) ?? Optimizer.Sgd;
            bool etaGiven = parsed.GetResult(eta) is not null;
            int threadCount = parsed.GetResult(threads) is not null ? parsed.GetValue(threads) : Environment.ProcessorCount;
            return Run(console, new Settings(
                parsed.GetValue(data),
                parsed.GetResult(sizes) is null ? null : parsed.GetValue(sizes), // not given: the default or --init's sizes
                parsed.GetValue(epochs),
                new TrainingOptions
                {
                    MiniBatchSize = parsed.GetValue(batchSize),
                    Eta = etaGiven ? parsed.GetValue(eta) : null,
                    Seed = parsed.GetValue(seed),
                    Shuffle = !parsed.GetValue(noShuffle),
                    Lambda = parsed.GetValue(lambda),
                    L1 = parsed.GetValue(l1),
                    Optimizer = chosen,
                    Momentum = parsed.GetValue(momentum),
                    Patience = parsed.GetValue(patience),
                    HalveEtaAfter = parsed.GetValue(halveEtaAfter),
                    Monitor = parsed.GetValue(monitor) ? Monitoring.All : Monitoring.None,
                    Threads = threadCount,
                    EvaluateWhileTraining = threadCount > 1, // a second core evaluates each epoch while the next trains
                },
                parsed.GetValue(validation),
                parsed.GetValue(cost),
                parsed.GetValue(activation),
                parsed.GetValue(weightInit) ?? WeightInit.StandardNormal,
                parsed.GetValue(init),
                parsed.GetValue(save),
                parsed.GetValue(plot),
                parsed.GetValue(timing)));
        });
        return command;
    }

    private sealed record Settings(
        string? Data, int[]? Sizes, int Epochs, TrainingOptions Options, int Validation, CostFunction? Cost, Activation? Hidden,
        WeightInit WeightInit, string? Init, string? Save, string? Plot, bool Timing);

    private static void CheckDestination(string option, string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            SafeFile.CheckWritable(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new UserErrorException($"{option}: {e.Message.Split('\n')[0]}");
        }
    }

    private static int Run(CliConsole console, Settings s)
    {
        if (s.Plot is not null && !s.Plot.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            throw new UserErrorException($"--plot needs a .png file name, but was '{s.Plot}'.");
        }

        // Before any training: a destination that cannot be written would otherwise fail only at the end.
        CheckDestination("--save", s.Save);
        CheckDestination("--plot", s.Plot);

        long start = Stopwatch.GetTimestamp();
        var phases = new Phases();
        MnistSplit split = CommonOptions.LoadData(s.Data, s.Validation);
        phases.Lap(ref phases.Loading);

        Network network = CreateNetwork(s, split);
        Dataset evaluation = split.Validation ?? split.Test;
        string evaluationName = split.Validation is null ? "test" : "validation";
        TrainingOptions o = s.Options;

        TextWriter output = console.Out;
        output.WriteLine(
            $"Training [{string.Join(", ", network.Sizes.ToArray())}] on {CommonOptions.Count(split.Training.Count, "image")} from {CommonOptions.DataName(s.Data)}; " +
            $"evaluating on {CommonOptions.Count(evaluation.Count, evaluationName + " image")}.");
        output.WriteLine(
            $"{CommonOptions.Count(s.Epochs, "epoch")}, mini-batch {o.MiniBatchSize}, eta {o.EffectiveEta}, seed {o.Seed}{(o.Shuffle ? "" : ", no shuffle")}{(s.Init is null ? "" : $", from {s.Init}")}; " +
            $"{CommonOptions.Count(o.Threads, "thread")}, {KernelsInUse()}.");
        if (!IsSeed(network, o))
        {
            output.WriteLine(Describe(network, o, s.Init is null ? s.WeightInit : null));
        }

        using var sgd = new Trainer(network, split.Training, o);
        phases.Lap(ref phases.SetUp);
        var series = new Series(o.Monitor != Monitoring.None);
        var warnings = new TrainingWarnings(evaluation.TargetSize, evaluationName);
        string label = "";
        float eta = o.EffectiveEta;
        Action<int, int> progress = (done, total) => console.Progress.Report(label, done, total);
        TrainingSummary summary;
        try
        {
            label = "Epoch 0";
            summary = sgd.Train(s.Epochs, evaluation, result =>
            {
                phases.Epoch(result);
                console.Progress.Clear();
                series.Add(result);
                output.WriteLine($"{result}  ({result.TrainingTime.TotalSeconds:F2} s, {result.SamplesPerSecond:N0} samples/s)");
                if (o.Monitor != Monitoring.None)
                {
                    output.WriteLine(
                        $"  cost on training data {result.TrainingCost:F6}, accuracy on training data {result.TrainingCorrect} / {result.SamplesTrained} ({CommonOptions.Percent(result.TrainingCorrect, result.SamplesTrained)}), " +
                        $"cost on {evaluationName} data {result.EvaluationCost:F6}");
                }

                foreach (string warning in warnings.After(result.Epoch, result.Correct, evaluation.Count, o.Monitor != Monitoring.None ? result.TrainingCost : null))
                {
                    console.Error.WriteLine(warning);
                }

                if (sgd.Eta != eta)
                {
                    eta = sgd.Eta;
                    output.WriteLine($"  no improvement for {Epochs(o.HalveEtaAfter)}: eta halved to {eta}");
                }

                label = $"Epoch {sgd.EpochsCompleted}"; // the epoch now training: a result evaluated alongside comes one late
            }, progress);
        }
        catch (TrainingDivergedException e)
        {
            console.Progress.Clear();
            throw new UserErrorException(e.Message + " Try a smaller --eta.");
        }

        TimeSpan training = series.TrainingTime;
        if (summary.Reason != StopReason.Completed)
        {
            output.WriteLine(summary.Reason == StopReason.NoImprovement
                ? $"Stopped early: no improvement for {Epochs(o.Patience)}{(summary.RestoredBest ? $"; kept the parameters of epoch {summary.BestEpoch}" : "")}."
                : $"Stopped: eta was halved {CommonOptions.Count(o.MaxHalvings, "time")} (now {summary.FinalEta}).");
        }
        output.WriteLine(
            $"Best: epoch {summary.BestEpoch}, {summary.BestCorrect} / {evaluation.Count} ({CommonOptions.Percent(summary.BestCorrect, evaluation.Count)}) on {evaluationName} data. " +
            $"Training {training.TotalSeconds:F2} s ({(double)split.Training.Count * summary.EpochsRun / training.TotalSeconds:N0} samples/s), total {Stopwatch.GetElapsedTime(start).TotalSeconds:F2} s.");
        if (split.Validation is not null)
        {
            phases.Lap(ref phases.Reporting);
            int correct = sgd.Evaluate(split.Test);
            phases.Lap(ref phases.Test);
            output.WriteLine($"Test: {correct} / {split.Test.Count} ({CommonOptions.Percent(correct, split.Test.Count)}) with the {(summary.RestoredBest ? "best" : "last")} epoch's parameters.");
        }

        phases.Lap(ref phases.Reporting);
        if (s.Save is not null)
        {
            CommonOptions.About("--save", () => ModelJson.Save(network, s.Save));
            phases.Lap(ref phases.Saving);
            output.WriteLine($"Saved the model to {s.Save}.");
        }

        if (s.Plot is not null)
        {
            CommonOptions.About("--plot", () => series.Plot(s.Plot, $"[{string.Join(", ", network.Sizes.ToArray())}], eta {o.EffectiveEta}, mini-batch {o.MiniBatchSize}", evaluationName));
            phases.Lap(ref phases.Plotting);
            output.WriteLine($"Plotted {(series.Monitored ? "the monitored series" : "the accuracy")} to {s.Plot}.");
        }

        if (s.Timing)
        {
            output.WriteLine(phases.Describe(evaluationName, split.Validation is not null, o.Threads, sgd.SharedFraction));
        }

        return 0;
    }

    private static string Epochs(int n) => CommonOptions.Count(n, "epoch");

    /// <summary>The kernels this machine runs, e.g. <c>512-bit vectors</c>, <c>128-bit vectors, no FMA</c> or <c>scalar, no SIMD</c>.</summary>
    private static string KernelsInUse() =>
        (SimdWidth.Bits == 32 ? "scalar, no SIMD" : $"{SimdWidth.Bits}-bit vectors") + (SimdWidth.FusedMultiplyAdd ? "" : ", no FMA");

    private static bool IsSeed(Network network, TrainingOptions o) =>
        network.Cost == CostFunction.Quadratic && !network.Activations.ContainsAnyExcept(Activation.Sigmoid)
        && o.Optimizer == Optimizer.Sgd && o.Lambda == 0 && o.L1 == 0 && o.Patience == 0 && o.HalveEtaAfter == 0;

    private static string Describe(Network network, TrainingOptions o, WeightInit? init)
    {
        var parts = new List<string>
        {
            $"cost {Names.Of(network.Cost)}",
            $"activations {Names.Of(network.Activations)}",
        };
        if (init is WeightInit w)
        {
            parts.Add($"weight-init {Names.Of(w)}");
        }

        parts.Add($"optimizer {Names.Of(o.Optimizer)}{(o.Optimizer == Optimizer.Momentum ? $" {o.Momentum}" : "")}");
        if (o.Lambda > 0)
        {
            parts.Add($"L2 lambda {o.Lambda}");
        }

        if (o.L1 > 0)
        {
            parts.Add($"L1 {o.L1}");
        }

        if (o.HalveEtaAfter > 0)
        {
            parts.Add($"eta halved after {Epochs(o.HalveEtaAfter)} without improvement");
        }

        if (o.Patience > 0)
        {
            parts.Add($"early stopping after {Epochs(o.Patience)} without improvement");
        }

        return string.Join("; ", parts) + ".";
    }

    private static Network CreateNetwork(Settings s, MnistSplit split)
    {
        string source;
        Network network;
        if (s.Init is not null)
        {
            Network saved = CommonOptions.LoadModel(s.Init, "--init");
            source = s.Init;
            if (s.Sizes is not null && !s.Sizes.AsSpan().SequenceEqual(saved.Sizes))
            {
                throw new UserErrorException(
                    $"--sizes {string.Join(",", s.Sizes)} differs from the sizes of --init {s.Init}: {string.Join(",", saved.Sizes.ToArray())}. Leave --sizes out to train the saved network.");
            }

            if (s.Hidden is Activation hidden && saved.Activations[..^1].ContainsAnyExcept(hidden))
            {
                throw new UserErrorException(
                    $"--activation {Names.Of(hidden)} differs from the hidden activations of --init {s.Init}: {Names.Of(saved.Activations[..^1])}.");
            }

            network = saved;
            if (s.Cost is CostFunction cost && cost != saved.Cost)
            {
                Activation[] activations = saved.Activations.ToArray();
                activations[^1] = cost == CostFunction.LogLikelihood ? (activations[^1].IsOutputOnly ? activations[^1] : Activation.Softmax)
                    : activations[^1].IsOutputOnly ? Activation.Sigmoid : activations[^1];
                network = new Network(saved.Sizes, saved.Parameters, activations, cost);
            }
        }
        else
        {
            int[] sizes = s.Sizes ?? [784, 30, 10];
            source = $"--sizes {string.Join(",", sizes)}";
            try
            {
                network = new Network(sizes, s.Options.Seed, new NetworkOptions
                {
                    Cost = s.Cost ?? CostFunction.Quadratic,
                    HiddenActivation = s.Hidden ?? Activation.Sigmoid,
                    WeightInit = s.WeightInit,
                });
            }
            catch (ArgumentOutOfRangeException e) when (e.ParamName == "sizes")
            {
                // Too many parameters for one array or for this machine's memory: say so about the option.
                throw new UserErrorException($"{source}: {e.Message.Split('\n')[0].Replace(" (Parameter 'sizes')", "")}");
            }
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

    /// <summary>
    /// Where a run's time went, for <c>--timing</c>: each phase is the time since the previous lap. An epoch's lap is
    /// taken when its result arrives: after the epoch and its evaluation, or, evaluated alongside, after the next
    /// epoch. Either way the laps sum to the training time (the trainer's own clock) plus the evaluation time the
    /// training waited for (and the report lines, a few microseconds), which is what the totals show.
    /// </summary>
    private sealed class Phases
    {
        public TimeSpan Loading, SetUp, Training, FirstEpoch, Evaluating, Reporting, Test, Saving, Plotting;
        private readonly TimeSpan _startUp = SinceProcessStart();
        private long _last = Stopwatch.GetTimestamp();
        private int _epochs;

        public void Lap(ref TimeSpan phase)
        {
            long now = Stopwatch.GetTimestamp();
            phase += Stopwatch.GetElapsedTime(_last, now);
            _last = now;
        }

        public void Epoch(EpochResult result)
        {
            TimeSpan lap = TimeSpan.Zero;
            Lap(ref lap);
            Training += result.TrainingTime;
            Evaluating += lap - result.TrainingTime;
            if (_epochs++ == 0)
            {
                FirstEpoch = result.TrainingTime;
            }
        }

        // With threads, the training part also says how many mini-batches they shared (the others ran on one thread,
        // measured faster: TrainingOptions.ChooseThreads).
        public string Describe(string evaluationName, bool tested, int threads, double shared) =>
            $"Timing: start-up {Seconds(_startUp)} (process start to the command, +-10 ms), loading {Seconds(Loading)}, set-up {Seconds(SetUp)}, " +
            $"training {Seconds(Training)} (epoch 0 {Seconds(FirstEpoch)}{(threads > 1 ? $"; {threads} threads shared {shared * 100:F0}% of the mini-batches" : "")}), {evaluationName} {Seconds(Evaluating)} ({CommonOptions.Count(_epochs, "pass", "passes")}), " +
            $"reporting {Seconds(Reporting)}{(tested ? $", test {Seconds(Test)}" : "")}, saving {Seconds(Saving)}, plotting {Seconds(Plotting)}; " +
            $"{Seconds(SinceProcessStart())} since the process started.";

        private static string Seconds(TimeSpan t) => $"{t.TotalSeconds:F3} s";

        // The operating system's record of the start, to a clock tick (10 ms on Linux); zero where it cannot be read.
        private static TimeSpan SinceProcessStart()
        {
            try
            {
                using var process = Process.GetCurrentProcess();
                return DateTime.Now - process.StartTime;
            }
            catch (Exception e) when (e is InvalidOperationException or NotSupportedException or PlatformNotSupportedException or System.ComponentModel.Win32Exception)
            {
                return TimeSpan.Zero;
            }
        }
    }

    /// <summary>The per-epoch series the plot draws.</summary>
    private sealed class Series(bool monitored)
    {
        private readonly List<double> _accuracy = [], _trainingAccuracy = [], _evaluationCost = [], _trainingCost = [];

        public bool Monitored => monitored;

        public TimeSpan TrainingTime { get; private set; }

        public void Add(EpochResult result)
        {
            TrainingTime += result.TrainingTime;
            _accuracy.Add(result.Accuracy * 100);
            _trainingAccuracy.Add(result.TrainingAccuracy * 100);
            _evaluationCost.Add(result.EvaluationCost);
            _trainingCost.Add(result.TrainingCost);
        }

        public void Plot(string path, string title, string evaluationName)
        {
            var accuracy = new List<(string, IReadOnlyList<double>)> { ($"{evaluationName} accuracy", _accuracy) };
            var costs = new List<(string, IReadOnlyList<double>)>();
            if (monitored)
            {
                accuracy.Add(("training accuracy", _trainingAccuracy));
                costs.Add(($"{evaluationName} cost", _evaluationCost));
                costs.Add(("training cost", _trainingCost));
            }

            AccuracyPlot.Save(path, title, accuracy, costs);
        }
    }
}
