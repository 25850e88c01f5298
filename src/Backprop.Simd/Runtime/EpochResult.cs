namespace Backprop.Simd.Runtime;

/// <summary>What one epoch of <see cref="Trainer"/> did and measured.</summary>
/// <param name="Epoch">The epoch's number, counting from 0 as network.py does.</param>
/// <param name="SamplesTrained">Training samples visited.</param>
/// <param name="Correct">Evaluation samples classified correctly, or -1 when no evaluation data were given.</param>
/// <param name="EvaluatedCount">Evaluation samples (0 when none were given).</param>
/// <param name="TrainingTime">Wall time of the training part (evaluation and monitoring excluded).</param>
/// <param name="Eta">The learning rate the epoch trained with.</param>
/// <param name="EvaluationCost">Total cost on the evaluation data, or NaN when not monitored.</param>
/// <param name="TrainingCost">Total cost on the training data, or NaN when not monitored.</param>
/// <param name="TrainingCorrect">Training samples classified correctly, or -1 when not monitored.</param>
public readonly record struct EpochResult(
    int Epoch,
    int SamplesTrained,
    int Correct,
    int EvaluatedCount,
    TimeSpan TrainingTime,
    float Eta = float.NaN,
    double EvaluationCost = double.NaN,
    double TrainingCost = double.NaN,
    int TrainingCorrect = -1)
{
    /// <summary>Whether evaluation data were evaluated after the epoch.</summary>
    public bool Evaluated => EvaluatedCount > 0;

    /// <summary>Fraction of evaluation samples classified correctly (NaN when not evaluated).</summary>
    public double Accuracy => Evaluated ? (double)Correct / EvaluatedCount : double.NaN;

    /// <summary>Fraction of training samples classified correctly (NaN when not monitored).</summary>
    public double TrainingAccuracy => TrainingCorrect >= 0 ? (double)TrainingCorrect / SamplesTrained : double.NaN;

    /// <summary>Training throughput in samples per second.</summary>
    public double SamplesPerSecond => SamplesTrained / Math.Max(TrainingTime.TotalSeconds, 1e-9);

    /// <summary>The seed's line, <c>Epoch {j}: {correct} / {n}</c>, or <c>Epoch {j} complete</c> without evaluation data.</summary>
    public override string ToString() => Evaluated ? $"Epoch {Epoch}: {Correct} / {EvaluatedCount}" : $"Epoch {Epoch} complete";
}

/// <summary>Why <see cref="Trainer.Train"/> stopped.</summary>
public enum StopReason
{
    /// <summary>It ran every epoch asked for.</summary>
    Completed,

    /// <summary>Early stopping: the evaluation accuracy stopped improving for <see cref="TrainingOptions.Patience"/> epochs.</summary>
    NoImprovement,

    /// <summary>The learning-rate schedule halved eta <see cref="TrainingOptions.MaxHalvings"/> times.</summary>
    EtaSchedule,
}

/// <summary>The outcome of <see cref="Trainer.Train"/>.</summary>
/// <param name="EpochsRun">Epochs trained.</param>
/// <param name="BestEpoch">The epoch with the highest evaluation accuracy (the first of equals), or -1 without evaluation data.</param>
/// <param name="BestCorrect">Its number of correctly classified evaluation samples, or -1.</param>
/// <param name="Reason">Why training stopped.</param>
/// <param name="FinalEta">The learning rate in force at the end.</param>
/// <param name="RestoredBest">Whether the network holds the best epoch's parameters rather than the last epoch's (early stopping).</param>
public readonly record struct TrainingSummary(int EpochsRun, int BestEpoch, int BestCorrect, StopReason Reason, float FinalEta, bool RestoredBest);
