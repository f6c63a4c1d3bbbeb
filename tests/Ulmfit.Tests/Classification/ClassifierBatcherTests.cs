using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Training;
using static Ulmfit.Tests.Classification.TinyClassifiers;

namespace Ulmfit.Tests.Classification;

public class ClassifierBatcherTests
{
    static ClassifierBatcher Batcher(int[] lengths, ClassifierBatchingOptions options, int maxLength = 1440) =>
        new(new InMemoryTokenDocuments(Documents(lengths, seed: 4)), Config(maxLength: maxLength), options);

    static int[] RandomLengths(int count, ulong seed, int max = 60)
    {
        var random = new Xoshiro256StarStar(seed);
        return [.. Enumerable.Range(0, count).Select(_ => 1 + random.NextInt(max))];
    }

    [Fact]
    public void Each_training_epoch_has_every_document_once_and_no_batch_of_a_single_document()
    {
        var batcher = Batcher(RandomLengths(201, 1), new ClassifierBatchingOptions { BatchSize = 8, SortChunkBatches = 5 });

        var batches = batcher.TrainingBatches(new Xoshiro256StarStar(7));

        Assert.Equal(Enumerable.Range(0, 201), batches.SelectMany(b => b).Order());
        Assert.All(batches, b => Assert.InRange(b.Length, 2, 9)); // 201 = 5 chunks of 40 + 1: the odd one joins a batch
        Assert.Equal(201, batcher.TrainingBatches(new Xoshiro256StarStar(8)).Sum(b => b.Length));
    }

    [Fact]
    public void Training_batches_are_sorted_longest_first_and_the_longest_document_comes_first()
    {
        var lengths = RandomLengths(300, 2);
        var batcher = Batcher(lengths, new ClassifierBatchingOptions { BatchSize = 10, SortChunkBatches = 3 });

        var batches = batcher.TrainingBatches(new Xoshiro256StarStar(8));

        Assert.All(batches, b => Assert.Equal(b.Select(i => lengths[i]).OrderDescending(), b.Select(i => lengths[i])));
        Assert.Equal(lengths.Max(), lengths[batches[0][0]]);
        // Sorting within chunks keeps padding far below that of random batches.
        long padding = batches.Sum(b => b.Sum(i => (long)(lengths[b[0]] - lengths[i])));
        var random = new Xoshiro256StarStar(9);
        var shuffled = Enumerable.Range(0, 300).ToArray();
        random.Shuffle(shuffled);
        long randomPadding = shuffled.Chunk(10).Sum(b => b.Sum(i => (long)(b.Max(j => lengths[j]) - lengths[i])));
        Assert.True(padding * 2 < randomPadding, $"sorted padding {padding}, random {randomPadding}");
    }

    [Fact]
    public void Training_order_repeats_with_the_seed_and_changes_from_epoch_to_epoch()
    {
        var batcher = Batcher(RandomLengths(100, 3), new ClassifierBatchingOptions { BatchSize = 8 });
        var a = new Xoshiro256StarStar(5);
        var b = new Xoshiro256StarStar(5);

        var first = batcher.TrainingBatches(a);
        Assert.Equal(first, batcher.TrainingBatches(b));
        Assert.NotEqual(first, batcher.TrainingBatches(a));
    }

    [Fact]
    public void The_token_budget_gives_batches_of_long_documents_fewer_rows()
    {
        int[] lengths = [.. Enumerable.Repeat(100, 20), .. Enumerable.Repeat(10, 40)];
        var batcher = Batcher(lengths, new ClassifierBatchingOptions { BatchSize = 16, MaxTokensPerBatch = 400 }, maxLength: 50);

        var batches = batcher.InferenceBatches();

        // Long documents count min(100, maxLength 50) tokens: 8 rows fit 400; short ones are capped by the batch size.
        Assert.All(batches.Where(b => lengths[b[0]] == 100), b => Assert.True(b.Length <= 8));
        Assert.Contains(batches, b => b.Length == 16 && lengths[b[0]] == 10);
        Assert.Equal(Enumerable.Range(0, 60), batches.SelectMany(b => b).Order());
    }

    [Fact]
    public void Inference_batches_cover_every_document_sorted_by_length_longest_first()
    {
        var lengths = RandomLengths(77, 4);
        var batcher = Batcher(lengths, new ClassifierBatchingOptions { BatchSize = 10 });

        var order = batcher.InferenceBatches().SelectMany(b => b).ToArray();

        Assert.Equal(Enumerable.Range(0, 77), order.Order());
        Assert.Equal(order.Select(i => lengths[i]).OrderDescending(), order.Select(i => lengths[i]));
    }

    [Fact]
    public void A_built_batch_pads_at_the_end_and_records_lengths_and_sources()
    {
        var documents = new InMemoryTokenDocuments([[5, 6], [7, 8, 9, 10], [11]]);
        var batcher = new ClassifierBatcher(documents, Config());

        using var batch = batcher.Build([1, 0, 2]);

        Assert.Equal([3L, 4], batch.Tokens.shape);
        Assert.Equal(new long[] { 7, 8, 9, 10, 5, 6, 1, 1, 11, 1, 1, 1 }, batch.Tokens.data<long>().ToArray());
        Assert.Equal([4L, 2, 1], batch.Lengths);
        Assert.Equal([1, 0, 2], batch.DocumentIndices);
    }

    [Fact]
    public void An_empty_document_is_refused_with_its_index()
    {
        var documents = new InMemoryTokenDocuments([[5, 6], []]);

        var error = Assert.Throws<ArgumentException>(() => new ClassifierBatcher(documents, Config()));
        Assert.Contains("document 1", error.Message);
    }
}
