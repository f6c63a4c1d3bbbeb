using Ulmfit.Data;

namespace Ulmfit.Tests.Data;

public class TokenStoreCacheTests
{
    const string Csv = "label,text,title\npos,a good film,Good\nneg,a bad film,Bad\npos,good good,Fine\n";

    static TokenStoreCacheResult Run(TokenizeRequest request, string store, string version = "whitespace-test-1") =>
        TokenStoreCache.GetOrBuild(request, store, new WhitespaceTestTokenizer(version), new TokenStoreBuilderOptions { Threads = 2 });

    static TokenizeRequest Request(string input) => new(input) { VocabularySettings = new VocabularySettings(MinFrequency: 1) };

    [Fact]
    public void A_second_run_with_the_same_input_and_settings_reuses_the_store()
    {
        using var dir = new TempDirectory();
        string input = dir.Write("train.csv", Csv);
        string store = dir.PathOf("out/tokens.ulmtok");

        var first = Run(Request(input), store);
        DateTime written = File.GetLastWriteTimeUtc(store);
        var second = Run(Request(input), store);

        Assert.False(first.CacheHit);
        Assert.True(second.CacheHit);
        Assert.Equal(first.CacheKey, second.CacheKey);
        Assert.Equal(written, File.GetLastWriteTimeUtc(store));
        Assert.Equal(first.Vocabulary.Hash, second.Vocabulary.Hash);
        Assert.Equal((first.Summary.Documents, first.Summary.Tokens, first.Summary.VocabSize),
            (second.Summary.Documents, second.Summary.Tokens, second.Summary.VocabSize));
        Assert.Equal(TokenStoreCache.VocabularyPathFor(store), second.VocabularyPath);
        Assert.Equal(dir.PathOf("out/tokens.vocab.json"), second.VocabularyPath);
        using var opened = TokenStore.Open(store, second.Vocabulary);
        Assert.Equal(first.CacheKey, opened.CacheKey);
    }

    [Fact]
    public void Changed_content_rebuilds()
    {
        using var dir = new TempDirectory();
        string input = dir.Write("train.csv", Csv);
        string store = dir.PathOf("tokens.ulmtok");
        var first = Run(Request(input), store);

        dir.Write("train.csv", Csv + "neg,one more,Row\n");
        var second = Run(Request(input), store);

        Assert.False(second.CacheHit);
        Assert.NotEqual(first.CacheKey, second.CacheKey);
        Assert.Equal(4, second.Summary.Documents);
    }

    [Fact]
    public void Changed_settings_rebuild()
    {
        using var dir = new TempDirectory();
        string input = dir.Write("train.csv", Csv);
        string store = dir.PathOf("tokens.ulmtok");
        var baseline = Run(Request(input), store);

        var columns = Run(Request(input) with { Reader = new DocumentReaderOptions { TextColumns = ["title", "text"] } }, store);
        var tokenizer = Run(Request(input), store, version: "whitespace-test-2");
        var vocabulary = Run(Request(input) with { VocabularySettings = new VocabularySettings(MinFrequency: 2) }, store);
        var back = Run(Request(input), store);

        Assert.False(columns.CacheHit);
        Assert.False(tokenizer.CacheHit);
        Assert.False(vocabulary.CacheHit);
        Assert.False(back.CacheHit);
        Assert.Equal(4, new[] { baseline, columns, tokenizer, vocabulary }.Select(r => r.CacheKey).Distinct().Count());
        Assert.Equal(baseline.CacheKey, back.CacheKey);
        Assert.True(Run(Request(input), store).CacheHit);
    }

    [Fact]
    public void A_supplied_vocabulary_is_part_of_the_key_and_no_vocabulary_file_is_written()
    {
        using var dir = new TempDirectory();
        string input = dir.Write("train.csv", Csv);
        string store = dir.PathOf("tokens.ulmtok");
        var built = Run(Request(input), dir.PathOf("lm.ulmtok"));

        var first = Run(Request(input) with { Vocabulary = built.Vocabulary }, store);
        var second = Run(Request(input) with { Vocabulary = built.Vocabulary }, store);

        Assert.False(first.CacheHit);
        Assert.True(second.CacheHit);
        Assert.Null(second.VocabularyPath);
        Assert.False(File.Exists(TokenStoreCache.VocabularyPathFor(store)));
        Assert.NotEqual(built.CacheKey, first.CacheKey);
    }

    [Fact]
    public void A_corrupt_store_or_a_missing_vocabulary_file_is_rebuilt()
    {
        using var dir = new TempDirectory();
        string input = dir.Write("train.csv", Csv);
        string store = dir.PathOf("tokens.ulmtok");
        Run(Request(input), store);

        File.WriteAllBytes(store, File.ReadAllBytes(store)[..200]);
        Assert.False(Run(Request(input), store).CacheHit);

        File.Delete(TokenStoreCache.VocabularyPathFor(store));
        Assert.False(Run(Request(input), store).CacheHit);
        Assert.True(Run(Request(input), store).CacheHit);
    }

    [Fact]
    public void A_folder_key_changes_when_a_file_changes()
    {
        using var dir = new TempDirectory();
        dir.Write("docs/a.txt", "first document");
        dir.Write("docs/b.txt", "second document");
        string store = dir.PathOf("tokens.ulmtok");
        var first = Run(Request(dir.PathOf("docs")), store);

        dir.Write("docs/b.txt", "second document, edited");
        var second = Run(Request(dir.PathOf("docs")), store);

        Assert.Equal(2, first.Summary.Documents);
        Assert.False(second.CacheHit);
        Assert.NotEqual(first.CacheKey, second.CacheKey);
    }
}
