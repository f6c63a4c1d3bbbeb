using TorchSharp;
using Ulmfit.Data;
using Ulmfit.Engine;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Training;

public class LanguageModelBatcherTests
{
    public LanguageModelBatcherTests() => TorchRuntime.Initialise(2);

    static readonly LanguageModelBatcherOptions Fixed = new() { BatchSize = 3, Bptt = 4, Shuffle = false, VariableLength = false };

    /// <summary>All batches of the current epoch as (input rows, target rows) arrays.</summary>
    static List<(long[][] Input, long[][] Target)> Epoch(LanguageModelBatcher batcher)
    {
        var batches = new List<(long[][], long[][])>();
        using var scope = NewDisposeScope();
        while (batcher.NextBatch() is { } batch)
            batches.Add((Rows(batch.Input), Rows(batch.Target)));
        return batches;
    }

    static long[][] Rows(Tensor t)
    {
        long[] flat = t.data<long>().ToArray();
        int width = (int)t.shape[1];
        return [.. Enumerable.Range(0, (int)t.shape[0]).Select(r => flat.AsSpan(r * width, width).ToArray())];
    }

    static long[] Row(List<(long[][] Input, long[][] Target)> batches, int row, bool targets = false) =>
        [.. batches.SelectMany(b => targets ? b.Target[row] : b.Input[row])];

    [Fact]
    public void Rows_are_contiguous_stretches_of_the_stream_and_targets_are_inputs_shifted_by_one()
    {
        // Stream: doc0 (0..9), doc1 (1000..1006), doc2 (2000..2004) = 22 tokens; 3 rows of 7 (1 token dropped).
        var documents = TinyCorpus.Labelled(10, 7, 5);
        long[] stream = [.. Enumerable.Range(0, 10), .. Enumerable.Range(1000, 7), .. Enumerable.Range(2000, 5)];
        var batcher = new LanguageModelBatcher(documents, Fixed);
        Assert.Equal(7, batcher.RowLength);

        var batches = Epoch(batcher);

        Assert.Equal([4, 2], batches.Select(b => b.Input[0].Length)); // 6 predictions per row: bptt 4, then the rest
        for (int r = 0; r < 3; r++)
        {
            Assert.Equal(stream.AsSpan(r * 7, 6).ToArray(), Row(batches, r));
            Assert.Equal(stream.AsSpan(r * 7 + 1, 6).ToArray(), Row(batches, r, targets: true));
        }
        Assert.True(batcher.EpochFinished);
        Assert.Null(batcher.NextBatch());
    }

    [Fact]
    public void Batches_are_int64_of_shape_batch_by_sequence()
    {
        var batcher = new LanguageModelBatcher(TinyCorpus.Labelled(40), Fixed);
        using var batch = batcher.NextBatch()!;
        Assert.Equal(ScalarType.Int64, batch.Input.dtype);
        Assert.Equal(ScalarType.Int64, batch.Target.dtype);
        Assert.Equal([3L, 4L], batch.Input.shape);
        Assert.Equal([3L, 4L], batch.Target.shape);
        Assert.Equal(12, batch.TokenCount);
    }

    [Fact]
    public void Backwards_reverses_every_document_before_concatenation()
    {
        var batcher = new LanguageModelBatcher(TinyCorpus.Labelled(4, 3, 5), Fixed with { BatchSize = 1, Bptt = 20, Backwards = true });
        var batches = Epoch(batcher);
        long[] expected = [3, 2, 1, 0, 1002, 1001, 1000, 2004, 2003, 2002, 2001]; // the last token is only a target
        Assert.Equal(expected, Row(batches, 0));
        Assert.Equal(2000, Row(batches, 0, targets: true)[^1]);
    }

    [Fact]
    public void Shuffled_epochs_use_every_document_once_in_a_new_order_that_the_seed_fixes()
    {
        var documents = TinyCorpus.Labelled([.. Enumerable.Repeat(5, 30)]);
        var options = Fixed with { BatchSize = 1, Bptt = 1000, Shuffle = true };
        var batcher = new LanguageModelBatcher(documents, options);

        var firstBatches = Epoch(batcher);
        long[] first = [.. Row(firstBatches, 0), Row(firstBatches, 0, targets: true)[^1]]; // inputs + the final target
        batcher.StartNextEpoch();
        long[] second = Row(Epoch(batcher), 0);
        long[] firstAgain = Row(Epoch(new LanguageModelBatcher(documents, options)), 0);

        long[] natural = [.. Enumerable.Range(0, 30).SelectMany(d => Enumerable.Range(d * 1000, 5)).Select(x => (long)x)];
        Assert.Equal(natural, first.Order());
        Assert.NotEqual(natural, first);
        Assert.NotEqual(first[..^1], second);
        Assert.Equal(first[..^1], firstAgain);
        // Documents stay whole: every token of a document follows its predecessor.
        for (int i = 1; i < first.Length; i++)
            if (first[i] % 1000 != 0) Assert.Equal(first[i - 1] + 1, first[i]);
    }

    [Fact]
    public void Max_tokens_takes_a_prefix_of_the_shuffled_stream()
    {
        var documents = TinyCorpus.Labelled([.. Enumerable.Repeat(10, 20)]); // 200 tokens
        var batcher = new LanguageModelBatcher(documents, Fixed with { BatchSize = 2, MaxTokens = 50, Shuffle = true });
        Assert.Equal(25, batcher.RowLength);
        Assert.Equal(48, batcher.TokensPerEpoch);
        var batches = Epoch(batcher);
        Assert.Equal(24, Row(batches, 0).Length);
    }

    [Fact]
    public void Variable_windows_follow_fastais_rule()
    {
        var documents = TinyCorpus.Labelled([.. Enumerable.Repeat(1000, 200)]); // 200k tokens, 1 row
        var batcher = new LanguageModelBatcher(documents, new LanguageModelBatcherOptions { BatchSize = 1, Bptt = 70, Seed = 7 });
        var lengths = new List<int>();
        using (var scope = NewDisposeScope())
            while (batcher.NextBatch() is { } batch) lengths.Add(batch.SequenceLength);
        lengths.RemoveAt(lengths.Count - 1); // the last window is cut to fit

        Assert.All(lengths, l => Assert.InRange(l, 5, 95));                 // at least 5, at most bptt + 25
        double halfWindows = lengths.Count(l => l < 53) / (double)lengths.Count; // bptt/2 = 35 ± 5σ reaches 52
        Assert.InRange(halfWindows, 0.04, 0.06);                             // chosen with probability 0.05
        var full = lengths.Where(l => l >= 53).ToList();
        Assert.InRange(full.Average(), 69.2, 69.8);                          // truncation: mean of int(N(70, 5)) ≈ 69.5
        double sd = Math.Sqrt(full.Average(l => Math.Pow(l - full.Average(), 2)));
        Assert.InRange(sd, 4.8, 5.3);
    }

    [Fact]
    public void A_restored_position_reproduces_the_following_batches_exactly()
    {
        var documents = TinyCorpus.Labelled([.. Enumerable.Range(0, 40).Select(i => 20 + i % 7)]);
        var options = new LanguageModelBatcherOptions { BatchSize = 4, Bptt = 10, Seed = 3 };
        var original = new LanguageModelBatcher(documents, options);
        using (var scope = NewDisposeScope()) { original.NextBatch(); original.NextBatch(); }
        var position = original.Position;
        var rest = Epoch(original);
        original.StartNextEpoch();
        var nextEpoch = Epoch(original);

        var resumed = new LanguageModelBatcher(documents, options);
        resumed.Restore(position);
        var resumedRest = Epoch(resumed);
        resumed.StartNextEpoch();
        var resumedNext = Epoch(resumed);

        Assert.Equal(Flatten(rest), Flatten(resumedRest));
        Assert.Equal(Flatten(nextEpoch), Flatten(resumedNext));
    }

    static long[] Flatten(List<(long[][] Input, long[][] Target)> batches) =>
        [.. batches.SelectMany(b => b.Input.SelectMany(r => r).Concat(b.Target.SelectMany(r => r)))];

    [Fact]
    public void Counting_batches_ahead_matches_the_batches_actually_drawn()
    {
        var documents = TinyCorpus.Labelled([.. Enumerable.Repeat(97, 50)]);
        var batcher = new LanguageModelBatcher(documents, new LanguageModelBatcherOptions { BatchSize = 5, Bptt = 12, Seed = 11 });
        long predicted = batcher.CountBatchesUntilEpoch(3);
        long drawn = 0;
        for (int epoch = 0; epoch < 3; epoch++, batcher.StartNextEpoch())
            drawn += Epoch(batcher).Count;
        Assert.Equal(predicted, drawn);
    }

    [Fact]
    public void Empty_documents_are_skipped()
    {
        var documents = new InMemoryTokenDocuments([[1, 2], [], [3], [], [], [4, 5, 6]]);
        var batcher = new LanguageModelBatcher(documents, Fixed with { BatchSize = 1, Bptt = 10 });
        Assert.Equal([1L, 2, 3, 4, 5], Row(Epoch(batcher), 0));
    }

    [Fact]
    public void A_corpus_too_small_for_the_batch_size_is_rejected_with_the_numbers()
    {
        var error = Assert.Throws<ArgumentException>(() => new LanguageModelBatcher(TinyCorpus.Labelled(5), Fixed with { BatchSize = 4 }));
        Assert.Contains("5 tokens", error.Message);
        Assert.Contains("4 rows", error.Message);
    }
}
