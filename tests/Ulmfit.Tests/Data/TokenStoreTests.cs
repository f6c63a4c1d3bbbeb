using Ulmfit.Data;
using Ulmfit.Text;

namespace Ulmfit.Tests.Data;

public class TokenStoreTests
{
    static readonly TextDocument[] Corpus =
    [
        new(["the cat sat"], "pets", new DocumentOrigin("mem", 1)),
        new(["the dog ran far"], "pets", new DocumentOrigin("mem", 2)),
        new(["stocks fell"], "finance", new DocumentOrigin("mem", 3)),
        new(["unlabelled line"], null, new DocumentOrigin("mem", 4)),
    ];

    static Vocabulary VocabularyOf(IEnumerable<TextDocument> docs, int minFrequency = 1) =>
        Vocabulary.Build(TokenCounter.Count(docs, new WhitespaceTestTokenizer(), 1), new VocabularySettings(MinFrequency: minFrequency));

    static string BuildStore(TempDirectory dir, IEnumerable<TextDocument> docs, Vocabulary vocab, string name = "tokens.ulmtok")
    {
        string path = dir.PathOf(name);
        new TokenStoreBuilder(new WhitespaceTestTokenizer()).Build(docs, vocab, path);
        return path;
    }

    [Fact]
    public void Round_trip_gives_the_same_ids_and_labels()
    {
        using var dir = new TempDirectory();
        var vocab = VocabularyOf(Corpus, minFrequency: 2); // only "the" and xxbos survive: the rest is xxunk
        var tokenizer = new WhitespaceTestTokenizer();

        string path = BuildStore(dir, Corpus, vocab);
        using var store = TokenStore.Open(path, vocab);

        Assert.Equal(4, store.Count);
        Assert.Equal(Corpus.Sum(d => tokenizer.Tokenize(d).Count), store.TokenCount);
        for (int i = 0; i < Corpus.Length; i++)
        {
            Assert.Equal(vocab.Encode(tokenizer.Tokenize(Corpus[i])), store.GetIds(i));
            Assert.Equal(Corpus[i].Label, store.Label(i));
        }
        Assert.Equal(["finance", "pets"], store.LabelNames);
        Assert.Equal([1, 1, 0, -1], Enumerable.Range(0, 4).Select(store.LabelIndex));
        Assert.Equal(2, store.IdWidth);
        Assert.Equal(vocab.Hash, store.VocabHash);
        Assert.Equal("whitespace-test-1", store.TokenizerVersion);
        Assert.Null(store.CacheKey);
        Assert.Equal(store.TokenCount - 4 - 2, store.UnknownTokens); // all but xxbos (4) and "the" (2)
    }

    [Fact]
    public void The_store_serves_training_through_ITokenDocuments()
    {
        using var dir = new TempDirectory();
        var vocab = VocabularyOf(Corpus);
        using var store = TokenStore.Open(BuildStore(dir, Corpus, vocab));
        ITokenDocuments documents = store;

        var buffer = new int[documents.Length(1) + 5];
        documents.CopyTo(1, buffer);

        Assert.Equal(["xxbos", "the", "dog", "ran", "far"], vocab.Decode(buffer.AsSpan(0, documents.Length(1))));
        Assert.Throws<ArgumentOutOfRangeException>(() => documents.Length(4));
    }

    [Fact]
    public void A_vocabulary_above_65536_ids_is_stored_with_32_bit_ids()
    {
        using var dir = new TempDirectory();
        var vocab = Vocabulary.FromTokens([.. SpecialTokens.All, .. Enumerable.Range(0, 70_000).Select(i => $"w{i}")]);
        var docs = new[] { TextDocument.FromText("w0 w69999 w65536 nothing") };

        using var store = TokenStore.Open(BuildStore(dir, docs, vocab));

        Assert.Equal(4, store.IdWidth);
        Assert.Equal([2, 9, 70_008, 65_545, 0], store.GetIds(0));
        Assert.False(store.HasLabels);
    }

    [Fact]
    public void An_empty_corpus_gives_an_empty_store()
    {
        using var dir = new TempDirectory();
        var vocab = VocabularyOf(Corpus);

        using var store = TokenStore.Open(BuildStore(dir, [], vocab));

        Assert.Equal(0, store.Count);
        Assert.Equal(0, store.TokenCount);
    }

    [Fact]
    public void A_truncated_store_is_detected()
    {
        using var dir = new TempDirectory();
        string path = BuildStore(dir, Corpus, VocabularyOf(Corpus));
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^9]);

        var e = Assert.Throws<InvalidInputException>(() => TokenStore.Open(path));

        Assert.StartsWith($"{path}: ", e.Message);
        Assert.Contains("truncated", e.Message);
        File.WriteAllBytes(path, bytes[..100]);
        Assert.Contains("too short", Assert.Throws<InvalidInputException>(() => TokenStore.Open(path)).Message);
        File.WriteAllBytes(path, []);
        Assert.Contains("too short", Assert.Throws<InvalidInputException>(() => TokenStore.Open(path)).Message);
    }

    [Theory]
    [InlineData(0, "bad magic")]
    [InlineData(20, "checksum")]
    [InlineData(8, "format version")]
    public void A_damaged_header_is_detected(int offset, string problem)
    {
        using var dir = new TempDirectory();
        string path = BuildStore(dir, Corpus, VocabularyOf(Corpus));
        byte[] bytes = File.ReadAllBytes(path);
        bytes[offset] ^= 0x5A;
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InvalidInputException>(() => TokenStore.Open(path));

        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void An_id_outside_the_vocabulary_is_detected()
    {
        using var dir = new TempDirectory();
        string path = BuildStore(dir, Corpus, VocabularyOf(Corpus));
        byte[] bytes = File.ReadAllBytes(path);
        bytes[160 + 2 * 3] = 0xFF; // token 3 (16-bit ids start right after the 160-byte header)
        bytes[160 + 2 * 3 + 1] = 0xFF;
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InvalidInputException>(() => TokenStore.Open(path));

        Assert.Contains("token 3 has an id outside the vocabulary", e.Message);
    }

    [Fact]
    public void Damaged_document_offsets_are_detected()
    {
        using var dir = new TempDirectory();
        string path = BuildStore(dir, Corpus, VocabularyOf(Corpus));
        byte[] bytes = File.ReadAllBytes(path);
        long offsetsAt = BitConverter.ToInt64(bytes, 112);
        BitConverter.GetBytes(999L).CopyTo(bytes, offsetsAt + 8 * 2); // document 2 starts past the end
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InvalidInputException>(() => TokenStore.Open(path));

        Assert.Contains("invalid extent", e.Message);
    }

    [Fact]
    public void Opening_with_another_vocabulary_is_refused()
    {
        using var dir = new TempDirectory();
        string path = BuildStore(dir, Corpus, VocabularyOf(Corpus));

        var e = Assert.Throws<InvalidInputException>(() => TokenStore.Open(path, VocabularyOf(Corpus, minFrequency: 2)));

        Assert.Contains("built with another vocabulary", e.Message);
    }

    [Fact]
    public void A_disposed_store_refuses_reads()
    {
        using var dir = new TempDirectory();
        var store = TokenStore.Open(BuildStore(dir, Corpus, VocabularyOf(Corpus)));
        store.Dispose();

        Assert.Throws<ObjectDisposedException>(() => store.Length(0));
    }
}
