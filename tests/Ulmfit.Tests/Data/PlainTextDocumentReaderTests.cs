using System.Diagnostics;
using Ulmfit.Data;

namespace Ulmfit.Tests.Data;

public class PlainTextDocumentReaderTests
{
    [Fact]
    public void Blocks_of_lines_separated_by_blank_lines_are_documents()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("corpus.txt", "\nTitle one\nFirst paragraph.\n\n\nTitle two\n   \t\nLast one\nwith two lines");

        var docs = DocumentReader.Read(path).ToList();

        Assert.Equal(["Title one\nFirst paragraph.", "Title two", "Last one\nwith two lines"], docs.Select(d => d.Fields.Single()));
        Assert.Equal([2L, 6, 8], docs.Select(d => d.Origin.Line));
        Assert.All(docs, d => Assert.Null(d.Label));
    }

    [Fact]
    public void Line_per_document_makes_every_line_a_document()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("lines.txt.gz", "first\nsecond\n\n  \nthird\n");
        var report = new ReadReport();

        var docs = DocumentReader.Read(path, new DocumentReaderOptions { LinePerDocument = true }, report).ToList();

        Assert.Equal(["first", "second", "third"], docs.Select(d => d.Fields.Single()));
        Assert.Equal([1L, 2, 5], docs.Select(d => d.Origin.Line));
        // The empty line is no record; the whitespace-only one is an empty document.
        Assert.Equal(1, report.SkippedEmpty);
    }

    [Fact]
    public void Gzip_compressed_text_reads_the_same_as_plain()
    {
        using var dir = new TempDirectory();
        const string content = "\uFEFFA café\nsecond line\n\nB\n";
        var plain = DocumentReader.Read(dir.Write("c.txt", content)).Select(d => d.Fields[0]).ToList();
        var gzip = DocumentReader.Read(dir.Write("c.txt.gz", content)).Select(d => d.Fields[0]).ToList();

        Assert.Equal(["A café\nsecond line", "B"], plain);
        Assert.Equal(plain, gzip);
    }

    [Fact]
    public void A_folder_is_read_one_document_per_file_in_name_order()
    {
        using var dir = new TempDirectory();
        dir.Write("docs/b.txt", "bee\n");
        dir.Write("docs/a.txt", "ay\nsecond line\n");
        dir.Write("docs/c.txt.gz", "sea");
        dir.Write("docs/empty.txt", " \n");
        dir.Write("docs/notes.md", "ignored");
        dir.Write("docs/sub/d.txt", "not read: sub-folders are ignored");
        var report = new ReadReport();

        var docs = DocumentReader.Read(dir.PathOf("docs"), report: report).ToList();

        Assert.Equal(["ay\nsecond line", "bee", "sea"], docs.Select(d => d.Fields.Single()));
        Assert.Equal(dir.PathOf("docs/a.txt"), docs[0].Origin.FilePath);
        Assert.Equal(1, report.SkippedEmpty);
        Assert.Equal(InputFormat.Folder, DocumentReader.DetectFormat(dir.PathOf("docs")));
    }

    [Fact]
    public void A_10_MB_line_is_read_in_linear_time()
    {
        using var dir = new TempDirectory();
        string line = string.Concat(Enumerable.Repeat("lorem ipsum é ", 750_000));
        string path = dir.Write("big.txt", $"{line}\n\nsmall\n");

        var clock = Stopwatch.StartNew();
        var docs = DocumentReader.Read(path).ToList();

        Assert.Equal(line, docs[0].Fields[0]);
        Assert.Equal(3, docs[1].Origin.Line);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"reading took {clock.Elapsed}");
    }
}
