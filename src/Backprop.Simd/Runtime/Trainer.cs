using System.Diagnostics;
using System.Runtime.InteropServices;
using Backprop.Simd.Data;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Runtime;

/// <summary>
/// The seed's <c>SGD</c> and network2's additions. Each epoch shuffles an index array in place (the data set is never
/// reordered), cuts it into consecutive mini-batches (the last one smaller when the size does not divide), computes each
/// batch's gradient with <see cref="Backpropagation"/> (its products spread over <see cref="TrainingOptions.Threads"/>)
/// and moves the parameters with the chosen <see cref="Optimizer"/> and regularisation; with plain SGD (no L1 term) the
/// weight step is folded into the weight-gradient product, so the weight gradient never makes a separate pass.
/// <see cref="Train"/> adds network2's learning-rate schedule, early stopping and a divergence guard. Every buffer is
/// allocated by the constructor: epochs allocate nothing.
/// </summary>
/// <remarks>With <see cref="TrainingOptions.Threads"/> above 1 or <see cref="TrainingOptions.EvaluateWhileTraining"/>
/// the trainer owns threads: dispose it when done.
/// A trainer serves one thread at a time; its <see cref="Workspace"/> is claimed during each mini-batch and each
/// evaluation, so a call from another thread meanwhile throws an <see cref="InvalidOperationException"/>.</remarks>
public sealed class Trainer : IDisposable, IShared
{
    private readonly int[] _order;
    private readonly TrainingOptions _options;
    private readonly float[] _lastGood;   // the parameters at the start of the epoch (divergence guard)
    private readonly float[]? _best;      // the best epoch's parameters (early stopping)
    private readonly float[]? _velocity;  // momentum
    private readonly float[]? _first;     // Adam's first moments
    private readonly float[]? _second;    // Adam's second moments
    private readonly float[] _targets;    // the mini-batch's targets gathered, m x n_L
    private readonly int[] _batch;        // the mini-batch's sample indices, where every worker can read them (rows read in place)
    private readonly int[] _next;         // the next mini-batch's, to prefetch its inputs
    private readonly int _batchCapacity;  // the mini-batch size, at most the set's count: the rows of one third
    private readonly AlignedFloats? _gathered;  // three batches' inputs in order (bytes widened): per thread, three thirds of m x n_0 (see Begin)
    private readonly int _copyLength;     // the length of one thread's copy in _gathered
    private readonly int _copies;         // copies in _gathered: one per thread, or one shared by all (see MaxCopiedThreads)
    private bool _copiesStale;            // batches ran alone, gathering into copy 0 only: the others need copy 0's thirds
    private readonly int[][]? _thirds;    // the rows of each third of _gathered, in order
    private readonly BatchGather? _gatherNext;    // gathers a batch in the first layer's forward shares
    private readonly BatchGather[]? _gatherLater; // gather a batch in the tails of a chained gradient (see Begin), by turns
    private int _gatheredThrough;         // the last batch of the epoch gathered (or being gathered) so far
    private int _chainedBatch = -1;       // the batch whose first layer the last pass computed, -1 for none
    private int _chainedClaims;           // the workspace's claims and the network's version just after that pass:
    private long _chainedVersion;         // anything else computing or changing parameters in between voids it
    private int _epochSamples;            // samples of the epoch under way trained so far
    private long _epochTicks;             // Stopwatch ticks spent training the epoch under way
    private readonly WorkerPool _pool;
    private readonly ThreadChoice? _choice; // shared or alone, by the clock (null: always shared)
    private readonly LayerProducts _products;
    private readonly BatchInference _inference; // evaluation, on the same workers
    private readonly BackgroundEvaluation? _background; // evaluation while the next epoch trains (TrainingOptions.EvaluateWhileTraining)
    private readonly bool _foldStep; // plain SGD without L1: weights updated inside the weight-gradient product (BP4)
    private SeededRandom _random;
    private long _adamSteps;
    private Step _step; // the constants of the optimizer step in progress
    private int _updateLayer; // the layer whose update the workers share

    /// <summary>Prepares training <paramref name="network"/> on <paramref name="trainingData"/>; allocates the index array, a workspace and the optimizer's state.</summary>
    /// <exception cref="ArgumentException">The data do not fit the network, or an option is invalid (batch size below 1, eta NaN or negative, ...).</exception>
    /// <exception cref="ArgumentOutOfRangeException">Training needs more memory than the process has available (the message says how much).</exception>
    public Trainer(Network network, Dataset trainingData, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        Evaluation.CheckData(network, trainingData, nameof(trainingData));
        options.Validate();
        Network = network;
        TrainingData = trainingData;
        _options = options;
        Eta = options.EffectiveEta;
        _random = new SeededRandom(options.Seed);
        _order = new int[trainingData.Count];
        for (int i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }

        // The workspace also evaluates, in blocks of its capacity. No batch is larger than the data, so a huge
        // MiniBatchSize means one batch of everything, not an arena for samples that do not exist.
        int batch = Math.Max(1, Math.Min(options.MiniBatchSize, trainingData.Count));
        int capacity = Math.Max(batch, BatchInference.DefaultBlockSize);
        CheckMemory(network, trainingData, options, capacity);
        Workspace = new Workspace(network, capacity);
        _lastGood = new float[network.ParameterCount];
        _best = options.Patience > 0 ? new float[network.ParameterCount] : null;
        _velocity = options.Optimizer == Optimizer.Momentum ? new float[network.ParameterCount] : null;
        _first = options.Optimizer == Optimizer.Adam ? new float[network.ParameterCount] : null;
        _second = options.Optimizer == Optimizer.Adam ? new float[network.ParameterCount] : null;
        _targets = new float[batch * network.OutputSize];
        _batch = new int[batch];
        _next = new int[batch];
        _batchCapacity = batch;
        if (Gathers(trainingData, batch, network.InputSize, options.Threads))
        {
            _copyLength = 3 * batch * network.InputSize; // at most Array.MaxLength: CheckMemory
            _copies = Copies(options.Threads, _copyLength);
            _gathered = new AlignedFloats(_copies * _copyLength);
            _thirds = [new int[batch], new int[batch], new int[batch]];
            for (int i = 0; i < batch; i++)
            {
                _thirds[0][i] = i;
                _thirds[1][i] = batch + i;
                _thirds[2][i] = (2 * batch) + i;
            }

            _gatherNext = new BatchGather(this, batch, perCopy: false);
            _gatherLater = [new BatchGather(this, batch, perCopy: _copies > 1), new BatchGather(this, batch, perCopy: _copies > 1)];
        }

        _pool = new WorkerPool(options.Threads);
        _choice = options.Threads > 1 && options.ChooseThreads ? new ThreadChoice(options.ChoiceBlockTicks > 0 ? options.ChoiceBlockTicks : ThreadChoice.BlockTicks) : null;
        _products = new LayerProducts(network, Workspace, _pool);
        _inference = new BatchInference(network, _pool, Workspace);
        if (trainingData.HoldsBytes)
        {
            _inference.ReserveWidening(); // evaluation data are most likely bytes too: no allocation in the first epoch
        }

        _background = EvaluatesAlongside(options) ? new BackgroundEvaluation(network) : null;

        _foldStep = options.Optimizer == Optimizer.Sgd && options.L1 == 0;
    }

    /// <summary>Threads up to this many get a copy each of the gathered batches (each worker's tail then gathers the whole
    /// batch, so more threads would wait longer for the tails than they gain).</summary>
    private const int MaxCopiedThreads = 8;

    /// <summary>Copies up to this size (floats, all threads' together) are worth their memory.</summary>
    private const long MaxCopiedFloats = 4 * 1024 * 1024;

    // One copy of the gathered batches per thread when there are a few threads and the copies are small; otherwise one
    // copy that the threads share, each gathering its rows of it.
    private static int Copies(int threads, long copyLength) =>
        threads > 1 && threads <= MaxCopiedThreads && threads * copyLength <= MaxCopiedFloats ? threads : 1;

    // Whether the mini-batches' inputs are gathered into the trainer's block (see Begin): always for bytes, which must be
    // widened; for floats while the block is no larger than MaxCopiedFloats (a huge mini-batch reads its rows in place
    // rather than hold three copies of them).
    private static bool Gathers(Dataset data, int batch, int inputSize, int threads)
    {
        long copy = 3L * batch * inputSize;
        return data.HoldsBytes || Copies(threads, copy) * copy <= MaxCopiedFloats;
    }

    // Whether Train can evaluate epochs while the next trains: the option, and nothing that needs each epoch's count
    // before the next one starts (early stopping, the schedule, the monitored evaluation cost).
    private static bool EvaluatesAlongside(TrainingOptions options) =>
        options.EvaluateWhileTraining && options.Patience == 0 && options.HalveEtaAfter == 0 && (options.Monitor & Monitoring.EvaluationCost) == 0;

    // Everything the constructor and its workers allocate, checked before any of it is: a network too large to train
    // here is an error that says how much memory training needs, not an OutOfMemoryException halfway through.
    private static void CheckMemory(Network network, Dataset trainingData, TrainingOptions options, int capacity)
    {
        // The inputs gathered, three mini-batches per copy; a byte set's are also widened for evaluation, one block per thread.
        int batch = Math.Max(1, Math.Min(options.MiniBatchSize, trainingData.Count));
        long copy = 3L * batch * network.InputSize;
        bool gathers = Gathers(trainingData, batch, network.InputSize, options.Threads);
        if (gathers && Copies(options.Threads, copy) * copy > Array.MaxLength - AlignedFloats.LineFloats)
        {
            throw new ArgumentOutOfRangeException(nameof(options),
                $"MiniBatchSize {batch} with {network.InputSize} inputs a sample needs {copy:N0} floats to widen three mini-batches of bytes, more than one array holds; use a smaller MiniBatchSize.");
        }

        Int128 gathered = (gathers ? (Int128)Copies(options.Threads, copy) * copy * sizeof(float) : 0)
            + (trainingData.HoldsBytes ? (Int128)capacity * options.Threads * network.InputSize * sizeof(float) : 0);
        int copies = 2 + (options.Patience > 0 ? 1 : 0) + options.Optimizer switch { Optimizer.Momentum => 1, Optimizer.Adam => 2, _ => 0 }; // + the transposed weights for evaluation
        Int128 parameters = (Int128)network.ParameterCount * sizeof(float);
        Int128 bytes = (parameters * copies)
            + (Workspace.RequiredBytes(network.Layout, capacity) * options.Threads)
            + ((Int128)trainingData.Count * sizeof(int))
            + gathered
            + (EvaluatesAlongside(options) ? BackgroundEvaluation.RequiredBytes(network) : 0);
        MemoryBudget.Check(bytes, nameof(options),
            $"training {network.Layout.Describe()} ({network.ParameterCount:N0} parameters) with {options.Optimizer} on {options.Threads} thread{(options.Threads == 1 ? "" : "s")}, mini-batch {options.MiniBatchSize}");
    }

    /// <summary>The network being trained.</summary>
    public Network Network { get; }

    /// <summary>The training samples.</summary>
    public Dataset TrainingData { get; }

    /// <summary>The workspace training runs on; it can also be used for inference between epochs.</summary>
    public Workspace Workspace { get; }

    /// <summary>The fraction of the mini-batches trained so far that were shared among the threads (the rest ran on the
    /// calling thread alone, measured faster: see <see cref="TrainingOptions.ChooseThreads"/>): 0 on one thread and
    /// before the first mini-batch, 1 with <see cref="TrainingOptions.ChooseThreads"/> off.</summary>
    public double SharedFraction => _choice is null
        ? (_options.Threads > 1 ? 1 : 0)
        : _choice.SharedBatches / (double)Math.Max(1, _choice.SharedBatches + _choice.AloneBatches);

    /// <summary>Epochs run so far.</summary>
    public int EpochsCompleted { get; private set; }

    /// <summary>The learning rate in force (the schedule may have halved it).</summary>
    public float Eta { get; private set; }

    /// <summary>The order in which the last epoch visited the training samples.</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>Runs one epoch, then evaluates on <paramref name="evaluationData"/> when given, and takes the monitored
    /// measurements. An epoch that <see cref="RunMiniBatches"/> left under way is finished instead of starting another.</summary>
    /// <param name="evaluationData">Samples to evaluate on after the epoch (test or validation data), or <c>null</c>.</param>
    /// <param name="progress">Called after every mini-batch with the samples trained so far in this epoch and the
    /// epoch's total, e.g. to draw a progress bar; create the delegate once to keep the epoch allocation-free.</param>
    /// <exception cref="ArgumentException"><paramref name="evaluationData"/> does not fit the network, or monitoring the evaluation cost without evaluation data.</exception>
    /// <exception cref="TrainingDivergedException">A gradient or parameter became NaN or infinite; the last good parameters are kept.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <see cref="Workspace"/>. When that stops a
    /// mini-batch, the parameters from the start of the epoch are restored; when it stops the evaluation after the
    /// epoch, the epoch's updates stay and the epoch counts as completed.</exception>
    public EpochResult RunEpoch(Dataset? evaluationData = null, Action<int, int>? progress = null)
    {
        CheckEvaluationData(evaluationData, needed: (_options.Monitor & Monitoring.EvaluationCost) != 0, "monitoring the evaluation cost");
        while (!RunMiniBatches(int.MaxValue, progress))
        {
        }

        return FinishEpoch(evaluationData);
    }

    /// <summary>Whether an epoch is under way: <see cref="RunMiniBatches"/> has started it and <see cref="FinishEpoch"/> not yet ended it.</summary>
    public bool EpochUnderway { get; private set; }

    /// <summary>
    /// Trains up to <paramref name="count"/> mini-batches of the epoch under way, starting the next epoch (and its
    /// shuffle) when none is; returns whether the epoch's last mini-batch is done, after which
    /// <see cref="FinishEpoch"/> ends it. With <see cref="FinishEpoch"/> it is <see cref="RunEpoch"/> in steps, with the
    /// same results bit for bit, for callers that must return to a loop of their own between mini-batches (a UI
    /// thread, a cooperative scheduler). Allocates nothing.
    /// </summary>
    /// <param name="count">The most mini-batches to train in this call, at least 1.</param>
    /// <param name="progress">Called after every mini-batch, as in <see cref="RunEpoch"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">The epoch's mini-batches are all done: call <see cref="FinishEpoch"/>
    /// first; or another thread is using <see cref="Workspace"/>, as in <see cref="RunEpoch"/>.</exception>
    /// <exception cref="TrainingDivergedException">As in <see cref="RunEpoch"/>. After it, or after another thread held
    /// the workspace, the epoch is abandoned with the parameters of its start, and the next call starts it again.</exception>
    public bool RunMiniBatches(int count, Action<int, int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        long start = Stopwatch.GetTimestamp();
        if (!EpochUnderway)
        {
            StartEpoch();
        }
        else if (_epochSamples >= _order.Length)
        {
            throw new InvalidOperationException("the epoch's mini-batches are all done: call FinishEpoch before training more.");
        }

        int m = _options.MiniBatchSize, epoch = EpochsCompleted;
        bool completed = false;
        try
        {
            for (int run = 0; run < count && _epochSamples < _order.Length; run++)
            {
                int k = _epochSamples, batchIndex = k / m;
                ReadOnlySpan<int> batch = _order.AsSpan(k, Math.Min(m, _order.Length - k));
                long batchStart = Stopwatch.GetTimestamp();
                RunAlone(_choice?.Alone ?? false);
                using (ClaimForMiniBatch(batch.Length)) // per mini-batch, so that the progress callback may still use the workspace
                {
                    PrepareStep(batch.Length); // only once the claim holds: Adam counts the step
                    bool ready = _chainedBatch == batchIndex && Workspace.Claims == _chainedClaims + 1 && Network.Version == _chainedVersion;
                    Pass pass = Begin(k, batchIndex, ready);
                    bool chained = _products.Chains;
                    Backpropagation.Backprop(pass, _targets.AsSpan(0, batch.Length * Network.OutputSize));

                    // Divergence guard. NaN or infinity anywhere in the pass reaches every delta, so the bias gradients
                    // (sum of the deltas) show it; checking them costs one pass over a few dozen floats.
                    for (int l = 1; l <= Network.OutputLayer; l++)
                    {
                        if (!Elementwise.AllFinite(Workspace.NablaBiases(l)))
                        {
                            Diverged(epoch, batchIndex, "the gradient");
                        }
                    }

                    Update();
                    Network.ParametersChanged();
                    (_chainedBatch, _chainedClaims, _chainedVersion) = (chained ? batchIndex + 1 : -1, Workspace.Claims, Network.Version);
                }

                _choice?.Record(Stopwatch.GetTimestamp() - batchStart, batch.Length);

                _epochSamples = k + batch.Length;
                _pool.RunsAlone = false; // an evaluation in the callback shares its batches
                progress?.Invoke(_epochSamples, _order.Length);
            }

            completed = true;
        }
        finally
        {
            _epochTicks += Stopwatch.GetTimestamp() - start;
            if (!completed)
            {
                EpochUnderway = false; // the parameters are the epoch's start again (see ClaimForMiniBatch, Diverged)
            }

            // The evaluation after the epoch shares its batches again, and no gathering is left running once the call
            // returns (the progress callback may run beside a tail: tails write only the trainer's gathered inputs,
            // and every run of the pool finishes them first).
            _pool.RunsAlone = false;
            _pool.CompleteTails();
        }

        return _epochSamples >= _order.Length;
    }

    /// <summary>
    /// Ends the epoch whose mini-batches <see cref="RunMiniBatches"/> has all trained: counts it, evaluates on
    /// <paramref name="evaluationData"/> when given and takes the monitored measurements, as <see cref="RunEpoch"/>
    /// does after its mini-batches. The result's time is the time spent in <see cref="RunMiniBatches"/> alone.
    /// </summary>
    /// <param name="evaluationData">Samples to evaluate on after the epoch (test or validation data), or <c>null</c>.</param>
    /// <exception cref="InvalidOperationException">No epoch is under way, or mini-batches of it remain; or another thread
    /// is using <see cref="Workspace"/> during the evaluation (the epoch then counts as completed).</exception>
    /// <exception cref="ArgumentException"><paramref name="evaluationData"/> does not fit the network, or monitoring the evaluation cost without evaluation data.</exception>
    /// <exception cref="TrainingDivergedException">A parameter became NaN or infinite; the last good parameters are kept.</exception>
    public EpochResult FinishEpoch(Dataset? evaluationData = null)
    {
        if (!EpochUnderway || _epochSamples < _order.Length)
        {
            throw new InvalidOperationException(EpochUnderway
                ? $"the epoch is not done: {_epochSamples} of {_order.Length} samples trained; call RunMiniBatches until it returns true."
                : "no epoch is under way: call RunMiniBatches until it returns true first.");
        }

        CheckEvaluationData(evaluationData, needed: (_options.Monitor & Monitoring.EvaluationCost) != 0, "monitoring the evaluation cost");
        int epoch = EpochsCompleted;
        EpochUnderway = false;
        TimeSpan elapsed = Stopwatch.GetElapsedTime(0, _epochTicks);
        if (!Elementwise.AllFinite(Network.Parameters))
        {
            Diverged(epoch, (_order.Length - 1) / _options.MiniBatchSize, "a parameter");
        }

        EpochsCompleted++;
        Monitoring monitor = _options.Monitor;
        return new EpochResult(
            epoch,
            _order.Length,
            evaluationData is null ? -1 : Evaluate(evaluationData),
            evaluationData?.Count ?? 0,
            elapsed,
            Eta,
            (monitor & Monitoring.EvaluationCost) != 0 ? Evaluation.TotalCost(Network, Workspace, evaluationData!, _options.Lambda, _options.L1) : double.NaN,
            (monitor & Monitoring.TrainingCost) != 0 ? Evaluation.TotalCost(Network, Workspace, TrainingData, _options.Lambda, _options.L1) : double.NaN,
            (monitor & Monitoring.TrainingAccuracy) != 0 ? Evaluation.Evaluate(Network, Workspace, TrainingData) : -1);
    }

    // The start of an epoch: the parameters to go back to, the shuffle, and (when gathering) the first batch gathered.
    private void StartEpoch()
    {
        Network.Parameters.CopyTo(_lastGood);
        if (_options.Shuffle)
        {
            _random.Shuffle(_order);
        }

        int m = _options.MiniBatchSize;
        _chainedBatch = -1;
        if (_gathered is not null)
        {
            _pool.CompleteTails();
            // The first batch, into the first third; each pass then gathers the batches ahead of it (see Begin).
            int first = Math.Min(m, _order.Length);
            _gatherNext!.Set(_order.AsSpan(0, first), 0, _order.AsSpan(first, Math.Min(m, _order.Length - first)));
            ((IShared)_gatherNext).Execute(0, 1);
            _gatheredThrough = 0;
        }

        _epochSamples = 0;
        _epochTicks = 0;
        EpochUnderway = true;
    }

    /// <summary>
    /// Runs up to <paramref name="epochs"/> epochs, reporting each to <paramref name="onEpoch"/>. With
    /// <see cref="TrainingOptions.HalveEtaAfter"/> it halves eta when the evaluation accuracy has not improved for
    /// that many epochs and stops after <see cref="TrainingOptions.MaxHalvings"/> halvings; with
    /// <see cref="TrainingOptions.Patience"/> it stops when the accuracy has not improved for that many epochs and
    /// restores the best epoch's parameters. With <see cref="TrainingOptions.EvaluateWhileTraining"/> (and neither of
    /// those, nor a monitored evaluation cost) an epoch that ran most of its mini-batches on the calling thread alone is
    /// evaluated while the next one trains, and reported once that one has. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="epochs"/> is negative, <paramref name="evaluationData"/> does not fit the network, or the schedule or early stopping is on without evaluation data.</exception>
    /// <exception cref="TrainingDivergedException">A gradient or parameter became NaN or infinite; the last good parameters are kept.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <see cref="Workspace"/>, as in <see cref="RunEpoch"/>.</exception>
    /// <param name="epochs">The most epochs to run.</param>
    /// <param name="evaluationData">Validation or test samples to evaluate on after every epoch, or <c>null</c>.</param>
    /// <param name="onEpoch">Called with every epoch's result: after the epoch, or after the next one when it was
    /// evaluated while that one trained (see <see cref="TrainingOptions.EvaluateWhileTraining"/>).</param>
    /// <param name="progress">Called after every mini-batch, as in <see cref="RunEpoch"/>.</param>
    /// <exception cref="ObjectDisposedException">The trainer has been disposed.</exception>
    public TrainingSummary Train(int epochs, Dataset? evaluationData = null, Action<EpochResult>? onEpoch = null, Action<int, int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        CheckEvaluationData(evaluationData, needed: _options.Patience > 0 || _options.HalveEtaAfter > 0, "early stopping and the learning-rate schedule");
        var record = new Record { BestEpoch = -1, BestCorrect = -1, Reason = StopReason.Completed };
        bool alongside = _background is not null && evaluationData is not null;
        EpochResult trained = default; // alongside: the epoch being evaluated
        int run = 0;
        while (run < epochs)
        {
            if (!alongside)
            {
                run++;
                if (Report(RunEpoch(evaluationData, progress)))
                {
                    break;
                }

                continue;
            }

            // The next epoch trains while the thread of _background evaluates the last one's parameters, unless the
            // epoch shared most of its mini-batches among the trainer's threads: the cores are busy, and the workers
            // evaluate faster.
            EpochResult next;
            long sharedBefore = _choice?.SharedBatches ?? 0, aloneBefore = _choice?.AloneBatches ?? 0;
            try
            {
                next = RunEpoch(null, progress);
            }
            catch
            {
                Deliver(); // the epoch before, which evaluating after each epoch would have reported before this failure
                throw;
            }

            run++;
            Deliver();
            bool mostlyAlone = _choice is null ? _options.Threads == 1 : _choice.SharedBatches - sharedBefore <= _choice.AloneBatches - aloneBefore;
            if (mostlyAlone)
            {
                _background!.Start(Network, evaluationData!);
                trained = next;
            }
            else
            {
                Report(next with { Correct = Evaluate(evaluationData!), EvaluatedCount = evaluationData!.Count });
            }
        }

        Deliver();
        bool restored = false;
        if (_best is not null && record.BestEpoch >= 0 && record.BestEpoch != EpochsCompleted - 1)
        {
            _best.CopyTo(Network.MutableParameters);
            Network.ParametersChanged();
            restored = true;
        }

        return new TrainingSummary(run, record.BestEpoch, record.BestCorrect, record.Reason, Eta, restored);

        // The schedule and early stopping after an epoch, then its report (Eta is already the next epoch's); whether to stop.
        bool Report(EpochResult result)
        {
            bool stop = Judge(result, ref record);
            onEpoch?.Invoke(result);
            return stop;
        }

        // Reports the epoch whose evaluation is running in the background, if any, with its count.
        void Deliver()
        {
            if (_background is { Running: true })
            {
                Report(trained with { Correct = _background.Finish(), EvaluatedCount = evaluationData!.Count });
            }
        }
    }

    /// <summary>The best evaluated epoch so far, and the schedule's and early stopping's counts since.</summary>
    private struct Record
    {
        public int BestEpoch, BestCorrect, SinceBest, SinceHalving, Halvings;
        public StopReason Reason;
    }

    // Network2's schedule and early stopping after an evaluated epoch (and the best epoch's parameters kept for the
    // latter); returns whether training stops.
    private bool Judge(EpochResult result, ref Record record)
    {
        if (result.Evaluated && result.Correct > record.BestCorrect)
        {
            record.BestCorrect = result.Correct;
            record.BestEpoch = result.Epoch;
            record.SinceBest = record.SinceHalving = 0;
            if (_best is not null)
            {
                Network.Parameters.CopyTo(_best);
            }
        }
        else if (result.Evaluated)
        {
            record.SinceBest++;
            record.SinceHalving++;
            if (_options.Patience > 0 && record.SinceBest >= _options.Patience)
            {
                record.Reason = StopReason.NoImprovement;
                return true;
            }

            if (_options.HalveEtaAfter > 0 && record.SinceHalving >= _options.HalveEtaAfter)
            {
                Eta /= 2;
                record.SinceHalving = 0;
                if (++record.Halvings >= _options.MaxHalvings)
                {
                    record.Reason = StopReason.EtaSchedule;
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Counts the samples of <paramref name="data"/> the network classifies correctly, through
    /// <see cref="BatchInference"/> on all of the trainer's threads.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> does not fit the network.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <see cref="Workspace"/> at the same time.</exception>
    public int Evaluate(Dataset data) => _inference.Evaluate(data);

    // The mini-batch's indices and targets where the workers can read them, and the pass that runs on them. The plain
    // SGD step is folded into BP3 and BP4: W = (1 - eta lambda / n) W - (eta / m) nabla_W as each gradient element is
    // computed. The pass then chains (see LayerProducts.Begin): its gradient's shares compute the next batch's first
    // layer too, and the next pass starts `ready` unless something else used the workspace or the network in between.
    // When gathering (see Gathers), batch k is read from third k % 3 of _gathered, gathered by an earlier pass (or the
    // epoch's start): its rows in order on cache lines, so that the first layer's tiles read a block (a byte set's rows
    // widened to floats on the way):
    // batch k + 1 in the first layer's forward shares when no chain did it, batch k + 2 in a chained gradient's tails
    // (while its shares read batch k and batch k + 1, hence three thirds). Each thread has a copy of the three thirds
    // and reads its own: a worker's tail gathers the whole batch into its copy, so no row crosses between the cores
    // (docs/optimizing-backprop.md, twelfth session); the forward shares gather their rows into every copy.
    private Pass Begin(int k, int batchIndex, bool ready)
    {
        int m = Math.Min(_options.MiniBatchSize, _order.Length - k), nL = Network.OutputSize;
        ReadOnlySpan<int> batch = _order.AsSpan(k, m);
        ReadOnlySpan<int> next = Ahead(k, 1), later = Ahead(k, 2);
        // The next batch's targets (or labels) are requested now: they are scattered over the whole set's, and this
        // gather, on the calling thread alone between two runs of the workers, waited on their cache misses (see
        // docs/optimizing-backprop.md).
        if (TrainingData.TargetsAreOneHot)
        {
            // Written from the labels (an int a sample) rather than copied from the target rows (a call per row, and two
            // lines to prefetch for each): the same values.
            Span<float> targets = _targets.AsSpan(0, m * nL);
            ReadOnlySpan<int> labels = TrainingData.Labels;
            targets.Clear();
            for (int i = 0; i < m; i++)
            {
                targets[(i * nL) + labels[batch[i]]] = 1f;
            }

            Prefetch.Rows(MemoryMarshal.Cast<int, float>(labels), next, 1); // the line of each of their labels
        }
        else
        {
            for (int i = 0; i < m; i++)
            {
                TrainingData.Target(batch[i]).CopyTo(_targets.AsSpan(i * nL, nL));
            }

            if (next.Length > 0)
            {
                ReadOnlySpan<float> targets = MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetReference(TrainingData.Target(0)), TrainingData.Count * nL);
                Prefetch.Rows(targets, next, nL);
                if (nL <= 16)
                {
                    Prefetch.Rows(targets[(nL - 1)..], next, nL); // each row's last float: its second line, if any
                }
            }
        }

        Fold fold = _foldStep ? Fold.Step(-_step.Eta / _step.M, 1 - (_step.Eta * _step.L2)) : Fold.None;
        bool chain = _foldStep && next.Length > 0 && Network.OutputLayer >= 2;
        if (_gathered is null)
        {
            batch.CopyTo(_batch);
            next.CopyTo(_next);
            return _products.Begin(TrainingData.Inputs, _batch, m, fold, _next, next.Length, null, ready, chain);
        }

        BatchGather? gatherNext = null, gatherLater = null;
        if (next.Length > 0 && _gatheredThrough < batchIndex + 1)
        {
            _pool.CompleteTails(); // a first layer on the calling thread alone gathers with no run to finish the tails first
            _gatherNext!.Set(next, (batchIndex + 1) % 3, later);
            gatherNext = _gatherNext;
            _gatheredThrough = batchIndex + 1;
        }

        if (chain && later.Length > 0 && _gatheredThrough < batchIndex + 2)
        {
            // The previous pass's tail may still be gathering with the other one.
            gatherLater = _gatherLater![batchIndex % 2];
            gatherLater.Set(later, (batchIndex + 2) % 3, Ahead(k, 3));
            _gatheredThrough = batchIndex + 2;
        }

        // The next batch's gathered rows are prefetched only where other threads wrote them: one copy shared by several
        // threads, or this pass's forward shares gathering the next batch into every copy. One thread, or a worker's
        // tail gathering its own copy, leaves them in the reader's caches, where prefetching them cost more than it
        // saved (docs/optimizing-backprop.md, thirteenth session). Rows the caller gathers for a stalled worker are rare.
        bool prefetchNext = _copies == 1 ? _options.Threads > 1 : gatherNext is not null && !_pool.RunsAlone;
        return _products.Begin(_gathered.Memory, _thirds![batchIndex % 3], m, fold, _thirds[(batchIndex + 1) % 3], next.Length, gatherNext, ready, chain, gatherLater,
            _copies > 1 ? _copyLength : 0, prefetchNext);
    }

    // Sets whether the next mini-batch runs on the calling thread alone. Alone, the gathering fills copy 0 only (see
    // BatchGather), so when sharing resumes the other threads' copies take copy 0's thirds, once the tails are done.
    private void RunAlone(bool alone)
    {
        if (alone)
        {
            _copiesStale |= _copies > 1;
        }
        else if (_copiesStale)
        {
            _pool.CompleteTails();
            ReadOnlySpan<float> first = _gathered!.Slice(0, _copyLength);
            for (int copy = 1; copy < _copies; copy++)
            {
                first.CopyTo(_gathered.Slice(copy * _copyLength, _copyLength));
            }

            _copiesStale = false;
        }

        _pool.RunsAlone = alone;
    }

    // The samples of the mini-batch `batches` after the one starting at k (empty past the end of the epoch).
    private ReadOnlySpan<int> Ahead(int k, int batches)
    {
        int m = _options.MiniBatchSize;
        long start = Math.Min(_order.Length, k + ((long)m * batches));
        return _order.AsSpan((int)start, (int)Math.Min(m, _order.Length - start));
    }

    // Rows [start, end) of `rows` of the training set, in order, into the same rows of third `third` of threads' copies
    // [firstCopy, lastCopy) of _gathered (a byte set's widened to floats, a float set's copied: the same values, on
    // cache lines and one after another, whatever the set's alignment and the shuffle); then the same share of `prefetch`
    // is started on its way.
    private void Gather(ReadOnlySpan<int> rows, int start, int end, int third, ReadOnlySpan<int> prefetch, int firstCopy, int lastCopy)
    {
        int n0 = Network.InputSize, offset = ((third * _batchCapacity) + start) * n0, length = (end - start) * n0;
        Span<float> into = _gathered!.Slice(offset + (firstCopy * _copyLength), length);
        TrainingData.GatherRows(rows[start..end], into);
        for (int copy = firstCopy + 1; copy < lastCopy; copy++)
        {
            into.CopyTo(_gathered.Slice(offset + (copy * _copyLength), length));
        }

        TrainingData.PrefetchRows(prefetch[Math.Min(start, prefetch.Length)..Math.Min(end, prefetch.Length)]);
    }

    /// <summary>
    /// One batch to gather into every thread's copy: as shares of rows split evenly (every row costs the
    /// same), each into all the copies; or, <c>perCopy</c>, as shares of the copies, each of all the rows, so that
    /// a worker's tail share writes the copy it reads itself (one share covering all of them when run as one).
    /// </summary>
    private sealed class BatchGather(Trainer trainer, int capacity, bool perCopy) : IShared
    {
        private readonly int[] _rows = new int[capacity];
        private readonly int[] _prefetch = new int[capacity];
        private int _count;
        private int _prefetchCount;
        private int _third;

        public void Set(ReadOnlySpan<int> rows, int third, ReadOnlySpan<int> prefetch)
        {
            rows.CopyTo(_rows);
            prefetch.CopyTo(_prefetch);
            (_count, _prefetchCount, _third) = (rows.Length, prefetch.Length, third);
        }

        void IShared.Execute(int share, int shares)
        {
            // Alone, the calling thread reads copy 0 only: the others are brought up to date when sharing resumes.
            int copies = trainer._pool.RunsAlone ? 1 : trainer._copies;
            if (perCopy)
            {
                int firstCopy = (int)((long)copies * share / shares), lastCopy = (int)((long)copies * (share + 1) / shares);
                if (firstCopy < lastCopy)
                {
                    trainer.Gather(_rows.AsSpan(0, _count), 0, _count, _third, _prefetch.AsSpan(0, _prefetchCount), firstCopy, lastCopy);
                }

                return;
            }

            int first = (int)((long)_count * share / shares), last = (int)((long)_count * (share + 1) / shares);
            if (first < last)
            {
                trainer.Gather(_rows.AsSpan(0, _count), first, last, _third, _prefetch.AsSpan(0, _prefetchCount), 0, copies);
            }
        }
    }

    // Another thread holding the workspace between two mini-batches would leave the epoch half applied: go back to
    // the parameters of the epoch's start, as the divergence guard does, and let the caller see the exception.
    private Workspace.Lease ClaimForMiniBatch(int m)
    {
        try
        {
            return Workspace.Use(m);
        }
        catch (InvalidOperationException)
        {
            RestoreLastGood();
            throw;
        }
    }

    private void RestoreLastGood()
    {
        _lastGood.CopyTo(Network.MutableParameters);
        Network.ParametersChanged();
    }

    /// <summary>Stops the worker threads, if any.</summary>
    public void Dispose()
    {
        _pool.Dispose();
        _background?.Dispose();
    }

    /// <summary>The constants of the optimizer step for a batch of <paramref name="m"/> samples.</summary>
    private void PrepareStep(int m)
    {
        float eta = Eta, n = TrainingData.Count;
        _step = new Step(m, eta, _options.Lambda / n, _options.L1 / n, 0, 0);
        if (_options.Optimizer == Optimizer.Adam)
        {
            _adamSteps++;
            _step = _step with
            {
                StepSize = (float)(eta / (1 - Math.Pow(_options.Beta1, _adamSteps))),
                SecondCorrection = (float)(1 / (1 - Math.Pow(_options.Beta2, _adamSteps))),
            };
        }
    }

    /// <summary>One optimizer step on the gradient in <see cref="Workspace.Nabla"/> (none when it was folded into BP3 and BP4).</summary>
    private void Update()
    {
        if (_foldStep)
        {
            return;
        }

        ReadOnlySpan<int> sizes = Network.Sizes;
        for (int l = 1; l <= Network.OutputLayer; l++)
        {
            if (_products.Worthwhile(LayerProducts.BackwardWork(sizes, l, _step.M)))
            {
                // Each worker updates the rows of W^l (and b^l) whose gradient it computed: they are in its core's cache.
                _updateLayer = l;
                _pool.Run(this);
            }
            else
            {
                UpdateRows(l, 0, sizes[l]);
            }
        }
    }

    void IShared.Execute(int share, int shares)
    {
        (int start, int end) = LayerProducts.Split(Network.Sizes[_updateLayer], share, shares);
        if (start < end)
        {
            UpdateRows(_updateLayer, start, end);
        }
    }

    private void UpdateRows(int l, int start, int end)
    {
        Layout layout = Network.Layout;
        int cols = layout.Sizes[l - 1];
        UpdateRegion(layout.WeightOffset(l) + (start * cols), (end - start) * cols, _step.L2, _step.L1);
        UpdateRegion(layout.BiasOffset(l) + start, end - start, 0f, 0f);
    }

    private void UpdateRegion(int offset, int length, float l2, float l1)
    {
        Span<float> p = Network.Mutable(offset, length);
        ReadOnlySpan<float> nabla = Workspace.NablaArena.Slice(offset, length);
        Step s = _step;
        switch (_options.Optimizer)
        {
            case Optimizer.Sgd:
                UpdateRules.Sgd(p, nabla, -s.Eta / s.M, 1 - (s.Eta * l2), s.Eta * l1);
                break;
            case Optimizer.Momentum:
                UpdateRules.Momentum(p, _velocity.AsSpan(offset, length), nabla, 1f / s.M, l2, l1, _options.Momentum, s.Eta);
                break;
            case Optimizer.Adam:
                UpdateRules.Adam(p, _first.AsSpan(offset, length), _second.AsSpan(offset, length), nabla, 1f / s.M, l2, l1,
                    _options.Beta1, _options.Beta2, s.StepSize, s.SecondCorrection, _options.Epsilon);
                break;
        }
    }

    /// <summary>The constants of one optimizer step: batch size, eta, regularisation per sample, Adam's corrections.</summary>
    private readonly record struct Step(int M, float Eta, float L2, float L1, float StepSize, float SecondCorrection);

    private void CheckEvaluationData(Dataset? evaluationData, bool needed, string what)
    {
        if (evaluationData is not null)
        {
            Evaluation.CheckData(Network, evaluationData, nameof(evaluationData));
        }
        else if (needed)
        {
            throw new ArgumentNullException(nameof(evaluationData), $"{what} needs evaluation data (a validation or test set).");
        }
    }

    // Parameters that were still finite a step before a NaN gradient are no safer (they were large enough to
    // overflow the forward pass), so the guard goes back to the start of the epoch, the last state that finished
    // an epoch with finite gradients.
    private void Diverged(int epoch, int batch, string what)
    {
        RestoreLastGood();
        EpochsCompleted = epoch;
        throw new TrainingDivergedException(epoch, batch,
            $"training diverged in epoch {epoch}, mini-batch {batch}: {what} became NaN or infinite (eta {Eta} may be too large). " +
            $"The parameters from the start of epoch {epoch} were restored.");
    }
}
