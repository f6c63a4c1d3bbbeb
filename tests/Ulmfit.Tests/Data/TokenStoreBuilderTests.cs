using Ulmfit.Data;

namespace Ulmfit.Tests.Data;

public class TokenStoreBuilderTests
{
    static List<TextDocument> Corpus(int count) =>
        Enumerable.Range(0, count)
            .Select(i => new TextDocument([$"doc {i} says w{i % 17} and w{i % 5} then w{i % 29}"], i % 3 == 0 ? "odd" : "even",
                new DocumentOrigin("mem", i + 1)))
            .ToList();

    static TokenStoreBuilder Builder(int threads, IProgress<TokenizeProgress>? progress = null, string? failOn = null) =>
        new(new WhitespaceTestTokenizer(failOn: failOn),
            new TokenStoreBuilderOptions { Threads = threads, MaxBatchDocuments = 7, Progress = progress, ProgressInterval = TimeSpan.Zero });

    [Fact]
    public void The_file_is_identical_for_any_number_of_threads()
    {
        using var dir = new TempDirectory();
        var docs = Corpus(300);
        var vocab = Vocabulary.Build(TokenCounter.Count(docs, new WhitespaceTestTokenizer(), 1));

        Builder(1).Build(docs, vocab, dir.PathOf("one.ulmtok"));
        Builder(4).Build(docs, vocab, dir.PathOf("four.ulmtok"));

        Assert.Equal(File.ReadAllBytes(dir.PathOf("one.ulmtok")), File.ReadAllBytes(dir.PathOf("four.ulmtok")));
    }

    [Fact]
    public void Building_the_vocabulary_in_the_same_pass_equals_counting_first()
    {
        using var dir = new TempDirectory();
        var docs = Corpus(300);
        var settings = new VocabularySettings(MaxSize: 40, MinFrequency: 2);
        var counted = Vocabulary.Build(TokenCounter.Count(docs, new WhitespaceTestTokenizer(), 2), settings);

        var twoPass = Builder(1).Build(docs, counted, dir.PathOf("counted.ulmtok"));
        var onePass = Builder(3).BuildWithNewVocabulary(docs, settings, dir.PathOf("built.ulmtok"));

        Assert.Equal(counted.Tokens, onePass.Vocabulary.Tokens);
        Assert.Equal(File.ReadAllBytes(dir.PathOf("counted.ulmtok")), File.ReadAllBytes(dir.PathOf("built.ulmtok")));
        Assert.Equal(twoPass.UnknownTokens, onePass.Summary.UnknownTokens);
        Assert.True(onePass.Summary.UnknownTokens > 0);
        Assert.Equal([dir.PathOf("built.ulmtok"), dir.PathOf("counted.ulmtok")], TempDirectory.FilesIn(dir.Root).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_summary_and_progress_count_documents_and_tokens()
    {
        using var dir = new TempDirectory();
        var docs = Corpus(50);
        var reports = new List<TokenizeProgress>();
        var progress = new SynchronousProgress(reports.Add);

        var result = Builder(2, progress).BuildWithNewVocabulary(docs, new VocabularySettings(MinFrequency: 1), dir.PathOf("t.ulmtok"));

        Assert.Equal(50, result.Summary.Documents);
        Assert.Equal(50 * 9, result.Summary.Tokens);
        Assert.Equal(result.Vocabulary.Count, result.Summary.VocabSize);
        Assert.False(result.Summary.FromCache);
        Assert.True(result.Summary.TokensPerSecond > 0);
        Assert.Equal(new[] { "tokenizing", "writing" }, reports.Select(r => r.Phase).Distinct());
        Assert.Equal((50L, 450L), (reports[^1].Documents, reports[^1].Tokens));
    }

    [Fact]
    public void Skipped_rows_from_the_reader_reach_the_summary_and_the_store()
    {
        using var dir = new TempDirectory();
        string input = dir.Write("train.csv", "label,text\npos,good\nneg, \npos,fine\n");
        var report = new ReadReport();

        var result = Builder(2).BuildWithNewVocabulary(DocumentReader.Read(input, report: report), new VocabularySettings(MinFrequency: 1),
            dir.PathOf("t.ulmtok"), report);
        using var store = TokenStore.Open(dir.PathOf("t.ulmtok"));

        Assert.Equal(1, result.Summary.SkippedRows);
        Assert.Equal(1, store.SkippedRows);
        Assert.Equal(input, store.Source);
    }

    [Fact]
    public void A_tokenizer_failure_names_the_document_and_leaves_no_file()
    {
        using var dir = new TempDirectory();
        var docs = Corpus(100);
        docs[60] = new TextDocument(["this has POISON in it"], null, new DocumentOrigin("train.csv", 61));

        var e = Assert.Throws<InvalidOperationException>(() =>
            Builder(2, failOn: "POISON").BuildWithNewVocabulary(docs, new VocabularySettings(), dir.PathOf("out/t.ulmtok")));

        Assert.StartsWith("train.csv:61: the tokenizer failed", e.Message);
        Assert.Empty(TempDirectory.FilesIn(dir.Root));
    }

    [Fact]
    public void A_10_MB_document_tokenizes_in_linear_time()
    {
        using var dir = new TempDirectory();
        string big = string.Concat(Enumerable.Repeat("alpha beta gamma delta ", 450_000));
        var docs = new[] { TextDocument.FromText("small one"), TextDocument.FromText(big) };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var result = Builder(2).BuildWithNewVocabulary(docs, new VocabularySettings(), dir.PathOf("t.ulmtok"));

        Assert.Equal(3 + 1 + 4 * 450_000, result.Summary.Tokens);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Cancelling_leaves_no_file()
    {
        using var dir = new TempDirectory();
        using var cancel = new CancellationTokenSource();
        IEnumerable<TextDocument> Docs()
        {
            foreach (var d in Corpus(200))
            {
                if (d.Origin.Line == 100) cancel.Cancel();
                yield return d;
            }
        }

        Assert.ThrowsAny<OperationCanceledException>(() =>
            Builder(2).BuildWithNewVocabulary(Docs(), new VocabularySettings(), dir.PathOf("t.ulmtok"), cancellationToken: cancel.Token));
        Assert.Empty(TempDirectory.FilesIn(dir.Root));
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    sealed class SynchronousProgress(Action<TokenizeProgress> report) : IProgress<TokenizeProgress>
    {
        public void Report(TokenizeProgress value) => report(value);
    }

    [Fact]
    public void The_spill_file_has_no_name_while_tokenizing_so_a_killed_run_leaves_none()
    {
        if (OperatingSystem.IsWindows()) return; // there the file is removed when its handle closes
        using var dir = new TempDirectory();
        var seen = new List<string>();
        IEnumerable<TextDocument> Watching()
        {
            foreach (var (document, i) in Corpus(60).Select((d, i) => (d, i)))
            {
                if (i == 40) seen.AddRange(Directory.GetFiles(dir.Root).Select(f => Path.GetFileName(f)));
                yield return document;
            }
        }
        Builder(1).BuildWithNewVocabulary(Watching(), new VocabularySettings(MinFrequency: 1), dir.PathOf("t.ulmtok"));
        Assert.DoesNotContain(seen, name => name.EndsWith(".spill.tmp", StringComparison.Ordinal));
        Assert.Equal(["t.ulmtok"], Directory.GetFiles(dir.Root).Select(f => Path.GetFileName(f)));
    }
}
