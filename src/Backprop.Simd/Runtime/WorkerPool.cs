using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Backprop.Simd.Runtime;

/// <summary>
/// A fixed set of threads created once, for data-parallel work without allocation: no <c>Task</c> per call, no
/// closure, no queue. The calling thread does share 0; between calls the others poll for at most
/// <see cref="SpinMicroseconds"/> (the products of a mini-batch arrive every few microseconds) and then sleep until
/// the next call, so an idle pool costs no processor time; a pool with more workers than cores never polls.
/// </summary>
/// <remarks>
/// <para>Share w is normally done by worker w, so the same rows of a weight matrix stay in the same core's cache
/// from one call to the next. But a worker the operating system has not scheduled (the machine is busy with other
/// processes) would stall every call, so each share is claimed with a compare-and-swap: when the caller has finished
/// its own share and a worker has not yet claimed its one, the caller claims it and does it itself.</para>
/// <para>Results never depend on the number of workers, nor on who did a share, as long as every
/// <see cref="IShared"/> splits its output, never a sum, among the shares.</para>
/// </remarks>
internal sealed class WorkerPool : IWorkers, IDisposable
{
    /// <summary>How long an idle worker polls for the next call before it sleeps: long enough to span the gap between
    /// two products of a mini-batch, short enough that a pool between calls (an app's idle inference) costs nothing.</summary>
    public const int SpinMicroseconds = 100;

    private const int PatienceIterations = 2_000; // how long the caller waits at most for a worker to claim its share

    // Per share, for the current generation g: (g << 2) | state, with state Open, Claimed or Done.
    private const long Open = 0, Claimed = 1, Done = 2;

    private readonly long _spinTicks; // SpinMicroseconds in Stopwatch ticks, or 0 when there are more threads than cores
    private readonly Thread[] _threads;
    private readonly object[] _signals; // Monitor wait/pulse: nothing allocated lazily (SemaphoreSlim allocates on wake, ManualResetEventSlim on its first wait)
    private readonly int[] _sleeping;
    private readonly long[] _shares;
    private readonly int[] _patience; // per worker: shrinks when it misses its share, grows back when it makes it
    private IShared? _work;
    private long _generation;
    private volatile bool _disposed;
    private ExceptionDispatchInfo? _failure;

    public WorkerPool(int workers)
    {
        Guard.Positive(workers);
        Workers = workers;
        // With more threads than cores a spinning worker takes the core another thread needs to finish its share:
        // an oversubscribed pool sleeps between calls instead (1,000 spinning threads once stalled an epoch for minutes).
        _spinTicks = workers <= Environment.ProcessorCount ? Stopwatch.Frequency * SpinMicroseconds / 1_000_000 : 0;
        _threads = new Thread[workers];
        _signals = new object[workers];
        _sleeping = new int[workers];
        _shares = new long[workers];
        _patience = new int[workers];
        for (int w = 1; w < workers; w++)
        {
            int worker = w;
            _signals[w] = new object();
            _patience[w] = PatienceIterations;
            _threads[w] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"Backprop.Simd worker {w}" };
            _threads[w].Start();
        }
    }

    public int Workers { get; }

    int IWorkers.Count => Workers;

    /// <summary>Runs every share of <paramref name="work"/> and returns when all are done; rethrows the first failure.</summary>
    public void Run(IShared work)
    {
        if (Workers == 1)
        {
            work.Execute(0, 1);
            return;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        long generation = _generation + 1;
        _work = work;
        for (int w = 1; w < Workers; w++)
        {
            Volatile.Write(ref _shares[w], (generation << 2) | Open);
        }

        Interlocked.Exchange(ref _generation, generation); // a full fence: the work and the shares are visible first
        for (int w = 1; w < Workers; w++)
        {
            if (Volatile.Read(ref _sleeping[w]) == 1)
            {
                Wake(w);
            }
        }

        try
        {
            work.Execute(0, Workers);
        }
        finally
        {
            for (int w = 1; w < Workers; w++)
            {
                Finish(w, generation, work);
            }
        }

        if (_failure is { } failure)
        {
            _failure = null;
            failure.Throw();
        }
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

    // Waits for share w to be done; takes it over if its worker has not claimed it in time. A worker that keeps
    // missing its share (descheduled: the machine is busy) gets less and less patience, so a busy machine costs
    // about what one thread would, instead of a wait per call.
    private void Finish(int w, long generation, IShared work)
    {
        long open = (generation << 2) | Open, done = (generation << 2) | Done;
        if (Volatile.Read(ref _shares[w]) != open)
        {
            _patience[w] = Math.Min(PatienceIterations, (_patience[w] * 2) + 1); // claimed in time
        }

        for (int spins = 0; Volatile.Read(ref _shares[w]) != done; spins++)
        {
            if (spins >= _patience[w] && Interlocked.CompareExchange(ref _shares[w], (generation << 2) | Claimed, open) == open)
            {
                _patience[w] /= 4;
                Do(w, generation, work);
                return;
            }

            // A pure spin while the worker runs: it finishes within microseconds, and a yield would cost more.
            Thread.SpinWait(1);
        }
    }

    private void Do(int w, long generation, IShared work)
    {
        try
        {
            work.Execute(w, Workers);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
        }

        Volatile.Write(ref _shares[w], (generation << 2) | Done);
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

            // Claim this generation's share; if the caller took it over already, there is nothing to do.
            long open = (generation << 2) | Open;
            if (Interlocked.CompareExchange(ref _shares[worker], (generation << 2) | Claimed, open) == open)
            {
                Do(worker, generation, _work!);
            }
        }
    }
}
