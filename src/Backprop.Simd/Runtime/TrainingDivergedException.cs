namespace Backprop.Simd.Runtime;

/// <summary>
/// Training produced a NaN or infinite gradient or parameter, usually because the learning rate is too large.
/// The network keeps the last good parameters: those from the start of the epoch in which it diverged.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception for mini-batch <paramref name="miniBatch"/> of epoch <paramref name="epoch"/>.</summary>
    public TrainingDivergedException(int epoch, int miniBatch, string message)
        : base(message)
    {
        Epoch = epoch;
        MiniBatch = miniBatch;
    }

    /// <summary>The epoch (from 0) in which training diverged.</summary>
    public int Epoch { get; }

    /// <summary>The mini-batch (from 0, within the epoch) whose gradient was not finite.</summary>
    public int MiniBatch { get; }
}
