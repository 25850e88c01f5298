using System.Runtime.ExceptionServices;

namespace Backprop.Simd.Training;

/// <summary>A piece of work a <see cref="WorkerPool"/> runs on every worker at once; each worker takes its share.</summary>
internal interface IParallelWork
{
    /// <summary>Does worker <paramref name="worker"/>'s share of the work, out of <paramref name="workers"/>.</summary>
    void Execute(int worker, int workers);
}

/// <summary>
/// A fixed set of threads created once, for data-parallel work without allocation: no <c>Task</c> per call, no
/// closure, no queue. The calling thread is worker 0 and the others spin briefly between calls (mini-batches arrive
/// every few microseconds), then sleep on an event until the next call. Results never depend on the number of
/// workers as long as every <see cref="IParallelWork"/> splits its output, never a sum, among them.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private const int SpinIterations = 200_000; // a few milliseconds of polling (between epochs, say) before a worker sleeps

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _signals; // not SemaphoreSlim: its wake-up allocates
    private readonly int[] _sleeping;
    private IParallelWork? _work;
    private int _generation;
    private int _pending;
    private volatile bool _disposed;
    private ExceptionDispatchInfo? _failure;

    public WorkerPool(int workers)
    {
        Guard.Positive(workers);
        Workers = workers;
        _threads = new Thread[workers];
        _signals = new ManualResetEventSlim[workers];
        _sleeping = new int[workers];
        for (int w = 1; w < workers; w++)
        {
            int worker = w;
            _signals[w] = new ManualResetEventSlim(false);
            _threads[w] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"Backprop.Simd worker {w}" };
            _threads[w].Start();
        }
    }

    public int Workers { get; }

    /// <summary>Runs <paramref name="work"/> on every worker and returns when all are done; rethrows the first failure.</summary>
    public void Run(IParallelWork work)
    {
        if (Workers == 1)
        {
            work.Execute(0, 1);
            return;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        _work = work;
        Volatile.Write(ref _pending, Workers - 1);
        Interlocked.Increment(ref _generation); // a full fence: the work and the count are visible before the new generation
        for (int w = 1; w < Workers; w++)
        {
            if (Volatile.Read(ref _sleeping[w]) == 1)
            {
                _signals[w].Set();
            }
        }

        try
        {
            work.Execute(0, Workers);
        }
        finally
        {
            // The others finish within microseconds of this thread: a pure spin, never a yield or a sleep, whose
            // wake-up would cost more than the whole wait.
            while (Volatile.Read(ref _pending) != 0)
            {
                Thread.SpinWait(1);
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
            _signals[w].Set();
            _threads[w].Join();
            _signals[w].Dispose();
        }
    }

    private void Loop(int worker)
    {
        int seen = 0;
        while (true)
        {
            int generation;
            int spins = 0;
            while ((generation = Volatile.Read(ref _generation)) == seen)
            {
                if (++spins < SpinIterations)
                {
                    Thread.SpinWait(1);
                    continue;
                }

                Interlocked.Exchange(ref _sleeping[worker], 1); // a full fence before the generation is read again
                if (Volatile.Read(ref _generation) == seen)
                {
                    _signals[worker].Wait();
                }

                _signals[worker].Reset(); // a wake-up with no new work (a late signal) just loops back to spinning

                Volatile.Write(ref _sleeping[worker], 0);
                spins = 0;
            }

            seen = generation;
            if (_disposed)
            {
                return;
            }

            try
            {
                _work!.Execute(worker, Workers);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }

            Interlocked.Decrement(ref _pending);
        }
    }
}
