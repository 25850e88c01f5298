using System.Diagnostics;
using Backprop.Simd.Data;

namespace Backprop.Simd.Training;

/// <summary>
/// The seed's <c>SGD</c>: each epoch shuffles an index array in place (the data are never copied), cuts it into
/// consecutive mini-batches (the last one smaller when the size does not divide), and calls
/// <see cref="Backpropagation.UpdateMiniBatch"/> on each. After construction, epochs allocate nothing.
/// </summary>
public sealed class Sgd
{
    private readonly int[] _order;
    private readonly TrainingOptions _options;
    private SeededRandom _random;

    /// <summary>Prepares training <paramref name="network"/> on <paramref name="trainingData"/>; allocates the index array and a workspace.</summary>
    /// <exception cref="ArgumentException">The data do not fit the network, or an option is invalid (batch size below 1, eta NaN or negative).</exception>
    public Sgd(Network network, Dataset trainingData, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        Backpropagation.CheckData(network, trainingData, nameof(trainingData));
        options.Validate();
        Network = network;
        TrainingData = trainingData;
        _options = options;
        _random = new SeededRandom(options.Seed);
        _order = new int[trainingData.Count];
        for (int i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }

        Workspace = new Workspace(network);
    }

    /// <summary>The network being trained.</summary>
    public Network Network { get; }

    /// <summary>The training samples.</summary>
    public Dataset TrainingData { get; }

    /// <summary>The workspace training runs on; it can also be used for inference between epochs.</summary>
    public Workspace Workspace { get; }

    /// <summary>Epochs run so far.</summary>
    public int EpochsCompleted { get; private set; }

    /// <summary>The order in which the last epoch visited the training samples.</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>Runs one epoch, then, when <paramref name="testData"/> is given, evaluates on it.</summary>
    /// <param name="testData">Samples to evaluate on after the epoch, or <c>null</c>.</param>
    /// <param name="progress">Called after every mini-batch with the samples trained so far in this epoch and the
    /// epoch's total, e.g. to draw a progress bar; create the delegate once to keep the epoch allocation-free.</param>
    /// <exception cref="ArgumentException"><paramref name="testData"/> does not fit the network.</exception>
    public EpochResult RunEpoch(Dataset? testData = null, Action<int, int>? progress = null)
    {
        if (testData is not null)
        {
            Backpropagation.CheckData(Network, testData, nameof(testData));
        }

        long start = Stopwatch.GetTimestamp();
        if (_options.Shuffle)
        {
            _random.Shuffle(_order);
        }

        int m = _options.MiniBatchSize;
        for (int k = 0; k < _order.Length; k += m)
        {
            ReadOnlySpan<int> batch = _order.AsSpan(k, Math.Min(m, _order.Length - k));
            Backpropagation.UpdateMiniBatchUnchecked(Network, Workspace, TrainingData, batch, _options.Eta);
            progress?.Invoke(k + batch.Length, _order.Length);
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        int correct = testData is null ? -1 : Evaluation.Evaluate(Network, Workspace, testData);
        return new EpochResult(EpochsCompleted++, _order.Length, correct, testData?.Count ?? 0, elapsed);
    }

    /// <summary>Runs <paramref name="epochs"/> epochs, reporting each to <paramref name="onEpoch"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="epochs"/> is negative or <paramref name="testData"/> does not fit the network.</exception>
    public void Train(int epochs, Dataset? testData = null, Action<EpochResult>? onEpoch = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        for (int j = 0; j < epochs; j++)
        {
            EpochResult result = RunEpoch(testData);
            onEpoch?.Invoke(result);
        }
    }
}
