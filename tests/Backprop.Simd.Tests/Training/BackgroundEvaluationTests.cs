using Backprop.Simd.Data;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests.Training;

/// <summary><see cref="TrainingOptions.EvaluateWhileTraining"/>: each epoch evaluated on its own thread while the next trains.</summary>
[Collection(nameof(ProcessWideMeasurements))] // the allocation test counts process-wide, to see the evaluation thread
public class BackgroundEvaluationTests
{
    private static readonly Dataset Train = TestData.RandomBytes(300, 40, 4, seed: 5);
    private static readonly Dataset Validation = TestData.RandomBytes(120, 40, 4, seed: 6);

    // The epochs' results and, in each callback, how many epochs the trainer had completed by then.
    private static (List<EpochResult> Results, List<int> Completed, float[] Parameters, TrainingSummary Summary) Run(TrainingOptions options, int epochs = 5)
    {
        var network = new Network([40, 20, 4], seed: 3);
        using var sgd = new Trainer(network, Train, options);
        var results = new List<EpochResult>();
        var completed = new List<int>();
        TrainingSummary summary = sgd.Train(epochs, Validation, r =>
        {
            results.Add(r);
            completed.Add(sgd.EpochsCompleted);
        });
        return (results, completed, network.Parameters.ToArray(), summary);
    }

    private static TrainingOptions Options(bool background, int threads = 1, bool choose = true, int patience = 0) => new()
    {
        MiniBatchSize = 10, Eta = 3f, Seed = 7, Threads = threads, ChooseThreads = choose, Patience = patience, EvaluateWhileTraining = background,
    };

    private static void SameResults(List<EpochResult> expected, List<EpochResult> actual)
    {
        // Training times differ from run to run; everything else is the same.
        Assert.Equal(expected.Select(r => r with { TrainingTime = default }), actual.Select(r => r with { TrainingTime = default }));
    }

    [Fact]
    public void Each_epoch_is_reported_with_the_same_count_once_the_next_has_trained()
    {
        var plain = Run(Options(background: false));
        var background = Run(Options(background: true));

        SameResults(plain.Results, background.Results);
        Assert.Equal(plain.Parameters, background.Parameters);
        Assert.Equal(plain.Summary, background.Summary);
        Assert.All(plain.Results, r => Assert.True(r.Evaluated));
        Assert.Equal([1, 2, 3, 4, 5], plain.Completed);
        Assert.Equal([2, 3, 4, 5, 5], background.Completed); // each after the next epoch; the last at the end
    }

    [Fact]
    public void Epochs_shared_among_the_threads_are_evaluated_after_them_and_give_the_same_results()
    {
        var plain = Run(Options(background: false));
        var shared = Run(Options(background: true, threads: 2, choose: false)); // every mini-batch shared: the cores are busy
        var chosen = Run(Options(background: true, threads: 2)); // either way, as the clock decides

        SameResults(plain.Results, shared.Results);
        SameResults(plain.Results, chosen.Results);
        Assert.Equal(plain.Parameters, shared.Parameters);
        Assert.Equal(plain.Parameters, chosen.Parameters);
        Assert.Equal([1, 2, 3, 4, 5], shared.Completed);
    }

    [Fact]
    public void Early_stopping_evaluates_after_each_epoch_as_without_the_option()
    {
        var plain = Run(Options(background: false, patience: 2), epochs: 40);
        var background = Run(Options(background: true, patience: 2), epochs: 40);

        SameResults(plain.Results, background.Results);
        Assert.Equal(plain.Summary, background.Summary);
        Assert.Equal(plain.Completed, background.Completed);
        Assert.Equal(Enumerable.Range(1, plain.Results.Count), background.Completed);
    }

    [Fact]
    public void Large_batches_and_epochs_that_switch_between_sharing_and_not_give_the_same_results()
    {
        // Above 64 samples the trainer evaluates in blocks of its batch, the evaluation thread in blocks of 64; one
        // tick per choice block switches between shared and alone mini-batches every few of them.
        var plain = Run(Options(background: false) with { MiniBatchSize = 100 }, epochs: 4);
        var large = Run(Options(background: true) with { MiniBatchSize = 100 }, epochs: 4);
        var mixed = Run(Options(background: true, threads: 2) with { ChoiceBlockTicks = 1 }, epochs: 8);
        var mixedPlain = Run(Options(background: false), epochs: 8);

        SameResults(plain.Results, large.Results);
        Assert.Equal(plain.Parameters, large.Parameters);
        SameResults(mixedPlain.Results, mixed.Results);
        Assert.Equal(mixedPlain.Parameters, mixed.Parameters);
        Assert.Equal(Enumerable.Range(0, 8), mixed.Results.Select(r => r.Epoch));
    }

    [Fact]
    public async Task Training_after_Dispose_throws_instead_of_waiting_for_the_ended_thread()
    {
        var network = new Network([40, 20, 4], seed: 3);
        var sgd = new Trainer(network, Train, Options(background: true));
        sgd.Train(1, Validation);
        sgd.Dispose();
        Task call = Task.Run(() => Assert.Throws<ObjectDisposedException>(() => sgd.Train(2, Validation)), TestContext.Current.CancellationToken);
        await call.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken); // a TimeoutException if it hangs
    }

    [Fact]
    public void A_failure_in_the_next_epoch_still_reports_the_epoch_before_it()
    {
        var network = new Network([40, 20, 4], seed: 3);
        using var sgd = new Trainer(network, Train, Options(background: true));
        var reported = new List<EpochResult>();
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => sgd.Train(
            5,
            Validation,
            reported.Add,
            (done, _) =>
            {
                if (sgd.EpochsCompleted == 2 && done >= 100)
                {
                    throw new InvalidOperationException("stop");
                }
            }));

        Assert.Equal("stop", error.Message);
        var plain = Run(Options(background: false), epochs: 2);
        SameResults(plain.Results, reported); // epochs 0 and 1, the second evaluated while the third was failing
    }

    [Fact]
    public void Evaluating_while_training_allocates_nothing()
    {
        var network = new Network([40, 20, 4], seed: 3);
        using var sgd = new Trainer(network, Train, Options(background: true));
        int seen = 0;
        Action<EpochResult> onEpoch = r => seen += r.Correct;
        for (int warmUp = 0; warmUp < 3; warmUp++)
        {
            sgd.Train(3, Validation, onEpoch);
        }

        var rounds = new long[6];
        for (int round = 0; round < rounds.Length; round++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            sgd.Train(3, Validation, onEpoch);
            rounds[round] = GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        // Counted process-wide, to see the evaluation thread too; the test host's own threads allocate now and then,
        // so one quiet round in two is the proof: an allocation of ours would show in every round.
        Assert.True(rounds.Count(r => r == 0) >= rounds.Length / 2, string.Join(", ", rounds));
        Assert.True(seen > 0);
    }
}
