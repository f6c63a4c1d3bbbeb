using Ulmfit.Data;
using Ulmfit.Pipeline;
using Ulmfit.Text;

namespace Ulmfit.Tests.Pipeline;

public class CorpusTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-corpus-").FullName;

    [Fact]
    public void Concatenated_documents_index_across_parts_including_empty_ones()
    {
        var a = new InMemoryTokenDocuments([[1, 2], [3]]);
        var empty = new InMemoryTokenDocuments([]);
        var b = new InMemoryTokenDocuments([[4, 5, 6]]);
        var all = new ConcatenatedTokenDocuments([a, empty, b]);
        Assert.Equal(3, all.Count);
        Assert.Equal(6, all.TokenCount);
        var buffer = new int[3];
        all.CopyTo(2, buffer);
        Assert.Equal(new[] { 4, 5, 6 }, buffer);
        Assert.Equal(1, all.Length(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => all.Length(3));
    }

    [Fact]
    public void Validation_split_is_seeded_disjoint_and_complete()
    {
        var docs = new InMemoryTokenDocuments(Enumerable.Range(0, 50).Select(i => new[] { i }).ToList());
        var (train, valid) = TokenDocumentSubset.Split(docs, 0.2, seed: 7);
        var (train2, valid2) = TokenDocumentSubset.Split(docs, 0.2, seed: 7);
        int[] Ids(ITokenDocuments d) => Enumerable.Range(0, d.Count).Select(i => { var b = new int[1]; d.CopyTo(i, b); return b[0]; }).ToArray();
        Assert.Equal(10, valid.Count);
        Assert.Equal(Ids(valid), Ids(valid2));
        Assert.Empty(Ids(train).Intersect(Ids(valid)));
        Assert.Equal(Enumerable.Range(0, 50), Ids(train).Concat(Ids(valid)).Order());
    }

    [Fact]
    public void A_folder_with_train_shards_is_a_sharded_corpus_with_its_valid_and_test_files()
    {
        foreach (string name in new[] { "train-001.txt", "train-000.txt", "valid.txt", "test.txt", "notes.md" })
            File.WriteAllText(Path.Combine(_dir, name), "Some text.\n");
        var layout = CorpusLayout.Resolve([_dir]);
        Assert.Equal(new[] { "train-000.txt", "train-001.txt" }, layout.TrainingFiles.Select(Path.GetFileName));
        Assert.Equal("valid.txt", Path.GetFileName(layout.ValidationFile));
        Assert.Equal("test.txt", Path.GetFileName(layout.TestFile));

        string plain = Path.Combine(_dir, "docs");
        Directory.CreateDirectory(plain);
        File.WriteAllText(Path.Combine(plain, "a.txt"), "x");
        Assert.Equal(new[] { plain }, CorpusLayout.Resolve([plain]).TrainingFiles);
    }

    [Fact]
    public void Shards_share_one_vocabulary_and_a_second_prepare_reuses_the_cache()
    {
        File.WriteAllText(Path.Combine(_dir, "train-000.txt"), "The cat sat.\n\nThe dog sat.\n\n");
        File.WriteAllText(Path.Combine(_dir, "train-001.txt"), "A cat ran.\n\nThe bird sang.\n\n");
        File.WriteAllText(Path.Combine(_dir, "valid.txt"), "The cat sang.\n");
        var options = new CorpusOptions { Inputs = [_dir], CacheDirectory = Path.Combine(_dir, "cache"), VocabularySettings = new(100, 1) };
        using (var corpus = TokenizedCorpus.Prepare(options, UlmfitTokenizer.Default))
        {
            Assert.Equal(4, corpus.Training.Count);
            Assert.Equal(1, corpus.Validation!.Count);
            Assert.True(corpus.Vocabulary.Contains("bird") && corpus.Vocabulary.Contains("dog")); // words of both shards
            Assert.All(corpus.Summaries, s => Assert.False(s.FromCache));
        }
        using (var again = TokenizedCorpus.Prepare(options, UlmfitTokenizer.Default))
            Assert.All(again.Summaries, s => Assert.True(s.FromCache));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
