using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Wasm;
using Backprop.Simd.Data;
using Backprop.Simd.Kernels;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Browser;

/// <summary>One epoch's outcome as the page shows it.</summary>
/// <param name="Epoch">The epoch's number, from 0 (as <c>backprop train</c> prints it).</param>
/// <param name="Correct">Test digits classified correctly after the epoch.</param>
/// <param name="TestCount">Test digits evaluated.</param>
/// <param name="SamplesPerSecond">Training samples per second of training time (the yields to the browser excluded).</param>
public readonly record struct EpochReport(int Epoch, int Correct, int TestCount, double SamplesPerSecond)
{
    /// <summary>The fraction of the test digits classified correctly.</summary>
    public double Accuracy => (double)Correct / TestCount;

    /// <summary>The seed's line, <c>Epoch j: c / n</c>.</summary>
    public override string ToString() => $"Epoch {Epoch}: {Correct} / {TestCount}";
}

/// <summary>
/// Trains the seed's network (<c>[784, 30, 10]</c>, sigmoid, quadratic cost, SGD with mini-batch 10 and eta 3: the
/// defaults of <c>backprop train</c>) on the bundled digits, a few mini-batches at a time so that the page can yield
/// to the browser in between, and answers single predictions.
/// </summary>
/// <remarks>
/// The browser gives .NET one thread, so one <see cref="Trainer"/> on one thread (no worker thread is ever started)
/// runs each epoch in steps of <see cref="BatchesPerStep"/> mini-batches (<see cref="Trainer.RunMiniBatches"/>, then
/// <see cref="Trainer.FinishEpoch"/>): the same epoch, bit for bit, as <see cref="Trainer.RunEpoch"/> and
/// <c>backprop train</c> run with the same seed and kernels.
/// </remarks>
public sealed class TrainingSession : IDisposable
{
    /// <summary>Mini-batches per step: the page yields to the browser after each (250 digits).</summary>
    public const int BatchesPerStep = 25;

    /// <summary>The seed's mini-batch size.</summary>
    public const int MiniBatchSize = 10;

    /// <summary>The seed's learning rate.</summary>
    public const float Eta = 3f;

    /// <summary>The shortest loop of predictions that is timed (see <see cref="Predict"/>).</summary>
    public const int TimingMilliseconds = 50;

    private const int WarmupCalls = 20;

    private static readonly int[] SeedSizes = [784, 30, 10];

    private readonly MnistSplit _data;
    private readonly float[] _image = new float[DigitPreprocessor.Side * DigitPreprocessor.Side];
    private readonly Action<int, int> _progress;
    private Trainer? _trainer;
    private Workspace _workspace = null!;
    private int _trained; // digits of the epoch under way trained so far

    /// <summary>Prepares training a new seed network (<see cref="NewSeedNetwork"/>) on <paramref name="data"/>.</summary>
    public TrainingSession(MnistSplit data, ulong seed = 0)
    {
        _data = data;
        _progress = (done, _) => _trained = done;
        Reset(NewSeedNetwork(seed), seed);
    }

    /// <summary>The seed's network, <c>[784, 30, 10]</c> with N(0, 1) weights from <paramref name="seed"/>, as <c>backprop train</c> makes it.</summary>
    public static Network NewSeedNetwork(ulong seed = 0) => new(SeedSizes, seed);

    /// <summary>The network being trained and asked.</summary>
    public Network Network { get; private set; } = null!;

    /// <summary>Epochs run on the current network.</summary>
    public int EpochsCompleted => _trainer!.EpochsCompleted;

    /// <summary>The training digits.</summary>
    public Dataset Training => _data.Training;

    /// <summary>The test digits every epoch is evaluated on.</summary>
    public Dataset Test => _data.Test;

    /// <summary>What the library runs on here: the vector width its kernels chose, fused or not, and what the runtime reports.</summary>
    public static string DescribeSimd() =>
        $"{(SimdWidth.Bits == 32 ? "scalar, no SIMD" : $"{SimdWidth.Bits}-bit vectors")}, " +
        $"{(SimdWidth.FusedMultiplyAdd ? "fused multiply-add" : "multiply then add (no FMA)")}; " +
        $"{RuntimeInformation.ProcessArchitecture}, Vector128 accelerated {Vector128.IsHardwareAccelerated}, " +
        $"Vector256 {Vector256.IsHardwareAccelerated}, Vector512 {Vector512.IsHardwareAccelerated}, " +
        $"WebAssembly SIMD (PackedSimd) {PackedSimd.IsSupported}, {Environment.ProcessorCount} processor(s)";

    /// <summary>Starts over from <paramref name="network"/> (a new one, or one loaded from a file), keeping the data.</summary>
    /// <exception cref="ArgumentException">The network does not take 784 inputs and give 10 outputs.</exception>
    public void Reset(Network network, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.InputSize != _data.Training.InputSize || network.OutputSize != MnistData.ClassCount)
        {
            throw new ArgumentException(
                $"The model takes {network.InputSize} inputs and gives {network.OutputSize} outputs; the digits need {_data.Training.InputSize} and {MnistData.ClassCount}.", nameof(network));
        }

        _trainer?.Dispose();
        Network = network;
        _trainer = new Trainer(network, _data.Training, new TrainingOptions { MiniBatchSize = MiniBatchSize, Eta = Eta, Seed = seed, Threads = 1 });
        _trained = 0;
        _workspace = new Workspace(network);
    }

    /// <summary>
    /// Runs the epoch under way (or the next one) to its end, awaiting <paramref name="yieldToBrowser"/> with the digits
    /// trained so far after every step, then evaluates on the test digits.
    /// </summary>
    /// <param name="yieldToBrowser">Lets the browser paint and handle input (and the page show progress).</param>
    /// <param name="cancellation">Stops between two steps; the epoch stays under way, and the next call goes on with it.</param>
    public async Task<EpochReport> RunEpochAsync(Func<int, Task> yieldToBrowser, CancellationToken cancellation)
    {
        Trainer trainer = _trainer!;
        while (!trainer.RunMiniBatches(BatchesPerStep, _progress))
        {
            await yieldToBrowser(_trained);
            cancellation.ThrowIfCancellationRequested();
        }

        EpochResult result = trainer.FinishEpoch(_data.Test);
        return new EpochReport(result.Epoch, result.Correct, result.EvaluatedCount, result.SamplesPerSecond);
    }

    /// <summary>Counts the test digits the network classifies correctly.</summary>
    public int EvaluateTest() => _trainer!.Evaluate(_data.Test);

    /// <summary>
    /// Feeds <paramref name="input"/> (784 values) forward: copies the ten output activations into
    /// <paramref name="outputs"/> and returns the predicted digit and the time of one prediction in microseconds.
    /// </summary>
    /// <remarks>
    /// Browsers coarsen their clocks (Chromium to 100 us unless the page is cross-origin isolated, then 5 us), far
    /// coarser than one prediction, so the time is that of a loop of predictions of the same input, at least
    /// <see cref="TimingMilliseconds"/> long, divided by their number; a few untimed calls go first, so that the
    /// runtime's trace compiler (the jiterpreter) has compiled the hot loops of the first stroke too.
    /// </remarks>
    public (int Digit, double Microseconds) Predict(ReadOnlySpan<float> input, Span<float> outputs)
    {
        input.CopyTo(_image);
        Network.FeedForward(_image, _workspace).CopyTo(outputs);
        int digit = Network.Predict(_image, _workspace);
        for (int i = 0; i < WarmupCalls; i++)
        {
            Network.Predict(_image, _workspace);
        }

        long minimum = Stopwatch.Frequency * TimingMilliseconds / 1000, start = Stopwatch.GetTimestamp(), elapsed;
        int calls = 0;
        do
        {
            for (int i = 0; i < 10; i++)
            {
                Network.Predict(_image, _workspace);
            }

            calls += 10;
            elapsed = Stopwatch.GetTimestamp() - start;
        }
        while (elapsed < minimum);
        return (digit, elapsed * 1e6 / Stopwatch.Frequency / calls);
    }

    /// <summary>Disposes the trainer (it runs on the calling thread alone, so it owns no worker thread).</summary>
    public void Dispose() => _trainer?.Dispose();
}
