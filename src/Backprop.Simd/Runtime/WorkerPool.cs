using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Backprop.Simd.Runtime;

/// <summary>
/// A fixed set of threads created once, for data-parallel work without allocation: no <c>Task</c> per call, no
/// closure, no queue. A call is cut into shares, at least one per worker, that the threads claim with atomic
/// operations; the calling thread is worker 0 and works too. Between calls the others poll for at most
/// <see cref="SpinMicroseconds"/> (the products of a mini-batch arrive every few microseconds) and then sleep until
/// the next call, so an idle pool costs no processor time; a pool with more workers than cores never polls.
/// </summary>
/// <remarks>
/// <para>Each worker has a home range of the shares, the same rows from one call to the next when the share counts
/// are multiples of the worker count, so a weight matrix's rows stay in one core's cache. It claims those from the
/// front; then it takes, from the back, the unclaimed shares of any worker that has not claimed one for twice the
/// time one of its own shares took (asleep, or descheduled), and leaves alone a worker that is working through its
/// range.</para>
/// <para>A worker descheduled in the middle of a share holds the call up for the scheduler's time slice, milliseconds,
/// when another process competes for the cores. The caller sums such losses (a wait far beyond its own work, or calls
/// that no worker helped with for <see cref="UnhelpedMicroseconds"/>); past 2 ms, twice or more, in 64 ms it runs every call alone,
/// while the workers sleep, for 16 times what it lost, doubled on each relapse up to
/// <see cref="MaxAloneMilliseconds"/>, then tries them again. A quiet machine loses microseconds now and then, and
/// stays parallel.</para>
/// <para>Results never depend on the number of workers, the number of shares, nor on who did a share, as long as
/// every <see cref="IShared"/> splits its output, never a sum, among the shares. Every share runs exactly once, so a
/// share need not be idempotent (one that folds a gradient step into the weights is not).</para>
/// </remarks>
internal sealed class WorkerPool : IWorkers, IDisposable
{
    /// <summary>How long an idle worker polls for the next call before it sleeps: long enough to span the gap between
    /// two products of a mini-batch, short enough that a pool between calls (an app's idle inference) costs nothing.</summary>
    public const int SpinMicroseconds = 100;

    /// <summary>The most shares a call may be cut into (a share index is 16 bits in a range word).</summary>
    public const int MaxShares = ushort.MaxValue;

    /// <summary>Calls on which no worker finished a share, for this long, mean they are not being scheduled.</summary>
    public const int UnhelpedMicroseconds = 1_000;

    /// <summary>The longest the pool runs alone before it tries its workers again.</summary>
    public const int MaxAloneMilliseconds = 128;

    private const int Stride = 16; // longs between two workers' slots: 128 bytes, apart from the adjacent-line prefetch
    private const int StallMicroseconds = 20; // a wait this much longer than 4x the caller's own work is a descheduled worker
    private const int WindowMilliseconds = 64; // the window over which lost time is summed
    private const int MaxLostMicroseconds = 2_000; // lost in one window by a pool that then runs alone
    private const int LostFactor = 16; // a stretch alone lasts this many times the time lost

    private static readonly long TicksPerMicrosecond = Math.Max(1, Stopwatch.Frequency / 1_000_000);

    private readonly long _spinTicks; // SpinMicroseconds in Stopwatch ticks, or 0 when there are more threads than cores
    private readonly Thread[] _threads;
    private readonly object[] _signals; // Monitor wait/pulse: nothing allocated lazily (SemaphoreSlim allocates on wake, ManualResetEventSlim on its first wait)
    private readonly int[] _sleeping;
    private readonly Action<int>? _beforeClaim; // tests: holds a worker back, as if the scheduler had not run it

    // Per worker w at [w * Stride]: its unclaimed home shares of the current call, (tag << 32) | (front << 16) | back,
    // where tag is the call's generation; a worker with a stale generation sees another tag and claims nothing.
    private readonly long[] _ranges;
    private readonly long[] _finished; // per worker at [w * Stride]: shares it has finished, ever (written by it alone)

    private readonly long[] _tailState; // per worker at [w * Stride]: the call whose tail share w is pending, -1 while it runs, 0 when none
    private IShared? _tail;
    private long _ownTail; // ticks the caller's own share of the last tail took
    private ExceptionDispatchInfo? _tailFailure;

    private IShared? _work;
    private IWorkerShared? _workerWork;
    private int _shares;
    private long _generation;
    private long _published; // shares of every call so far: the call is done when the workers' _finished sum to it
    private volatile bool _disposed;
    private ExceptionDispatchInfo? _failure;

    // The caller's view of its workers (touched by the calling thread only).
    private long _aloneUntil;     // timestamp until which calls run on the calling thread alone
    private long _windowStart;    // when the current window of lost time began
    private long _lost;           // time lost in it
    private int _losses;          // and how many times
    private long _parallelSince;  // when the current stretch of parallel calls began
    private int _relapses;        // stretches alone in a row that were followed by another within a window
    private long _unhelpedSince;  // when the current streak of calls that no worker helped with began, or 0
    private long _helped;         // the workers' (not the caller's) finished shares at the end of the last call

    public WorkerPool(int workers)
        : this(workers, null)
    {
    }

    /// <summary>A pool whose workers call <paramref name="beforeClaim"/> with their index on every call, before they
    /// claim a share (tests use it to hold a worker back).</summary>
    internal WorkerPool(int workers, Action<int>? beforeClaim)
    {
        Guard.Positive(workers);
        Workers = workers;
        _beforeClaim = beforeClaim;
        // With more threads than cores a spinning worker takes the core another thread needs to finish its share:
        // an oversubscribed pool sleeps between calls instead (1,000 spinning threads once stalled an epoch for minutes).
        _spinTicks = workers <= Environment.ProcessorCount ? Stopwatch.Frequency * SpinMicroseconds / 1_000_000 : 0;
        _threads = new Thread[workers];
        _signals = new object[workers];
        _sleeping = new int[workers];
        _ranges = new long[workers * Stride];
        _finished = new long[workers * Stride];
        _tailState = new long[workers * Stride];
        for (int w = 1; w < workers; w++)
        {
            int worker = w;
            _signals[w] = new object();
            _threads[w] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"Backprop.Simd worker {w}" };
            _threads[w].Start();
        }
    }

    public int Workers { get; }

    int IWorkers.Count => Workers;

    /// <summary>How many times the pool has gone to run alone because its workers were not being scheduled.</summary>
    internal int AloneStretches { get; private set; }

    /// <summary>Whether calls run on the calling thread alone because its owner found that faster (see
    /// <see cref="ThreadChoice"/>); the workers poll, then sleep, meanwhile.</summary>
    internal bool RunsAlone { get; set; }

    /// <summary>Runs <paramref name="work"/> in one share per worker; returns when all are done and rethrows the first failure.</summary>
    public void Run(IShared work) => Run(work, Workers);

    /// <summary>Runs every one of <paramref name="shares"/> shares of <paramref name="work"/> (one share on one
    /// thread alone); returns when all are done and rethrows the first failure.</summary>
    public void Run(IShared work, int shares)
    {
        ArgumentNullException.ThrowIfNull(work);
        Run(work, null, shares, null);
    }

    /// <summary>
    /// <see cref="Run(IShared, int)"/>, and then <paramref name="tail"/>, in one share per worker, that the call does
    /// not wait for: worker w does share w once its part of the call is done (the caller its share 0 before it waits;
    /// every share itself, at once, when the pool runs the call alone),
    /// so a worker's tail overlaps what the caller does after the call. <see cref="CompleteTails"/> (which every call
    /// runs first) does the shares no worker has taken and waits for the rest: call it before anything reads what a
    /// tail writes or changes what it reads.
    /// </summary>
    public void Run(IShared work, int shares, IShared? tail)
    {
        ArgumentNullException.ThrowIfNull(work);
        Run(work, null, shares, tail);
    }

    /// <summary>Returns once every share of the last call's tail is done, doing those that no worker has begun;
    /// rethrows the first failure of a tail share.</summary>
    public void CompleteTails()
    {
        if (_tail is not { } tail)
        {
            return;
        }

        long waitStart = 0;
        for (int w = 1; w < Workers; w++)
        {
            ref long state = ref _tailState[w * Stride];
            for (long value, spins = 0; (value = Volatile.Read(ref state)) != 0; spins++)
            {
                if (value > 0 && Interlocked.CompareExchange(ref state, -1, value) == value)
                {
                    RunTail(tail, w, ref state);
                }
                else if ((spins & 63) != 63)
                {
                    Thread.SpinWait(1); // a worker is doing it
                }
                else
                {
                    waitStart = waitStart == 0 ? Stopwatch.GetTimestamp() : waitStart;
                    Thread.Yield(); // it may be waiting for this very core
                }
            }
        }

        // A worker descheduled in its tail costs the caller as one descheduled in its shares does: a wait longer than
        // 4x the caller's own tail share (plus the same slack) is a stall, not a slower share.
        long end = waitStart == 0 ? 0 : Stopwatch.GetTimestamp();
        if (end - waitStart > (4 * _ownTail) + (StallMicroseconds * TicksPerMicrosecond))
        {
            Lost(end, end - waitStart);
        }

        _tail = null;
        if (_tailFailure is { } failure)
        {
            _tailFailure = null;
            failure.Throw();
        }
    }

    /// <summary><see cref="Run(IShared, int)"/> for work that uses per-worker state.</summary>
    public void Run(IWorkerShared work, int shares)
    {
        ArgumentNullException.ThrowIfNull(work);
        Run(null, work, shares, null);
    }

    /// <summary><see cref="Run(IShared, int, IShared)"/> for work that uses per-worker state.</summary>
    public void Run(IWorkerShared work, int shares, IShared? tail)
    {
        ArgumentNullException.ThrowIfNull(work);
        Run(null, work, shares, tail);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Interlocked.Increment(ref _generation);
        for (int w = 1; w < Workers; w++)
        {
            Wake(w);
            _threads[w].Join();
        }
    }

    private void Run(IShared? work, IWorkerShared? workerWork, int shares, IShared? tail)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shares);
        ObjectDisposedException.ThrowIf(_disposed, this);
        CompleteTails();
        long start = Workers == 1 || shares == 1 ? long.MinValue : Stopwatch.GetTimestamp();
        if (start < _aloneUntil || RunsAlone)
        {
            // One share covering everything: the same outputs, with the same arithmetic, as any other split.
            Execute(work, workerWork, 0, 1, 0);
            if (tail is not null)
            {
                // Every share of the tail now, each as a worker would do it; a failure is rethrown by CompleteTails,
                // as when the workers run the tail.
                _tail = tail;
                for (int w = 0; w < Workers; w++)
                {
                    Tail(tail, w);
                }
            }

            return;
        }

        shares = Math.Min(shares, MaxShares);
        long generation = _generation + 1;
        _work = work;
        _workerWork = workerWork;
        _shares = shares;
        for (int w = 0; w < Workers; w++)
        {
            long front = (long)shares * w / Workers, back = (long)shares * (w + 1) / Workers;
            Volatile.Write(ref _ranges[w * Stride], (generation << 32) | (front << 16) | back);
        }

        _published += shares;
        _tail = tail;
        for (int w = 1; w < Workers; w++)
        {
            Volatile.Write(ref _tailState[w * Stride], tail is null ? 0 : generation);
        }

        Interlocked.Exchange(ref _generation, generation); // a full fence: the work and the ranges are visible first
        bool woke = false;
        for (int w = 1; w < Workers; w++)
        {
            if (Volatile.Read(ref _sleeping[w]) == 1)
            {
                Wake(w);
                woke = true;
            }
        }

        Claim(0, (uint)generation);
        if (tail is not null)
        {
            long tailStart = Stopwatch.GetTimestamp();
            Tail(tail, 0);
            _ownTail = Stopwatch.GetTimestamp() - tailStart;
        }

        long worked = Stopwatch.GetTimestamp() - start;
        WaitForWorkers(start, worked, woke);
        _work = null;
        _workerWork = null;
        if (_failure is { } failure)
        {
            _failure = null;
            failure.Throw();
        }
    }

    // Waits until every share of the call is finished, and judges from how long that took whether the workers are
    // being scheduled: a wait far beyond a share's length means one was descheduled in the middle of its share.
    private void WaitForWorkers(long start, long worked, bool woke)
    {
        long stall = (4 * worked) + (StallMicroseconds * TicksPerMicrosecond);
        long waitStart = 0, helped;
        for (int spins = 0; (helped = Finished()) != _published - Volatile.Read(ref _finished[0]); spins++)
        {
            if ((spins & 15) != 15)
            {
                Thread.SpinWait(1);
                continue;
            }

            long now = Stopwatch.GetTimestamp();
            if (waitStart == 0)
            {
                waitStart = now;
            }
            else if (now - waitStart > stall)
            {
                Thread.Yield(); // the worker may be waiting for this very core
            }
        }

        long end = waitStart == 0 ? start + worked : Stopwatch.GetTimestamp();
        if (waitStart != 0 && end - waitStart > stall)
        {
            Lost(end, end - waitStart);
        }
        else if (helped != _helped)
        {
            _unhelpedSince = 0;
        }
        else if (woke)
        {
            // A worker that was asleep takes a while to wake; the caller did its shares meanwhile, which cost nothing.
        }
        else if (_unhelpedSince == 0)
        {
            _unhelpedSince = start;
        }
        else if (end - _unhelpedSince > UnhelpedMicroseconds * TicksPerMicrosecond)
        {
            long unhelped = end - _unhelpedSince;
            _unhelpedSince = 0;
            Lost(end, unhelped);
        }

        _helped = helped;
    }

    // Counts time lost to workers that were not being scheduled. A quiet machine loses a few microseconds now and
    // then (an interrupt, the hypervisor, once in a while a whole time slice); more than MaxLostMicroseconds in two or
    // more losses within a WindowMilliseconds window means another process competes for the cores, and the pool runs
    // alone for LostFactor times what it lost, doubled for every relapse within a window of the last stretch alone:
    // the probes then cost a few percent of a busy machine's time.
    private void Lost(long now, long lost)
    {
        long window = WindowMilliseconds * 1_000 * TicksPerMicrosecond;
        if (now - _windowStart > window)
        {
            (_windowStart, _lost, _losses) = (now, 0, 0);
        }

        _lost += lost;
        if (++_losses < 2 || _lost <= MaxLostMicroseconds * TicksPerMicrosecond)
        {
            return; // one hiccup, however long, is not yet a competing process
        }

        AloneStretches++;
        _relapses = now - _parallelSince < window ? Math.Min(_relapses + 1, 6) : 0;
        long alone = Math.Clamp((LostFactor * _lost) << _relapses, 1_000 * TicksPerMicrosecond, MaxAloneMilliseconds * 1_000 * TicksPerMicrosecond);
        _aloneUntil = _parallelSince = _windowStart = now + alone;
        (_lost, _losses) = (0, 0);
        _unhelpedSince = 0;
    }

    // Shares finished by the workers other than the caller.
    private long Finished()
    {
        long sum = 0;
        for (int w = 1; w < Workers; w++)
        {
            sum += Volatile.Read(ref _finished[w * Stride]);
        }

        return sum;
    }

    // Claims and runs shares of generation tag: the worker's own home range from the front, then, from the back, the
    // shares of any worker that has made no progress for twice the time one of its own shares took (a worker that
    // is still working through its range keeps it: its rows are in its core's cache).
    private void Claim(int worker, uint tag)
    {
        long start = Stopwatch.GetTimestamp();
        int own = 0;
        while (TryClaim(worker, tag, fromBack: false, out int share))
        {
            Do(worker, share);
            own++;
        }

        long patience = own == 0 ? 0 : 2 * (Stopwatch.GetTimestamp() - start) / own;
        for (int i = 1; i < Workers; i++)
        {
            int victim = (worker + i) % Workers;
            long since = 0;
            for (int front = -1; ;)
            {
                long value = Volatile.Read(ref _ranges[victim * Stride]);
                int next = (int)(value >> 16) & 0xFFFF;
                if ((uint)(value >> 32) != tag || next >= (int)(value & 0xFFFF))
                {
                    break; // nothing left to claim there
                }

                long now = Stopwatch.GetTimestamp();
                if (next != front)
                {
                    (front, since) = (next, now); // it progressed: wait for it again
                }
                else if (now - since >= patience && TryClaim(victim, tag, fromBack: true, out int stolen))
                {
                    Do(worker, stolen); // and the next one at once, unless it progresses meanwhile
                    continue;
                }

                Thread.SpinWait(1);
            }
        }
    }

    private bool TryClaim(int owner, uint tag, bool fromBack, out int share)
    {
        ref long range = ref _ranges[owner * Stride];
        while (true)
        {
            long value = Volatile.Read(ref range);
            int front = (int)(value >> 16) & 0xFFFF, back = (int)value & 0xFFFF;
            if ((uint)(value >> 32) != tag || front >= back)
            {
                share = -1;
                return false;
            }

            long claimed = fromBack ? value - 1 : value + (1L << 16);
            if (Interlocked.CompareExchange(ref range, claimed, value) == value)
            {
                share = fromBack ? back - 1 : front;
                return true;
            }
        }
    }

    // Runs one claimed share. The call cannot end while a share is claimed and unfinished, so the work read here is
    // the claimed share's. After a failure the remaining shares are only counted, not run.
    private void Do(int worker, int share)
    {
        if (_failure is null)
        {
            try
            {
                Execute(_work, _workerWork, share, _shares, worker);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
        }

        ref long finished = ref _finished[worker * Stride];
        Volatile.Write(ref finished, finished + 1); // after the share's writes: the caller reads them once it sees this
    }

    // Tail share `worker` of the call, by the worker that claimed it (state -1); then it is done (0).
    private void RunTail(IShared tail, int worker, ref long state)
    {
        Tail(tail, worker);
        Volatile.Write(ref state, 0);
    }

    private void Tail(IShared tail, int worker)
    {
        try
        {
            tail.Execute(worker, Workers);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _tailFailure, ExceptionDispatchInfo.Capture(e), null);
        }
    }

    private static void Execute(IShared? work, IWorkerShared? workerWork, int share, int shares, int worker)
    {
        if (workerWork is not null)
        {
            workerWork.Execute(share, shares, worker);
        }
        else
        {
            work!.Execute(share, shares);
        }
    }

    private void Wake(int w)
    {
        lock (_signals[w])
        {
            Monitor.Pulse(_signals[w]);
        }
    }

    private void Loop(int worker)
    {
        long seen = 0;
        while (true)
        {
            long generation;
            long spinUntil = Stopwatch.GetTimestamp() + _spinTicks;
            for (int spins = 0; (generation = Volatile.Read(ref _generation)) == seen; spins++)
            {
                if (_spinTicks > 0 && ((spins & 63) != 0 || Stopwatch.GetTimestamp() < spinUntil))
                {
                    Thread.SpinWait(1);
                    continue;
                }

                lock (_signals[worker])
                {
                    // Under the lock, so that a Wake between this check and the wait cannot be lost.
                    Interlocked.Exchange(ref _sleeping[worker], 1); // a full fence before the generation is read again
                    if (Volatile.Read(ref _generation) == seen)
                    {
                        Monitor.Wait(_signals[worker]);
                    }

                    Volatile.Write(ref _sleeping[worker], 0);
                }

                spinUntil = Stopwatch.GetTimestamp() + _spinTicks;
            }

            seen = generation;
            if (_disposed)
            {
                return;
            }

            _beforeClaim?.Invoke(worker);
            Claim(worker, (uint)generation);

            // This call's tail share, unless the caller has taken it (or already published another call).
            ref long tailState = ref _tailState[worker * Stride];
            if (Volatile.Read(ref tailState) == generation && Interlocked.CompareExchange(ref tailState, -1, generation) == generation)
            {
                RunTail(_tail!, worker, ref tailState);
            }
        }
    }
}
