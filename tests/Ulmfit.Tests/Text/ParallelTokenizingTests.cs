using Ulmfit.Text;

namespace Ulmfit.Tests.Text;

/// <summary>Batch tokenizing: results in input order, identical for every thread count, safe to share.</summary>
public class ParallelTokenizingTests
{
    static readonly string[] Pieces =
    [
        "Hello", "world", ",", "don't", "GREAT", "cooool", "!!!!", "<br />", "&amp;", "U.S.", "3.5", "$5", "no no no",
        "https://x.org/a", "😂", "Привет", "日本", "state-of-the-art", "I'm", "(", ")", "...", "\n", "e.g.", "10%",
    ];

    /// <summary>Documents of random length made from <see cref="Pieces"/> with a fixed seed.</summary>
    static List<string> Documents(int count, int seed)
    {
        var random = new Random(seed);
        var documents = new List<string>(count);
        for (int d = 0; d < count; d++)
        {
            int words = random.Next(0, 120);
            documents.Add(string.Join(" ", Enumerable.Range(0, words).Select(_ => Pieces[random.Next(Pieces.Length)])));
        }
        return documents;
    }

    [Fact]
    public void Results_are_in_input_order_and_the_same_for_every_thread_count()
    {
        var tokenizer = UlmfitTokenizer.Default;
        List<string> documents = Documents(3000, seed: 7);
        var expected = documents.Select(tokenizer.Tokenize).ToArray();
        foreach (int threads in new[] { 1, 2, 3, 8, 0 })
        {
            IReadOnlyList<string>[] actual = tokenizer.TokenizeMany(documents, threads);
            Assert.Equal(expected.Length, actual.Length);
            for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k], actual[k]);
        }
    }

    [Fact]
    public void Many_threads_sharing_one_tokenizer_get_what_one_thread_gets()
    {
        var tokenizer = new UlmfitTokenizer();
        List<string> documents = Documents(400, seed: 11);
        var expected = documents.Select(tokenizer.Tokenize).ToArray();
        var results = new IReadOnlyList<string>[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            t => results[t] = documents.Select(tokenizer.Tokenize).ToArray());
        foreach (var result in results)
            for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k], result[k]);
    }

    [Fact]
    public void Documents_made_of_fields_are_tokenized_in_order()
    {
        var tokenizer = UlmfitTokenizer.Default;
        IReadOnlyList<string>[] documents = [["Title", "Body"], ["x"], []];
        var actual = tokenizer.TokenizeManyFields(documents, threads: 2);
        Assert.Equal(documents.Select(tokenizer.TokenizeFields), actual);
    }

    [Fact]
    public void Bad_batches_are_rejected_and_cancellation_is_honoured()
    {
        var tokenizer = UlmfitTokenizer.Default;
        var error = Assert.Throws<ArgumentException>(() => tokenizer.TokenizeMany(["a", null!, "b"]));
        Assert.Contains("Document 1", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.TokenizeMany(["a"], threads: -1));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => tokenizer.TokenizeMany(Documents(100, 1), 2, cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => tokenizer.TokenizeMany(Documents(100, 1), 1, cancelled.Token));
        Assert.Empty(tokenizer.TokenizeMany([]));
    }

    [Fact]
    public void Throughput_measurement_counts_documents_tokens_and_characters()
    {
        var tokenizer = UlmfitTokenizer.Default;
        List<string> documents = Documents(50, seed: 3);
        TokenizerThroughputResult result = TokenizerThroughput.Measure(tokenizer, documents, threads: 2, warmUp: false);
        Assert.Equal(50, result.Documents);
        Assert.Equal(documents.Sum(d => (long)tokenizer.Tokenize(d).Count), result.Tokens);
        Assert.Equal(documents.Sum(d => (long)d.Length), result.Characters);
        Assert.Equal(2, result.Threads);
        Assert.True(result.TokensPerSecond > 0);
    }
}
