namespace Backprop.Simd.Runtime;

/// <summary>How parameters move given a mini-batch's gradient.</summary>
public enum Optimizer
{
    /// <summary>Plain stochastic gradient descent, the seed's: <c>w -= eta g</c>.</summary>
    Sgd,

    /// <summary>Momentum-based gradient descent (Nielsen, chapter 3): <c>v = mu v - eta g</c>, <c>w += v</c>.</summary>
    Momentum,

    /// <summary>Adam, with bias-corrected first and second moment estimates.</summary>
    Adam,
}

/// <summary>Which extra per-epoch measurements <see cref="Trainer"/> takes (network2's <c>monitor_*</c> flags).</summary>
[Flags]
public enum Monitoring
{
    /// <summary>Only the evaluation accuracy (when evaluation data are given), the seed's behaviour.</summary>
    None = 0,

    /// <summary>The total cost on the evaluation data.</summary>
    EvaluationCost = 1,

    /// <summary>The total cost on the training data.</summary>
    TrainingCost = 2,

    /// <summary>The accuracy on the training data.</summary>
    TrainingAccuracy = 4,

    /// <summary>All four series.</summary>
    All = EvaluationCost | TrainingCost | TrainingAccuracy,
}

/// <summary>Hyper-parameters of stochastic gradient descent, with the seed's defaults.</summary>
public sealed record TrainingOptions
{
    /// <summary>Samples per mini-batch (the last batch of an epoch may be smaller). Default 10.</summary>
    public int MiniBatchSize { get; init; } = 10;

    /// <summary>
    /// Learning rate eta, finite and &gt;= 0; <c>null</c> (the default) takes the optimizer's own,
    /// <see cref="DefaultEta"/>: 3.0 for SGD and momentum (the seed's), 0.001 for Adam.
    /// </summary>
    public float? Eta { get; init; }

    /// <summary>The learning rate in force: <see cref="Eta"/>, or the optimizer's default.</summary>
    public float EffectiveEta => Eta ?? DefaultEta(Optimizer);

    /// <summary>The learning rate each optimizer starts from when <see cref="Eta"/> is not given.</summary>
    public static float DefaultEta(Optimizer optimizer) => optimizer == Optimizer.Adam ? 0.001f : 3.0f;

    /// <summary>Seed of the per-epoch shuffle; the same seed visits the samples in the same order.</summary>
    public ulong Seed { get; init; }

    /// <summary>Shuffle the samples every epoch (the seed's behaviour). <c>false</c> visits them in data-set order, for reproducibility studies.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>L2 regularisation strength lambda (network2's <c>lmbda</c>): weights decay by <c>1 - eta lambda / n</c> per step, n the training-set size. Default 0.</summary>
    public float Lambda { get; init; }

    /// <summary>L1 regularisation strength: weights move by <c>-(eta l1 / n) sgn(w)</c> per step. Default 0.</summary>
    public float L1 { get; init; }

    /// <summary>The update rule. Default <see cref="Runtime.Optimizer.Sgd"/>.</summary>
    public Optimizer Optimizer { get; init; } = Optimizer.Sgd;

    /// <summary>Momentum coefficient mu of <see cref="Runtime.Optimizer.Momentum"/>, in [0, 1). Default 0.9.</summary>
    public float Momentum { get; init; } = 0.9f;

    /// <summary>Adam's first-moment decay beta1, in [0, 1). Default 0.9.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam's second-moment decay beta2, in [0, 1). Default 0.999.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam's epsilon, &gt; 0. Default 1e-8.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>
    /// network2's schedule: halve eta when the evaluation accuracy has not improved for this many epochs
    /// (0, the default, keeps eta constant). Needs evaluation data.
    /// </summary>
    public int HalveEtaAfter { get; init; }

    /// <summary>With <see cref="HalveEtaAfter"/>: stop training once eta has been halved this many times. Default 7 (eta down to 1/128).</summary>
    public int MaxHalvings { get; init; } = 7;

    /// <summary>Early stopping: stop when the evaluation accuracy has not improved for this many epochs, and keep the
    /// best epoch's parameters (0, the default, never stops early). Needs evaluation data.</summary>
    public int Patience { get; init; }

    /// <summary>
    /// Threads that share each mini-batch's work, from a pool created once by <see cref="Trainer"/>. The result is
    /// bit-identical whatever the count. Default 1, so that an app that embeds the library decides how many of its
    /// cores training takes (the <c>backprop</c> tool uses all of them); at most <see cref="MaxThreads"/>. More threads
    /// than cores never run faster, and such a pool sleeps between mini-batches instead of polling.
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// With more than one <see cref="Threads"/>: whether the trainer times stretches of mini-batches shared among its
    /// threads and run on the calling thread alone, and runs most of them the faster way (default true). Sharing a
    /// small mini-batch hands rows between the cores on every product, which on processors whose cores sit on
    /// different dies can cost more than the second core gives. The results are the same bits either way; false
    /// shares every mini-batch (to measure the sharing itself). <see cref="Trainer.SharedFraction"/> tells the outcome.
    /// </summary>
    public bool ChooseThreads { get; init; } = true;

    /// <summary>
    /// Whether <see cref="Trainer.Train"/> evaluates each epoch on a thread of its own, on a copy of the epoch's
    /// parameters, while the next epoch trains (default false): the evaluation then costs the training no time where a
    /// core is free, and <c>onEpoch</c> gets each epoch's result once the next epoch has trained (the last one's at
    /// the end), with the network already past it. The counts are the ones evaluating after each epoch gives. An
    /// epoch that shared most of its mini-batches among <see cref="Threads"/> (the cores are busy) is evaluated by the
    /// trainer's threads after it, as without this option. Early stopping, the learning-rate schedule and monitoring
    /// the evaluation cost need the evaluation before the next epoch, so with any of them it runs after each epoch as
    /// usual. The trainer starts the thread when created (not
    /// with any of those): dispose it when done. Needs threads (not in a browser without them).
    /// </summary>
    public bool EvaluateWhileTraining { get; init; }

    /// <summary>Tests: the length of <see cref="ChooseThreads"/>' blocks in <see cref="System.Diagnostics.Stopwatch"/>
    /// ticks (0: <see cref="ThreadChoice.BlockTicks"/>); one tick switches ways every few mini-batches.</summary>
    internal long ChoiceBlockTicks { get; init; }

    /// <summary>
    /// The largest <see cref="Threads"/> (and <see cref="BatchInference"/> thread count) accepted on this machine:
    /// <see cref="MaxThreadsPerCore"/> per core reported by <see cref="Environment.ProcessorCount"/>.
    /// </summary>
    public static int MaxThreads => Environment.ProcessorCount * MaxThreadsPerCore;

    /// <summary>Threads per core allowed: 4 (see <see cref="MaxThreads"/>). A property, not a constant, so that a
    /// later version can change it without recompiling callers.</summary>
    public static int MaxThreadsPerCore => 4;

    /// <summary>Extra per-epoch measurements. Default none.</summary>
    public Monitoring Monitor { get; init; }

    internal void Validate()
    {
        Guard.Positive(MiniBatchSize);
        if (Eta is { } eta)
        {
            Guard.FiniteNonNegative(eta, nameof(Eta));
        }

        Guard.FiniteNonNegative(Lambda);
        Guard.FiniteNonNegative(L1);
        UnitInterval(Momentum, nameof(Momentum));
        UnitInterval(Beta1, nameof(Beta1));
        UnitInterval(Beta2, nameof(Beta2));
        if (!(Epsilon > 0) || !float.IsFinite(Epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, $"Epsilon must be a finite number > 0, but was {Epsilon}.");
        }

        if (!Enum.IsDefined(Optimizer))
        {
            throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, $"Optimizer {Optimizer} is not a known optimizer.");
        }

        Guard.Positive(Threads);
        CheckThreads(Threads, nameof(Threads));
        ArgumentOutOfRangeException.ThrowIfNegative(HalveEtaAfter);
        ArgumentOutOfRangeException.ThrowIfNegative(Patience);
        Guard.Positive(MaxHalvings);
    }

    /// <summary>Throws unless <paramref name="threads"/> is at most <see cref="MaxThreads"/>.</summary>
    internal static void CheckThreads(int threads, string paramName)
    {
        if (threads > MaxThreads)
        {
            throw new ArgumentOutOfRangeException(paramName, threads,
                $"{paramName} is {threads}, but this machine has {Environment.ProcessorCount} cores and at most {MaxThreads} threads ({MaxThreadsPerCore} per core) are allowed; more only slow every mini-batch down.");
        }
    }

    private static void UnitInterval(float value, string name)
    {
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1), but was {value}.");
        }
    }
}
