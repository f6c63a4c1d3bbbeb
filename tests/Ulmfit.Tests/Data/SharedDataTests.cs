using Ulmfit.Data;

namespace Ulmfit.Tests.Data;

/// <summary>The readers on the real shared data sets (skipped when ../shared is absent).</summary>
public class SharedDataTests
{
    [SkippableFact]
    public void Reuters_train_has_7770_documents_with_newlines_inside_their_texts()
    {
        Skip.If(SharedData.Folder is null, "../shared is not present next to the repository");
        string path = SharedData.PathOf("data/reuters/train.csv");
        var report = new ReadReport();

        var docs = DocumentReader.Read(path, new DocumentReaderOptions { LabelRequired = true }, report).ToList();

        Assert.Equal(7770, docs.Count);
        Assert.Equal(0, report.SkippedEmpty);
        Assert.Equal(7770, docs.Count(d => d.Fields[0].Contains('\n')));
        Assert.StartsWith("BAHIA COCOA REVIEW\nShowers continued", docs[0].Fields[0]);
        Assert.Equal("cocoa", docs[0].Label);
        // Records span many lines, so the origins must climb faster than the row number.
        Assert.True(docs[^1].Origin.Line > 7770 * 5);
        LabelSet labels = LabelSetCheck.Check(docs, path, multiLabel: true);
        Assert.Equal(90, labels.Classes.Count);
        Assert.Equal(2877, labels.Counts["earn"]);
    }

    [SkippableFact]
    public void Imdb_train_gzip_has_25000_labelled_reviews()
    {
        Skip.If(SharedData.Folder is null, "../shared is not present next to the repository");
        string path = SharedData.PathOf("data/imdb/train.csv.gz");

        var counts = DocumentReader.Read(path, new DocumentReaderOptions { LabelRequired = true })
            .GroupBy(d => d.Label).ToDictionary(g => g.Key!, g => g.Count());

        Assert.Equal(new Dictionary<string, int> { ["neg"] = 12500, ["pos"] = 12500 }, counts);
    }

    [SkippableFact]
    public void Wikipedia_valid_corpus_has_107_article_blocks()
    {
        Skip.If(SharedData.Folder is null, "../shared is not present next to the repository");

        var docs = DocumentReader.Read(SharedData.PathOf("corpus/valid.txt.gz")).ToList();

        Assert.Equal(107, docs.Count);
        Assert.Equal("History of Chad", docs[0].Fields[0].Split('\n')[0]);
    }
}
