using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests.Training;

/// <summary>
/// The worker pool: every share of a call runs exactly once, whoever claims it, with many shares, with a worker held
/// back as if the scheduler never ran it, with a worker stalled in the middle of a share, and with failing shares.
/// </summary>
[Collection(nameof(ProcessWideMeasurements))]
public class WorkerPoolTests
{
    /// <summary>Work over <see cref="Units"/> output units, each counted by whichever share covers it.</summary>
    private sealed class CoverageWork(int workers) : IShared, IWorkerShared
    {
        public const int Units = 61;

        public int[] Covered { get; } = new int[Units];

        /// <summary>Shares run by each worker.</summary>
        public long[] ByWorker { get; } = new long[workers];

        public Action<int, int>? During { get; init; }

        public void Execute(int share, int shares) => Cover(share, shares);

        public void Execute(int share, int shares, int worker)
        {
            Interlocked.Increment(ref ByWorker[worker]);
            During?.Invoke(share, worker);
            Cover(share, shares);
        }

        private void Cover(int share, int shares)
        {
            (int start, int end) = LayerProducts.Split(Units, share, shares);
            for (int u = start; u < end; u++)
            {
                Interlocked.Increment(ref Covered[u]);
            }
        }
    }

    [Theory]
    [InlineData(2, 8)]
    [InlineData(2, 31)] // more shares than units of even width: some shares are empty
    [InlineData(3, 12)] // more threads than this machine's cores
    [InlineData(8, 5)] // fewer shares than workers
    public void Every_unit_is_covered_exactly_once_per_call_whoever_claims_the_shares(int workers, int shares)
    {
        using var pool = new WorkerPool(workers);
        var work = new CoverageWork(workers) { During = (share, _) => Thread.SpinWait(share % 3 == 0 ? 500 : 20) };
        const int calls = 5_000;
        for (int i = 0; i < calls; i++)
        {
            pool.Run((IWorkerShared)work, shares);
        }

        Assert.All(work.Covered, c => Assert.Equal(calls, c));
        var plain = new CoverageWork(workers);
        for (int i = 0; i < calls; i++)
        {
            pool.Run((IShared)plain, shares); // the plain interface: no worker index
        }

        Assert.All(plain.Covered, c => Assert.Equal(calls, c));
    }

    [Fact]
    public void Workers_other_than_the_caller_take_shares()
    {
        using var pool = new WorkerPool(2);
        var work = new CoverageWork(2) { During = (_, _) => Thread.SpinWait(200) };
        for (int i = 0; i < 100_000 && work.ByWorker[1] == 0; i++)
        {
            pool.Run((IWorkerShared)work, 16);
        }

        Assert.True(work.ByWorker[1] > 0, "worker 1 never claimed a share");
    }

    [Fact]
    public async Task A_worker_that_is_never_scheduled_leaves_every_share_to_the_caller()
    {
        using var held = new ManualResetEventSlim(false);
        var pool = new WorkerPool(2, beforeClaim: _ => held.Wait());
        var work = new CoverageWork(2);
        int calls = 0;
        var caller = Task.Run(() =>
        {
            // Until its calls have gone unhelped long enough (UnhelpedMicroseconds, twice over) that the pool gives up on the worker.
            while (pool.AloneStretches == 0 && calls < 10_000_000)
            {
                pool.Run((IWorkerShared)work, 8);
                calls++;
            }
        }, TestContext.Current.CancellationToken);

        await caller.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken); // a TimeoutException if the caller waited for the worker
        Assert.True(pool.AloneStretches > 0);
        Assert.Equal(0, work.ByWorker[1]);
        Assert.All(work.Covered, c => Assert.Equal(calls, c));
        held.Set();
        pool.Dispose();
    }

    [Fact]
    public void A_worker_stalled_in_its_shares_is_waited_for_and_then_left_alone()
    {
        using var pool = new WorkerPool(2);
        int stalls = 0;
        bool stalling = true;
        var work = new CoverageWork(2)
        {
            During = (share, worker) =>
            {
                // Shares worker 1 gets stall it for far longer than the caller's own work takes, until the pool goes
                // alone: one such loss is a hiccup, two in a window a worker that is not being scheduled. (Two are
                // enough on real hardware; an emulator's slow calls may stretch them past one window.)
                if (worker == 1 && Volatile.Read(ref stalling))
                {
                    Interlocked.Increment(ref stalls);
                    Thread.Sleep(20);
                }
                else
                {
                    Thread.SpinWait(100);
                }
            },
        };

        int calls = 0;
        while (pool.AloneStretches == 0 && Volatile.Read(ref stalls) < 200 && calls < 1_000_000)
        {
            pool.Run((IWorkerShared)work, 8);
            calls++;
        }

        Volatile.Write(ref stalling, false);
        Assert.True(stalls >= 1, $"{stalls} stalls in {calls} calls");
        Assert.All(work.Covered, c => Assert.Equal(calls, c)); // the stalled shares ran once, before their calls returned
        Assert.True(pool.AloneStretches > 0, $"never alone after {stalls} stalls of 20 ms in {calls} calls");
        for (int i = 0; i < 1_000; i++)
        {
            pool.Run((IWorkerShared)work, 8); // alone for a while, then with the worker again: the same coverage either way
        }

        Assert.All(work.Covered, c => Assert.Equal(calls + 1_000, c));
    }

    /// <summary>Fails in the share that covers unit <c>failing</c> of <see cref="CoverageWork.Units"/> (whichever
    /// split the pool chose), or with -1 in every share a worker other than the caller runs.</summary>
    private sealed class FailingWork(int failing) : IWorkerShared
    {
        public int Ran;

        public void Execute(int share, int shares, int worker)
        {
            Interlocked.Increment(ref Ran);
            (int start, int end) = LayerProducts.Split(CoverageWork.Units, share, shares);
            if ((failing >= start && failing < end) || (failing < 0 && worker != 0))
            {
                throw new InvalidOperationException($"share {share} of {shares}");
            }
        }
    }

    [Theory]
    [InlineData(0)] // in the caller's first share
    [InlineData(CoverageWork.Units - 1)] // in the last share: a worker's, unless the caller takes it over
    [InlineData(-1)] // in every share a worker runs
    public void A_failing_share_is_rethrown_to_the_caller_and_the_pool_goes_on(int failing)
    {
        using var pool = new WorkerPool(2);
        for (int i = 0; i < 200; i++)
        {
            var work = new FailingWork(failing);
            if (failing >= 0)
            {
                var error = Assert.Throws<InvalidOperationException>(() => pool.Run((IWorkerShared)work, 8));
                Assert.StartsWith("share ", error.Message);
            }
            else
            {
                try
                {
                    pool.Run((IWorkerShared)work, 8); // throws when worker 1 got a share
                }
                catch (InvalidOperationException error)
                {
                    Assert.StartsWith("share ", error.Message);
                }
            }

            Assert.InRange(work.Ran, 1, 8); // after a failure the remaining shares are skipped

            var coverage = new CoverageWork(2);
            pool.Run((IWorkerShared)coverage, 8); // no failure left over from the last call
            Assert.All(coverage.Covered, c => Assert.Equal(1, c));
        }
    }

    [Fact]
    public void A_disposed_pool_refuses_work_and_its_threads_have_ended()
    {
        var threads = new List<Thread>();
        var pool = new WorkerPool(3, beforeClaim: _ =>
        {
            lock (threads)
            {
                if (!threads.Contains(Thread.CurrentThread))
                {
                    threads.Add(Thread.CurrentThread);
                }
            }
        });
        var work = new CoverageWork(3);
        for (int i = 0; i < 10_000_000 && Count() < 2; i++)
        {
            pool.Run((IWorkerShared)work, 6); // until both workers have seen a call
        }

        pool.Dispose();
        pool.Dispose(); // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => pool.Run((IWorkerShared)work, 6));
        Assert.Equal(2, threads.Count);
        Assert.All(threads, t => Assert.False(t.IsAlive));

        int Count()
        {
            lock (threads)
            {
                return threads.Count;
            }
        }
    }

    /// <summary>A tail over <see cref="CoverageWork.Units"/> units that takes a while, counting what threads other than
    /// <paramref name="caller"/> ran.</summary>
    private sealed class TailWork(int caller, int spin = 2_000, int failing = -1) : IShared
    {
        public int[] Covered { get; } = new int[CoverageWork.Units];

        public int ByWorkers;

        public void Execute(int share, int shares)
        {
            if (Environment.CurrentManagedThreadId != caller)
            {
                Interlocked.Increment(ref ByWorkers);
            }

            Thread.SpinWait(spin);
            if (share == failing)
            {
                throw new InvalidOperationException($"tail {share}");
            }

            (int start, int end) = LayerProducts.Split(CoverageWork.Units, share, shares);
            for (int u = start; u < end; u++)
            {
                Interlocked.Increment(ref Covered[u]);
            }
        }
    }

    [Theory]
    [InlineData(2, 8, 2_000)]
    [InlineData(3, 12, 300)] // more threads than this machine's cores
    [InlineData(8, 5, 100)]
    public void Every_tail_share_runs_once_and_the_next_call_finishes_the_last_tail_first(int workers, int shares, int calls)
    {
        using var pool = new WorkerPool(workers);
        var work = new CoverageWork(workers);
        var tail = new TailWork(Environment.CurrentManagedThreadId);
        for (int i = 0; i < calls; i++)
        {
            if (i % 2 == 0)
            {
                pool.Run((IShared)work, shares, tail);
            }
            else
            {
                pool.Run((IWorkerShared)work, shares, tail); // the per-worker form, as the trainer's products run
            }

            Assert.All(tail.Covered, c => Assert.InRange(c, i, i + 1)); // the last call's tail is done, this one's perhaps not yet
        }

        pool.CompleteTails();
        Assert.All(work.Covered, c => Assert.Equal(calls, c));
        Assert.All(tail.Covered, c => Assert.Equal(calls, c));
    }

    [Fact]
    public void Workers_take_their_tail_shares()
    {
        using var pool = new WorkerPool(2);
        var tail = new TailWork(Environment.CurrentManagedThreadId, spin: 200);
        for (int i = 0; i < 100_000 && tail.ByWorkers == 0; i++)
        {
            pool.Run((IShared)new CoverageWork(2), 2, tail);
        }

        Assert.True(tail.ByWorkers > 0, "worker 1 never ran its tail share");
    }

    [Fact]
    public void A_worker_that_is_never_scheduled_leaves_its_tail_to_the_caller()
    {
        using var held = new ManualResetEventSlim(false);
        var pool = new WorkerPool(2, beforeClaim: _ => held.Wait());
        var work = new CoverageWork(2);
        var tail = new TailWork(Environment.CurrentManagedThreadId, spin: 20);
        for (int i = 0; i < 500; i++)
        {
            pool.Run((IWorkerShared)work, 4, tail);
        }

        pool.CompleteTails();
        Assert.All(tail.Covered, c => Assert.Equal(500, c));
        Assert.Equal(0, tail.ByWorkers);
        held.Set();
        pool.Dispose();
    }

    [Theory]
    [InlineData(2, 0)] // the caller's own tail share
    [InlineData(2, 1)] // the worker's, or the caller's when it takes it over (or runs the call alone)
    [InlineData(1, 0)] // a pool of one runs every call alone
    public void A_failing_tail_is_rethrown_when_the_tails_are_completed(int threads, int failing)
    {
        using var pool = new WorkerPool(threads);
        for (int i = 0; i < 50; i++)
        {
            pool.Run((IShared)new CoverageWork(2), 2, new TailWork(Environment.CurrentManagedThreadId, spin: 20, failing));
            var error = Assert.Throws<InvalidOperationException>(pool.CompleteTails);
            Assert.Equal($"tail {failing}", error.Message);
            pool.CompleteTails(); // nothing left over
        }
    }

    [Fact]
    public void Shares_must_be_positive()
    {
        using var pool = new WorkerPool(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Run((IWorkerShared)new CoverageWork(2), 0));
    }

    private sealed class QuietWork : IWorkerShared, IShared
    {
        public void Execute(int share, int shares, int worker) => Thread.SpinWait(50);

        public void Execute(int share, int shares) => Thread.SpinWait(50);
    }

    [Fact]
    public void Calls_allocate_nothing_on_any_thread()
    {
        using var pool = new WorkerPool(2);
        var work = new QuietWork();
        var rounds = new long[4];
        for (int round = -1; round < rounds.Length; round++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 20_000; i++)
            {
                pool.Run((IWorkerShared)work, 8);
                pool.Run((IShared)work, 8, tail: work);
                pool.Run((IWorkerShared)work, 8, tail: work);
            }

            if (round >= 0)
            {
                rounds[round] = GC.GetTotalAllocatedBytes(precise: true) - before;
            }
        }

        // Process-wide counting also sees the test host's own threads now and then, so quiet rounds are the proof:
        // an allocation of ours, on any thread, would show in every round.
        Assert.True(rounds.Count(r => r == 0) >= rounds.Length / 2, string.Join(", ", rounds));
    }
}
