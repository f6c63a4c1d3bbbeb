using Ulmfit.Data;

namespace Ulmfit.Tests.Data;

public class LabelledSampleTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-sample-").FullName;

    static List<TextDocument> Documents(int a, int b, int c) =>
    [
        .. Enumerable.Range(0, a).Select(i => TextDocument.FromText($"a{i}", "A")),
        .. Enumerable.Range(0, b).Select(i => TextDocument.FromText($"b{i}", "B")),
        .. Enumerable.Range(0, c).Select(i => TextDocument.FromText($"c{i}", "C")),
    ];

    [Fact]
    public void A_sample_keeps_each_labels_share_and_the_original_order()
    {
        var all = Documents(600, 300, 100);
        var sample = LabelledSample.Pick(all, 100, seed: 5);
        Assert.Equal(100, sample.Count);
        Assert.Equal(60, sample.Count(d => d.Label == "A"));
        Assert.Equal(30, sample.Count(d => d.Label == "B"));
        Assert.Equal(10, sample.Count(d => d.Label == "C"));
        var positions = sample.Select(d => all.IndexOf(d)).ToArray();
        Assert.Equal(positions.Order(), positions);
    }

    [Fact]
    public void A_rare_label_keeps_one_document_and_the_seed_decides_which()
    {
        var all = Documents(990, 9, 1);
        var sample = LabelledSample.Pick(all, 10, seed: 1);
        Assert.Equal(10, sample.Count);
        Assert.Single(sample, d => d.Label == "C");
        Assert.Contains(sample, d => d.Label == "B");
        Assert.Equal(sample, LabelledSample.Pick(all, 10, seed: 1));
        Assert.NotEqual(sample.Select(d => d.Fields[0]), LabelledSample.Pick(all, 10, seed: 2).Select(d => d.Fields[0]));
    }

    [Fact]
    public void A_written_sample_reads_back_with_the_same_reader_options()
    {
        var options = new DocumentReaderOptions { TextColumns = ["title", "body"], LabelColumn = "topic", LabelRequired = true };
        var docs = new[] { new TextDocument(["Hi, \"you\"", "line\nbreak"], "x", DocumentOrigin.InMemory), new TextDocument(["t", "b"], "y", DocumentOrigin.InMemory) };
        string path = Path.Combine(_dir, "s.csv");
        LabelledSample.WriteCsv(docs, options, path);
        var back = DocumentReader.Read(path, options).ToList();
        Assert.Equal(docs.Select(d => (d.Fields[0], d.Fields[1], d.Label)), back.Select(d => (d.Fields[0], d.Fields[1], d.Label)));
        Assert.Single(Directory.GetFiles(_dir)); // no temporary file left behind
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
