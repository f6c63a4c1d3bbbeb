using System.Diagnostics;
using System.Text;
using Ulmfit.Data;

namespace Ulmfit.Tests.Data;

public class CsvDocumentReaderTests
{
    [Fact]
    public void Quoted_fields_keep_their_newlines_and_doubled_quotes()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv",
            "label,text\n" +
            "earn,\"PROFIT UP\nNet rose \"\"sharply\"\", it said.\"\n" +
            "acq,plain text\n");

        var docs = DocumentReader.Read(path).ToList();

        Assert.Equal(2, docs.Count);
        Assert.Equal("PROFIT UP\nNet rose \"sharply\", it said.", docs[0].Fields.Single());
        Assert.Equal("earn", docs[0].Label);
        Assert.Equal(new DocumentOrigin(path, 2), docs[0].Origin);
        // The first record spans lines 2-3, so the second one starts on line 4.
        Assert.Equal(new DocumentOrigin(path, 4), docs[1].Origin);
        Assert.Equal("plain text", docs[1].Fields.Single());
    }

    [Fact]
    public void Windows_line_endings_are_read_like_unix_ones()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "label,text\r\npos,\"a\r\nb\"\r\nneg,c\r\n");

        var docs = DocumentReader.Read(path).ToList();

        Assert.Equal(["pos", "neg"], docs.Select(d => d.Label));
        Assert.Equal(4, docs[1].Origin.Line);
        Assert.Equal("c", docs[1].Fields[0]);
    }

    [Fact]
    public void Gzip_compressed_csv_reads_the_same_as_plain()
    {
        using var dir = new TempDirectory();
        const string content = "label,text\npos,\"good\nfilm\"\nneg,bad film\n";
        var plain = DocumentReader.Read(dir.Write("a.csv", content)).ToList();
        var gzip = DocumentReader.Read(dir.Write("a.csv.gz", content)).ToList();

        Assert.Equal(plain.Select(d => (d.Fields[0], d.Label, d.Origin.Line)), gzip.Select(d => (d.Fields[0], d.Label, d.Origin.Line)));
    }

    [Fact]
    public void Several_text_columns_become_fields_in_the_order_asked()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("news.csv", "body,label,title\nthe body,World,The Title\n");

        var doc = DocumentReader.Read(path, new DocumentReaderOptions { TextColumns = ["title", "body"] }).Single();

        Assert.Equal(["The Title", "the body"], doc.Fields);
        Assert.Equal("World", doc.Label);
    }

    [Fact]
    public void Without_a_label_column_documents_are_unlabelled_when_labels_are_optional()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("unsup.csv", "text\nsome text\n");
        var report = new ReadReport();

        var doc = DocumentReader.Read(path, report: report).Single();

        Assert.Null(doc.Label);
        Assert.False(report.HasLabelColumn);
    }

    [Fact]
    public void Empty_and_whitespace_rows_are_skipped_and_counted()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "label,text\npos,fine\nneg,\"  \"\n   \npos,\nneg,also fine\n");
        var report = new ReadReport();

        var docs = DocumentReader.Read(path, report: report).ToList();

        Assert.Equal(["fine", "also fine"], docs.Select(d => d.Fields[0]));
        Assert.Equal(2, report.Documents);
        Assert.Equal(3, report.SkippedEmpty);
        Assert.Equal([3L, 4, 5], report.SkippedExamples.Select(o => o.Line));
        Assert.Contains("skipped 3 empty", report.Warning);
    }

    [Fact]
    public void Labels_are_trimmed_and_an_empty_label_is_null_when_optional()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "label,text\n pos ,a\n,b\n");

        var docs = DocumentReader.Read(path).ToList();

        Assert.Equal(["pos", null], docs.Select(d => d.Label));
    }

    [Fact]
    public void Enumerating_twice_reads_the_file_twice_and_resets_the_report()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "label,text\npos,a\nneg,\n");
        var report = new ReadReport();
        var docs = DocumentReader.Read(path, report: report);

        Assert.Single(docs.ToList());
        Assert.Single(docs.ToList());
        Assert.Equal(1, report.Documents);
        Assert.Equal(1, report.SkippedEmpty);
    }

    [Fact]
    public void A_10_MB_document_is_read_in_linear_time()
    {
        using var dir = new TempDirectory();
        var text = new StringBuilder(11_000_000);
        while (text.Length < 10_000_000) text.Append("word \"\"quoted\"\" and,comma\n");
        string path = dir.Write("big.csv", $"label,text\npos,\"{text}\"\nneg,small\n");

        var clock = Stopwatch.StartNew();
        var docs = DocumentReader.Read(path).ToList();

        Assert.Equal(2, docs.Count);
        Assert.Equal(text.ToString().Replace("\"\"", "\""), docs[0].Fields[0]);
        Assert.Equal(3 + text.ToString().Count(c => c == '\n'), docs[1].Origin.Line);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"reading took {clock.Elapsed}");
    }
}
