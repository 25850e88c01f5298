using System.Diagnostics;
using Backprop.Simd.Data;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests.Hostile;

/// <summary>
/// Misuse that used to fail badly: sizes that overflow or exhaust memory, thread counts far beyond the cores, and
/// one workspace or one <see cref="BatchInference"/> shared by several threads.
/// </summary>
public sealed class MisuseTests
{
    [Fact]
    public void Sizes_beyond_one_array_are_an_ArgumentOutOfRangeException_naming_sizes_not_an_OverflowException()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Network([784, 100_000_000, 10], seed: 1));
        Assert.Equal("sizes", e.ParamName);
        Assert.Contains("sizes [784, 100000000, 10] describe 79,500,000,010 parameters (296.2 GiB as floats), more than one array can hold", e.Message);

        Assert.Equal("sizes", Assert.Throws<ArgumentOutOfRangeException>(() => new Network([int.MaxValue, int.MaxValue, int.MaxValue, 2], seed: 1)).ParamName);
        Assert.Equal("sizes", Assert.Throws<ArgumentOutOfRangeException>(() => new Network([2, 50_000, 50_000, 2], new float[4])).ParamName);
    }

    [Fact]
    public void A_batch_capacity_beyond_one_array_is_refused_before_allocating()
    {
        var network = new Network([784, 30, 10], seed: 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Workspace(network, capacity: 100_000_000));
        Assert.Equal("capacity", e.ParamName);
        Assert.Contains("100000000 samples x 40 neurons is 4,000,000,000 floats per arena", e.Message);
    }

    [Fact]
    public void A_mini_batch_larger_than_the_data_is_one_batch_of_everything()
    {
        var network = new Network([20, 8, 3], seed: 2);
        Dataset data = TestData.RandomDataset(100, 20, 3, seed: 3);
        using var huge = new Trainer(network.Clone(), data, new TrainingOptions { MiniBatchSize = 10_000_000, Shuffle = false });
        using var exact = new Trainer(network.Clone(), data, new TrainingOptions { MiniBatchSize = 100, Shuffle = false });

        Assert.Equal(100, huge.Workspace.Capacity); // the 100 samples, not 10,000,000
        huge.RunEpoch();
        exact.RunEpoch();
        Assert.Equal(exact.Network.Parameters.ToArray(), huge.Network.Parameters.ToArray());
    }

    [Fact]
    public void Thread_counts_beyond_four_per_core_are_refused_naming_the_option()
    {
        var network = new Network([20, 8, 3], seed: 2);
        Dataset data = TestData.RandomDataset(50, 20, 3, seed: 3);
        int tooMany = TrainingOptions.MaxThreads + 1;

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(network, data, new TrainingOptions { Threads = tooMany }));
        Assert.Equal("Threads", e.ParamName);
        Assert.Contains($"Threads is {tooMany}, but this machine has {Environment.ProcessorCount} cores and at most {TrainingOptions.MaxThreads} threads", e.Message);
        Assert.Equal("threads", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchInference(network, tooMany)).ParamName);
    }

    [Fact]
    public void The_most_threads_allowed_finish_an_epoch_promptly_with_the_single_thread_result()
    {
        var network = new Network([784, 30, 10], seed: 4);
        Dataset data = TestData.RandomDataset(1000, 784, 10, seed: 5);
        using var one = new Trainer(network.Clone(), data, new TrainingOptions { Seed = 6, Threads = 1 });
        using var most = new Trainer(network.Clone(), data, new TrainingOptions { Seed = 6, Threads = TrainingOptions.MaxThreads });

        one.RunEpoch(data);
        var clock = Stopwatch.StartNew();
        most.RunEpoch(data);
        most.RunEpoch(data);
        clock.Stop();

        one.RunEpoch(data);
        Assert.Equal(one.Network.Parameters.ToArray(), most.Network.Parameters.ToArray());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"two epochs of 1,000 samples on {TrainingOptions.MaxThreads} threads took {clock.Elapsed}");
    }

    [Fact]
    public void A_workspace_in_use_refuses_a_second_call_and_is_free_again_afterwards()
    {
        var network = new Network([10, 6, 4], seed: 1);
        var workspace = new Workspace(network, capacity: 8);
        Dataset data = TestData.RandomDataset(8, 10, 4, seed: 2);
        float[] x = data.Input(0).ToArray();

        using (workspace.Use(1)) // as another thread in the middle of a call would hold it
        {
            Assert.Contains("workspace is in use by another call", Assert.Throws<InvalidOperationException>(() => network.FeedForward(x, workspace)).Message);
            Assert.Throws<InvalidOperationException>(() => network.Predict(x, workspace));
            Assert.Throws<InvalidOperationException>(() => Backpropagation.Backprop(network, workspace, x, data.Target(0)));
            Assert.Throws<InvalidOperationException>(() => Evaluation.Evaluate(network, workspace, data));
            Assert.Throws<InvalidOperationException>(() => Evaluation.TotalCost(network, workspace, data));
        }

        Assert.Equal(network.FeedForward(x, new Workspace(network)).ToArray(), network.FeedForward(x, workspace).ToArray());
        Assert.Throws<ArgumentException>(() => network.FeedForward(new float[3], workspace)); // a failed check leaves it free
        Evaluation.Evaluate(network, workspace, data);
    }

    [Fact]
    public void A_trainer_used_from_another_thread_during_a_mini_batch_throws_instead_of_corrupting_it()
    {
        var network = new Network([10, 6, 4], seed: 1);
        Dataset data = TestData.RandomDataset(40, 10, 4, seed: 2);
        using var sgd = new Trainer(network, data, new TrainingOptions { MiniBatchSize = 10 });
        Exception? during = null;
        sgd.RunEpoch(progress: (_, _) => during ??= Record.Exception(() => network.Predict(data.Input(0), sgd.Workspace)));
        Assert.Null(during); // between mini-batches the workspace is free, as the progress callback may use it

        using (sgd.Workspace.Use(1))
        {
            Assert.Throws<InvalidOperationException>(() => sgd.RunEpoch());
            Assert.Throws<InvalidOperationException>(() => sgd.Evaluate(data));
        }
    }

    [Theory]
    [InlineData(Optimizer.Sgd, 1)]
    [InlineData(Optimizer.Momentum, 1)]
    [InlineData(Optimizer.Adam, 2)]
    public async Task A_claim_that_fails_mid_epoch_restores_the_parameters_of_the_epochs_start(Optimizer optimizer, int threads)
    {
        var network = new Network([10, 6, 4], seed: 1);
        Dataset data = TestData.RandomDataset(40, 10, 4, seed: 2);
        using var sgd = new Trainer(network, data, new TrainingOptions { MiniBatchSize = 10, Optimizer = optimizer, Threads = threads });
        sgd.RunEpoch();
        float[] start = network.Parameters.ToArray();
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Task? holder = null;
        float[]? afterFirst = null;

        // After the first mini-batch another thread claims the workspace, so the second mini-batch's claim fails.
        var e = Assert.Throws<InvalidOperationException>(() => sgd.RunEpoch(progress: (_, _) =>
        {
            afterFirst ??= network.Parameters.ToArray();
            holder ??= Task.Run(() =>
            {
                using (sgd.Workspace.Use(1))
                {
                    held.Set();
                    release.Wait();
                }
            });
            held.Wait();
        }));
        Assert.Contains("workspace is in use", e.Message);
        Assert.NotEqual(start, afterFirst); // the first mini-batch had moved the parameters...
        Assert.Equal(start, network.Parameters.ToArray()); // ...and the failure put them back
        release.Set();
        await holder!;

        Assert.Equal(1, sgd.EpochsCompleted);
        sgd.RunEpoch(); // the workspace is free again and training goes on
        Assert.Equal(2, sgd.EpochsCompleted);
    }

    [Fact]
    public void Threads_sharing_one_workspace_get_an_exception_or_the_right_answer_never_garbage()
    {
        var network = new Network([784, 100, 10], seed: 3);
        Dataset data = TestData.RandomDataset(64, 784, 10, seed: 4);
        // One-sample sets, so that each call is one forward pass. FeedForward's span is only valid until the next
        // call on the workspace, so the threads compare what is computed while the claim holds: the cost (a function
        // of every output) and the prediction. Any garbage output changes the cost.
        Dataset[] samples = Enumerable.Range(0, data.Count).Select(i => data.Slice(i, 1)).ToArray();
        double[] expectedCost = samples.Select(sample => Evaluation.TotalCost(network, new Workspace(network), sample)).ToArray();
        int[] expectedClass = Enumerable.Range(0, data.Count).Select(i => network.Predict(data.Input(i), new Workspace(network))).ToArray();
        var shared = new Workspace(network);
        int wrong = 0, refused = 0;
        using var start = new Barrier(4);

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            start.SignalAndWait();
            // 2,000 calls each, and more while no call has been refused yet: on a busy host the threads may take
            // turns for a while before two of them meet in the workspace.
            for (int k = 0; k < 2000 || (Volatile.Read(ref refused) == 0 && k < 200_000); k++)
            {
                int i = (k + (t * 16)) % data.Count;
                try
                {
                    bool right = k % 2 == 0
                        ? Evaluation.TotalCost(network, shared, samples[i]) == expectedCost[i]
                        : network.Predict(data.Input(i), shared) == expectedClass[i];
                    if (!right)
                    {
                        Interlocked.Increment(ref wrong);
                    }
                }
                catch (InvalidOperationException)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        });

        Assert.Equal(0, wrong);
        Assert.True(refused > 0, "4 threads x 200,000 calls on one workspace never overlapped");
    }

    [Fact]
    public void BatchInference_names_blockSize_when_one_workers_arena_exceeds_an_array()
    {
        var network = new Network([784, 30, 10], seed: 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new BatchInference(network, threads: 1, blockSize: 100_000_000));
        Assert.Equal("blockSize", e.ParamName);
        Assert.Contains("100000000 samples x 40 neurons is 4,000,000,000 floats per arena", e.Message);
        Assert.Equal("blockSize", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchInference(network, threads: 2, blockSize: 100_000_000)).ParamName);
    }

    [Fact]
    public void BatchInference_names_blockSize_when_one_workers_arenas_exceed_the_memory()
    {
        // Within one array but beyond the memory available (where that is below what one array can hold).
        var wide = new Network([10, 20_000, 10], seed: 1);
        long perSample = (long)(Workspace.RequiredBytes(wide.Layout, 1) - Workspace.RequiredBytes(wide.Layout, 0));
        GC.Collect(); // so that the budget's own collection cannot free much more (a margin of 5% covers the rest)
        long tooMany = (long)(MemoryBudget.Available * 1.05) / perSample;
        Assert.SkipWhen(tooMany * wide.Layout.NeuronCount > Array.MaxLength, "this machine has more memory than one worker's arenas can use");
        Assert.Equal("blockSize", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchInference(wide, threads: 1, blockSize: (int)tooMany)).ParamName);
    }

    [Fact]
    public void BatchInference_names_threads_only_when_more_threads_push_the_arenas_beyond_the_memory()
    {
        var wide = new Network([10, 20_000, 10], seed: 1);
        long perSample = (long)(Workspace.RequiredBytes(wide.Layout, 1) - Workspace.RequiredBytes(wide.Layout, 0));
        long half = MemoryBudget.Available / 2 / perSample; // one worker fits, TrainingOptions.MaxThreads (at least 4) do not
        Assert.SkipWhen(half * wide.Layout.NeuronCount > Array.MaxLength, "this machine has more memory than one worker's arenas can use");
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new BatchInference(wide, threads: TrainingOptions.MaxThreads, blockSize: (int)half));
        Assert.Equal("threads", e.ParamName);
        Assert.Contains($"on {TrainingOptions.MaxThreads} threads", e.Message);
    }

    [Fact]
    public async Task Two_threads_calling_one_BatchInference_get_an_exception_or_the_right_answer_and_never_hang()
    {
        var network = new Network([784, 64, 10], seed: 5);
        Dataset data = TestData.RandomDataset(2000, 784, 10, seed: 6);
        float[] inputs = Enumerable.Range(0, data.Count).SelectMany(i => data.Input(i).ToArray()).ToArray();
        using var inference = new BatchInference(network, threads: 2);
        float[] expected = new float[data.Count * 10];
        inference.FeedForward(inputs, expected);
        int wrong = 0, refused = 0;
        using var start = new Barrier(2);

        Task[] callers = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
        {
            float[] outputs = new float[expected.Length];
            start.SignalAndWait();
            for (int k = 0; k < 100; k++)
            {
                try
                {
                    inference.FeedForward(inputs, outputs);
                    if (!outputs.AsSpan().SequenceEqual(expected))
                    {
                        Interlocked.Increment(ref wrong);
                    }
                }
                catch (InvalidOperationException)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        }, TaskCreationOptions.LongRunning)).ToArray();

        Task both = Task.WhenAll(callers);
        Assert.Same(both, await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken))); // else they hung
        await both;
        Assert.Equal(0, wrong);
        Assert.True(refused > 0, "two threads x 100 calls never overlapped");
        Assert.Equal(inference.Evaluate(data), Evaluation.Evaluate(network, new Workspace(network), data));
    }
}
