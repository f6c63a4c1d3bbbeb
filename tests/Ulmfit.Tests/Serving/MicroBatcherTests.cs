using System.Collections.Concurrent;
using Ulmfit.Classification;
using Ulmfit.Cli.Serving;

namespace Ulmfit.Tests.Serving;

public class MicroBatcherTests
{
    // A stand-in model: each text's "label" is the text itself, so a result shows whose text it answers.
    static IReadOnlyList<ClassificationPrediction> Echo(IReadOnlyList<string> texts) =>
        [.. texts.Select(t => new ClassificationPrediction(t, 0, [t], [1f]))];

    [Fact]
    public async Task Should_Gather_Concurrent_Requests_Into_One_Batch_And_Route_Results_In_Order()
    {
        // Given a batcher that waits long enough for three callers to arrive
        var batches = new ConcurrentQueue<BatchRecord>();
        using var batcher = new MicroBatcher(Echo, maxBatch: 64, maxDelay: TimeSpan.FromMilliseconds(300), onBatch: batches.Enqueue);

        // When three callers ask at once
        var a = batcher.ClassifyAsync(["a1", "a2"]);
        var b = batcher.ClassifyAsync(["b1"]);
        var c = batcher.ClassifyAsync(["c1", "c2", "c3"]);
        var results = await Task.WhenAll(a, b, c).WaitAsync(TimeSpan.FromSeconds(10));

        // Then one batched call answered all of them, each with its own texts in its order
        Assert.Equal(["a1", "a2"], results[0].Select(p => p.Label));
        Assert.Equal(["b1"], results[1].Select(p => p.Label));
        Assert.Equal(["c1", "c2", "c3"], results[2].Select(p => p.Label));
        var batch = Assert.Single(batches);
        Assert.Equal(6, batch.Texts);
        Assert.Equal(3, batch.Requests);
        Assert.Equal(0, batcher.QueuedTexts);
    }

    [Fact]
    public async Task Should_Split_A_Request_Larger_Than_Max_Batch_Into_Full_Batches()
    {
        var sizes = new ConcurrentQueue<int>();
        using var batcher = new MicroBatcher(texts => { sizes.Enqueue(texts.Count); return Echo(texts); }, maxBatch: 4, maxDelay: TimeSpan.Zero);

        string[] texts = [.. Enumerable.Range(0, 10).Select(i => $"t{i}")];
        var result = await batcher.ClassifyAsync(texts).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(texts, result.Select(p => p.Label));
        Assert.Equal([4, 4, 2], sizes);
    }

    [Fact]
    public async Task Should_Not_Wait_Past_The_Delay_For_A_Batch_To_Fill()
    {
        using var batcher = new MicroBatcher(Echo, maxBatch: 64, maxDelay: TimeSpan.FromMilliseconds(20));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await batcher.ClassifyAsync(["alone"]).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.InRange(clock.ElapsedMilliseconds, 0, 2_000);
    }

    [Fact]
    public async Task Should_Fail_Only_The_Callers_Of_A_Failing_Batch_And_Keep_Serving()
    {
        int calls = 0;
        using var batcher = new MicroBatcher(texts => Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("boom") : Echo(texts),
            maxBatch: 8, maxDelay: TimeSpan.Zero);

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.ClassifyAsync(["x"]).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("boom", failed.Message);
        var next = await batcher.ClassifyAsync(["y"]).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("y", Assert.Single(next).Label);
        Assert.Equal(0, batcher.QueuedTexts);
    }

    [Fact]
    public async Task Should_Refuse_Requests_Beyond_The_Queue_Limit_At_Once()
    {
        // Given a model that is busy until released
        using var release = new ManualResetEventSlim();
        using var batcher = new MicroBatcher(texts => { release.Wait(TimeSpan.FromSeconds(10)); return Echo(texts); },
            maxBatch: 2, maxDelay: TimeSpan.Zero, maxQueuedTexts: 3);

        var first = batcher.ClassifyAsync(["a", "b", "c"]);
        Assert.Throws<QueueFullException>(() => { _ = batcher.ClassifyAsync(["d"]); }); // refused at once, not queued
        release.Set();
        Assert.Equal(3, (await first.WaitAsync(TimeSpan.FromSeconds(10))).Length);
        Assert.Single(await batcher.ClassifyAsync(["e"]).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Should_Finish_What_Is_Queued_When_Completed_Then_Refuse_More()
    {
        var batcher = new MicroBatcher(Echo, maxBatch: 8, maxDelay: TimeSpan.FromMilliseconds(200));
        var pending = batcher.ClassifyAsync(["last"]);
        batcher.Complete();
        Assert.Equal("last", Assert.Single(await pending.WaitAsync(TimeSpan.FromSeconds(10))).Label);
        Assert.Throws<InvalidOperationException>(() => { _ = batcher.ClassifyAsync(["late"]); });
        batcher.Dispose();
    }
}
