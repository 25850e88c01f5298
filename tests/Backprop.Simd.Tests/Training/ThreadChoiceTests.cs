using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests.Training;

/// <summary>
/// The choice between mini-batches shared among the threads and run on the calling thread alone, fed made-up times:
/// it runs the cheaper way, probes the other rarely, follows a change of machine, and ignores the settling batches.
/// </summary>
public class ThreadChoiceTests
{
    private const long Block = 1_000; // ticks of timed mini-batches per block
    private const int Samples = 10;

    /// <summary>Feeds <paramref name="batches"/> mini-batches costing <paramref name="shared"/> or
    /// <paramref name="alone"/> ticks, whichever way the choice says; returns how many ran alone.</summary>
    private static int Feed(ThreadChoice choice, int batches, long shared, long alone)
    {
        int aloneCount = 0;
        for (int i = 0; i < batches; i++)
        {
            aloneCount += choice.Alone ? 1 : 0;
            choice.Record(choice.Alone ? alone : shared, Samples);
        }

        return aloneCount;
    }

    [Fact]
    public void Both_ways_are_timed_first_sharing_first()
    {
        var choice = new ThreadChoice(Block);
        Assert.False(choice.Alone);
        int perBlock = ThreadChoice.SettlingBatches + (int)(Block / 100); // batches of 100 ticks
        Assert.Equal(0, Feed(choice, perBlock, shared: 100, alone: 100));
        Assert.True(choice.Alone, "the second block runs alone");
        Assert.Equal(perBlock, Feed(choice, perBlock, shared: 100, alone: 100));
        Assert.False(choice.Alone, "a tie goes to sharing");
        Assert.Equal(2 * perBlock, choice.SharedBatches + choice.AloneBatches);
    }

    [Theory]
    [InlineData(100, 150, false)] // sharing a third faster: it shares
    [InlineData(150, 100, true)]  // sharing a third slower: it runs alone
    [InlineData(100, 99, false)]  // within the margin: sharing stays
    public void The_cheaper_way_runs_and_the_other_is_probed_rarely(long shared, long alone, bool aloneWins)
    {
        var choice = new ThreadChoice(Block);
        const int batches = 20_000;
        int aloneCount = Feed(choice, batches, shared, alone);
        double losing = (aloneWins ? batches - aloneCount : aloneCount) / (double)batches;

        // One block in MinInterval at first, one in MaxInterval once the probes keep losing.
        Assert.True(losing < 0.05, $"the losing way ran {losing:P1} of the mini-batches");
        Assert.True(losing > 0, "the losing way was never probed");
        Assert.Equal(batches, choice.SharedBatches + choice.AloneBatches);
        Assert.Equal(aloneCount, choice.AloneBatches);
    }

    [Fact]
    public void A_change_of_machine_changes_the_choice()
    {
        var choice = new ThreadChoice(Block);
        int perBlock = ThreadChoice.SettlingBatches + (int)(Block / 100);
        Feed(choice, 20_000, shared: 100, alone: 150); // alone is probed every MaxInterval blocks by now
        Assert.True(Feed(choice, 1_000, shared: 100, alone: 150) < 100);

        // Another process takes a core: sharing costs twice as much. Sharing's own blocks show it at once.
        Feed(choice, 3 * perBlock, shared: 200, alone: 150);
        Assert.True(Feed(choice, 1_000, shared: 200, alone: 150) > 900);

        // It leaves again: the next probe of sharing, at most MaxInterval times the cost ratio blocks later, shows it.
        Feed(choice, 2 * ThreadChoice.MaxInterval * perBlock, shared: 100, alone: 150);
        Assert.True(Feed(choice, 1_000, shared: 100, alone: 150) < 100);
    }

    /// <summary>A losing way much dearer than the other is probed more rarely: its share of the time stays small.</summary>
    [Theory]
    [InlineData(100, 800)]
    [InlineData(800, 100)]
    public void A_much_dearer_way_takes_a_small_share_of_the_time(long shared, long alone)
    {
        var choice = new ThreadChoice(Block);
        long losing = 0, total = 0;
        for (int i = 0; i < 100_000; i++)
        {
            long ticks = choice.Alone ? alone : shared;
            losing += choice.Alone == (alone > shared) ? ticks : 0;
            total += ticks;
            choice.Record(ticks, Samples);
        }

        Assert.True(losing < total * 0.04, $"the losing way took {(double)losing / total:P1} of the time");
    }

    [Fact]
    public void The_settling_batches_of_a_block_are_not_timed()
    {
        var choice = new ThreadChoice(Block);

        // Sharing's first batches after each change are very slow (a worker waking up), the rest fast: a block of
        // 10 timed batches of 100 ticks; alone, 8 of 125.
        for (int block = 0; block < 2; block++)
        {
            bool alone = choice.Alone;
            for (int i = 0; i < ThreadChoice.SettlingBatches + (alone ? 8 : 10); i++)
            {
                Assert.Equal(alone, choice.Alone);
                choice.Record(!alone && i < ThreadChoice.SettlingBatches ? 1_000_000 : alone ? 125 : 100, Samples);
            }
        }

        Assert.False(choice.Alone, "the slow settling batches were counted against sharing");
    }
}
