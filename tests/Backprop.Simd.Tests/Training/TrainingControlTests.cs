using Backprop.Simd.Data;
using Backprop.Simd.Reference;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests.Training;

/// <summary>network2's schedule, early stopping, monitoring and the divergence guard.</summary>
public class TrainingControlTests
{
    private static readonly Dataset Train = TestData.RandomDataset(60, 12, 3, seed: 1);
    private static readonly Dataset Validation = TestData.RandomDataset(40, 12, 3, seed: 2);

    [Fact]
    public void Eta_is_halved_after_each_plateau_and_training_stops_after_the_last_halving()
    {
        // eta so small that the accuracy never changes: every epoch after the first is a plateau.
        var network = new Network([12, 5, 3], seed: 1);
        var sgd = new Trainer(network, Train, new TrainingOptions { Eta = 1e-12f, HalveEtaAfter = 2, MaxHalvings = 3 });
        var etas = new List<float>();
        TrainingSummary summary = sgd.Train(100, Validation, r => etas.Add(r.Eta));

        // best at epoch 0; halvings after epochs 2, 4 and 6; the third ends training.
        Assert.Equal(StopReason.EtaSchedule, summary.Reason);
        Assert.Equal(7, summary.EpochsRun);
        Assert.Equal([1e-12f, 1e-12f, 1e-12f, 5e-13f, 5e-13f, 2.5e-13f, 2.5e-13f], etas);
        Assert.Equal(1.25e-13f, summary.FinalEta);
        Assert.Equal(0, summary.BestEpoch);
    }

    [Fact]
    public void Early_stopping_keeps_the_best_epochs_parameters()
    {
        // Random labels: the validation accuracy wanders, so the best epoch is rarely the last.
        var network = new Network([12, 20, 3], seed: 4);
        var sgd = new Trainer(network, Train, new TrainingOptions { Eta = 3f, Patience = 3, MiniBatchSize = 5, Seed = 9 });
        var snapshots = new List<float[]>();
        var correct = new List<int>();
        TrainingSummary summary = sgd.Train(200, Validation, r =>
        {
            snapshots.Add(network.Parameters.ToArray());
            correct.Add(r.Correct);
        });

        Assert.Equal(StopReason.NoImprovement, summary.Reason);
        Assert.Equal(correct.Max(), summary.BestCorrect);
        Assert.Equal(correct.IndexOf(correct.Max()), summary.BestEpoch);
        Assert.Equal(summary.BestEpoch + 4, summary.EpochsRun); // three epochs without improvement, then stop
        Assert.Equal(snapshots[summary.BestEpoch], network.Parameters.ToArray());
        Assert.True(summary.RestoredBest);
    }

    [Fact]
    public void Schedule_and_early_stopping_need_evaluation_data()
    {
        var sgd = new Trainer(new Network([12, 5, 3], seed: 1), Train, new TrainingOptions { Patience = 2 });
        ArgumentNullException error = Assert.Throws<ArgumentNullException>(() => sgd.Train(3));
        Assert.Equal("evaluationData", error.ParamName);
        var monitored = new Trainer(new Network([12, 5, 3], seed: 1), Train, new TrainingOptions { Monitor = Monitoring.EvaluationCost });
        Assert.Throws<ArgumentNullException>(() => monitored.RunEpoch());
    }

    [Fact]
    public void Divergence_names_the_epoch_and_mini_batch_and_restores_the_last_good_parameters()
    {
        // Linear layers: stable with a small step, overflowing with a large one.
        var network = new Network([12, 5, 3], 3, new NetworkOptions { HiddenActivation = Activation.Identity, OutputActivation = Activation.Identity });
        new Trainer(network, Train, new TrainingOptions { Eta = 0.01f, MiniBatchSize = 4 }).Train(2, Validation);
        float[] good = network.Parameters.ToArray();

        var sgd = new Trainer(network, Train, new TrainingOptions { Eta = 1e6f, MiniBatchSize = 4 });
        TrainingDivergedException error = Assert.Throws<TrainingDivergedException>(() => sgd.Train(5, Validation));

        Assert.Equal(0, error.Epoch);
        Assert.InRange(error.MiniBatch, 1, 14);
        Assert.Contains($"epoch 0, mini-batch {error.MiniBatch}: the gradient became NaN or infinite", error.Message);
        Assert.Contains("restored", error.Message);
        Assert.Equal(good, network.Parameters.ToArray());
        Assert.Equal(0, sgd.EpochsCompleted);
        Assert.All(Enumerable.Range(0, Validation.Count), i => Assert.True(Backprop.Simd.Kernels.Elementwise.AllFinite(network.FeedForward(Validation.Input(i), sgd.Workspace))));
    }

    [Fact]
    public void AllFinite_finds_every_kind_of_non_finite_value_in_bodies_and_tails()
    {
        for (int n = 1; n <= 40; n++)
        {
            var values = new float[n];
            Assert.True(Backprop.Simd.Kernels.Elementwise.AllFinite(values));
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                for (int at = 0; at < n; at++)
                {
                    values.AsSpan().Fill(float.MaxValue);
                    values[at] = bad;
                    Assert.False(Backprop.Simd.Kernels.Elementwise.AllFinite(values), $"{bad} at {at} of {n}");
                }
            }
        }
    }

    [Fact]
    public void Monitoring_reports_the_four_series_as_the_reference_computes_them()
    {
        var shape = new Architecture([12, 6, 3], [Activation.Tanh, Activation.Sigmoid], CostFunction.CrossEntropy, 5);
        Network network = shape.CreateNetwork();
        var sgd = new Trainer(network, Train, new TrainingOptions { Eta = 0.5f, Lambda = 2f, L1 = 0.5f, Monitor = Monitoring.All });
        EpochResult result = sgd.RunEpoch(Validation);

        ReferenceNetwork reference = shape.CreateReference(network); // the trained parameters
        var train = TrainerTests.ToReference(Train);
        var validation = TrainerTests.ToReference(Validation);
        // A mean of per-sample costs, each a short float-input sum: a few units of roundoff per term, relative.
        Assert.Equal(reference.TotalCost(validation, 2, 0.5), result.EvaluationCost, 1e-5 * reference.TotalCost(validation, 2, 0.5));
        Assert.Equal(reference.TotalCost(train, 2, 0.5), result.TrainingCost, 1e-5 * reference.TotalCost(train, 2, 0.5));
        Assert.Equal(reference.Evaluate(TrainerTests.ToReferenceLabels(Train)), result.TrainingCorrect);
        Assert.Equal(reference.Evaluate(TrainerTests.ToReferenceLabels(Validation)), result.Correct);
        Assert.Equal(0.5f, result.Eta);

        EpochResult quiet = new Trainer(network, Train, new TrainingOptions()).RunEpoch(Validation);
        Assert.True(double.IsNaN(quiet.EvaluationCost) && double.IsNaN(quiet.TrainingCost) && quiet.TrainingCorrect == -1);
    }

    [Fact]
    public void Cost_values_are_nan_safe()
    {
        Assert.Equal(0.0, Costs.Value(CostFunction.CrossEntropy, Activation.Sigmoid, [1f, 0f], [1f, 0f]));
        Assert.Equal(double.MaxValue, Costs.Value(CostFunction.CrossEntropy, Activation.Sigmoid, [0f], [1f]));
        Assert.Equal(double.MaxValue, Costs.Value(CostFunction.LogLikelihood, Activation.Softmax, [0f, 1f], [1f, 0f]));
        Assert.Equal(-Math.Log(0.25), Costs.Value(CostFunction.LogLikelihood, Activation.Softmax, [0.25f, 0.75f], [1f, 0f]), 1e-12);
        Assert.Equal(0.5 * ((0.25 * 0.25) + 1), Costs.Value(CostFunction.Quadratic, Activation.Sigmoid, [0.25f, 0f], [0f, 1f]), 1e-12);

        // On a log-softmax output a is already the logarithm: -sum y a, with 0 (-inf) counting as 0.
        Assert.Equal(-Math.Log(0.25), Costs.Value(CostFunction.LogLikelihood, Activation.LogSoftmax, [MathF.Log(0.25f), MathF.Log(0.75f)], [1f, 0f]), 1e-7);
        Assert.Equal(0.0, Costs.Value(CostFunction.LogLikelihood, Activation.LogSoftmax, [0f, float.NegativeInfinity], [1f, 0f]));
        Assert.Equal(double.MaxValue, Costs.Value(CostFunction.LogLikelihood, Activation.LogSoftmax, [0f, float.NegativeInfinity], [0f, 1f]));
    }

    [Fact]
    public void Training_options_are_validated()
    {
        var network = new Network([12, 5, 3], seed: 1);
        void Rejects(string name, TrainingOptions options) =>
            Assert.Equal(name, Assert.ThrowsAny<ArgumentException>(() => new Trainer(network, Train, options)).ParamName);

        Rejects("Lambda", new TrainingOptions { Lambda = -1 });
        Rejects("L1", new TrainingOptions { L1 = float.NaN });
        Rejects("Momentum", new TrainingOptions { Momentum = 1f });
        Rejects("Beta1", new TrainingOptions { Beta1 = -0.1f });
        Rejects("Beta2", new TrainingOptions { Beta2 = float.NaN });
        Rejects("Epsilon", new TrainingOptions { Epsilon = 0f });
        Rejects("Optimizer", new TrainingOptions { Optimizer = (Optimizer)7 });
        Rejects("Patience", new TrainingOptions { Patience = -1 });
        Rejects("HalveEtaAfter", new TrainingOptions { HalveEtaAfter = -2 });
        Rejects("MaxHalvings", new TrainingOptions { MaxHalvings = 0 });
    }
}
