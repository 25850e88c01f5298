namespace Backprop.Simd.Training;

/// <summary>Hyper-parameters of stochastic gradient descent, with the seed's defaults.</summary>
public sealed record TrainingOptions
{
    /// <summary>Samples per mini-batch (the last batch of an epoch may be smaller). Default 10.</summary>
    public int MiniBatchSize { get; init; } = 10;

    /// <summary>Learning rate eta, finite and &gt;= 0. Default 3.0.</summary>
    public float Eta { get; init; } = 3.0f;

    /// <summary>Seed of the per-epoch shuffle; the same seed visits the samples in the same order.</summary>
    public ulong Seed { get; init; }

    /// <summary>Shuffle the samples every epoch (the seed's behaviour). <c>false</c> visits them in data-set order, for reproducibility studies.</summary>
    public bool Shuffle { get; init; } = true;

    internal void Validate()
    {
        Guard.Positive(MiniBatchSize);
        Guard.FiniteNonNegative(Eta);
    }
}
