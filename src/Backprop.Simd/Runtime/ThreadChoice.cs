namespace Backprop.Simd.Runtime;

/// <summary>
/// Chooses, stretch by stretch, whether a trainer's mini-batches are shared among its threads or run on the calling
/// thread alone, by timing both. Sharing a small mini-batch costs a hand-over of its rows between the cores on
/// every product; where the cores are far apart (on two dies of one processor), that costs more than the second
/// core gives (docs/optimizing-backprop.md, twelfth session). Results are the same bits either way (every split of a
/// product gives them), so the choice changes only the speed.
/// </summary>
/// <remarks>
/// Mini-batches run in blocks of at least <c>blockTicks</c> of timed work (<see cref="BlockTicks"/> in a trainer: a
/// few dozen mini-batches at m = 10), each block in one way; its first <see cref="SettlingBatches"/> are not timed (a
/// woken worker, rows moving to the other core's cache). The way in use keeps a smoothed cost per sample of its
/// blocks, the other the cost of its last block. The cheaper way runs, and the other every <c>interval</c>-th block
/// to see whether it still loses; the interval doubles each time it does, up to <see cref="MaxInterval"/> times how
/// much dearer the losing way is, so that probing it costs about the same small share of the time however slow it is.
/// </remarks>
internal sealed class ThreadChoice(long blockTicks)
{
    /// <summary>Mini-batches at the start of a block that are not timed: the way just changed.</summary>
    public const int SettlingBatches = 2;

    /// <summary>The most blocks between two probes of the losing way when it costs about what the other does; a
    /// losing way k times as dear is probed up to k times as rarely.</summary>
    public const int MaxInterval = 64;

    /// <summary>The fewest blocks between two probes of the losing way.</summary>
    public const int MinInterval = 4;

    // The other way must be this much cheaper to take over, so that noise does not flip the choice; sharing goes first.
    private const double Margin = 0.97;

    private readonly double[] _cost = [double.NaN, double.NaN]; // smoothed ticks per sample: [0] shared, [1] alone
    private long _timed; // ticks and samples of the block's timed mini-batches
    private long _timedSamples;
    private int _batchesInBlock;
    private int _blocksSinceProbe;
    private int _interval = MinInterval;
    private bool _preferAlone;

    /// <summary>A trainer's block: one millisecond of timed mini-batches.</summary>
    public static long BlockTicks => System.Diagnostics.Stopwatch.Frequency / 1_000;

    /// <summary>Whether the next mini-batch runs on the calling thread alone.</summary>
    public bool Alone { get; private set; }

    /// <summary>Mini-batches run so far shared among the threads.</summary>
    public long SharedBatches { get; private set; }

    /// <summary>Mini-batches run so far on the calling thread alone.</summary>
    public long AloneBatches { get; private set; }

    /// <summary>Counts a mini-batch of <paramref name="samples"/> that took <paramref name="ticks"/> the way
    /// <see cref="Alone"/> said, and chooses the way of the next.</summary>
    public void Record(long ticks, int samples)
    {
        if (Alone)
        {
            AloneBatches++;
        }
        else
        {
            SharedBatches++;
        }

        if (++_batchesInBlock <= SettlingBatches)
        {
            return;
        }

        _timed += ticks;
        _timedSamples += samples;
        if (_timed < blockTicks)
        {
            return;
        }

        // The block is done: fold its cost into its way's, then choose the next block's way.
        // A probe's cost replaces its way's (measured long ago, perhaps while the code was still being compiled).
        int way = Alone ? 1 : 0;
        bool wasPreferred = Alone == _preferAlone, first = double.IsNaN(_cost[way]);
        double cost = (double)_timed / _timedSamples;
        _cost[way] = first || !wasPreferred ? cost : (_cost[way] + cost) / 2;
        (_timed, _timedSamples, _batchesInBlock) = (0, 0, 0);
        if (double.IsNaN(_cost[1]))
        {
            Alone = true; // the first block shared, the second alone: both ways measured once
            return;
        }

        bool preferAlone = _preferAlone ? !(_cost[0] * Margin < _cost[1]) : _cost[1] < _cost[0] * Margin;
        if (preferAlone != _preferAlone)
        {
            (_preferAlone, _interval, _blocksSinceProbe) = (preferAlone, MinInterval, 0);
        }
        else if (!wasPreferred && !first)
        {
            // The probe lost again: probe less often, and the rarer the dearer the losing way, so that probing it
            // costs about the same share of the time however much slower it is.
            double ratio = Math.Max(1, _cost[_preferAlone ? 0 : 1] / _cost[_preferAlone ? 1 : 0]);
            _interval = (int)Math.Min(2L * _interval, (long)Math.Min(MaxInterval * ratio, MaxInterval * MaxInterval));
        }

        Alone = ++_blocksSinceProbe >= _interval ? !_preferAlone : _preferAlone;
        if (Alone != _preferAlone)
        {
            _blocksSinceProbe = 0;
        }
    }
}
