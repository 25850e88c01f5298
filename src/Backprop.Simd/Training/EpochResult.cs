namespace Backprop.Simd.Training;

/// <summary>What one epoch of <see cref="Sgd"/> did.</summary>
/// <param name="Epoch">The epoch's number, counting from 0 as network.py does.</param>
/// <param name="SamplesTrained">Training samples visited.</param>
/// <param name="Correct">Test samples classified correctly, or -1 when no test data was given.</param>
/// <param name="TestCount">Test samples evaluated (0 when no test data was given).</param>
/// <param name="TrainingTime">Wall time of the training part (evaluation excluded).</param>
public readonly record struct EpochResult(int Epoch, int SamplesTrained, int Correct, int TestCount, TimeSpan TrainingTime)
{
    /// <summary>Whether test data was evaluated after the epoch.</summary>
    public bool Evaluated => TestCount > 0;

    /// <summary>Fraction of test samples classified correctly (NaN when not evaluated).</summary>
    public double Accuracy => Evaluated ? (double)Correct / TestCount : double.NaN;

    /// <summary>Training throughput in samples per second.</summary>
    public double SamplesPerSecond => SamplesTrained / Math.Max(TrainingTime.TotalSeconds, 1e-9);

    /// <summary>The seed's line, <c>Epoch {j}: {correct} / {n}</c>, or <c>Epoch {j} complete</c> without test data.</summary>
    public override string ToString() => Evaluated ? $"Epoch {Epoch}: {Correct} / {TestCount}" : $"Epoch {Epoch} complete";
}
