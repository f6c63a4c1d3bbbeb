using System.Text;
using Ulmfit.Data;

namespace Ulmfit.Tests.Data;

/// <summary>Every kind of bad input gives a one-line error naming file, line and column, and leaves no output behind.</summary>
public class BadInputTests
{
    static byte[] Bytes(params object[] parts)
    {
        var bytes = new List<byte>();
        foreach (object part in parts)
            bytes.AddRange(part is string s ? Encoding.UTF8.GetBytes(s) : part is byte b ? [b] : (byte[])part);
        return bytes.ToArray();
    }

    /// <summary>Tokenizing <paramref name="input"/> into a fresh output folder fails and leaves the folder without files.</summary>
    static InvalidInputException FailsWithoutOutput(TempDirectory dir, string input, DocumentReaderOptions? options = null)
    {
        string output = dir.PathOf("out");
        var request = new TokenizeRequest(input) { Reader = options ?? new DocumentReaderOptions() };
        var e = Assert.Throws<InvalidInputException>(() =>
            TokenStoreCache.GetOrBuild(request, Path.Combine(output, "tokens.ulmtok"), new WhitespaceTestTokenizer()));
        Assert.Empty(TempDirectory.FilesIn(output));
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    static void AssertLocation(InvalidInputException e, string path, long line, int? column)
    {
        Assert.Equal(path, e.FilePath);
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
        Assert.StartsWith(column is null ? $"{path}:{line}: " : $"{path}:{line}:{column}: ", e.Message);
    }

    [Fact]
    public void Invalid_utf8_byte_is_reported_with_line_and_column()
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("train.csv", Bytes("label,text\npos,ok\nneg,ab", (byte)0xFF, "c\n"));

        var e = FailsWithoutOutput(dir, path);

        AssertLocation(e, path, 3, 7);
        Assert.EndsWith("invalid UTF-8 byte 0xFF", e.Message);
    }

    [Fact]
    public void Columns_count_characters_not_bytes()
    {
        using var dir = new TempDirectory();
        // "neg,é€" is 6 characters (9 bytes); 0xC3 0x28 is a lead byte followed by a non-continuation byte.
        string path = dir.WriteBytes("train.csv", Bytes("label,text\nneg,é€", (byte)0xC3, (byte)0x28, "\n"));

        AssertLocation(FailsWithoutOutput(dir, path), path, 2, 7);
    }

    [Fact]
    public void Invalid_utf8_deep_in_a_compressed_text_file_names_the_right_line()
    {
        using var dir = new TempDirectory();
        var text = new StringBuilder();
        for (int i = 1; i < 5000; i++) text.Append($"line {i} with some ünïcode text\n");
        string path = dir.WriteBytes("corpus.txt.gz", Bytes(text.ToString(), "xy", (byte)0xFE, "\n"));

        AssertLocation(FailsWithoutOutput(dir, path), path, 5000, 3);
    }

    [Fact]
    public void Utf16_input_is_rejected_with_a_hint()
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("train.csv", Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("label,text\n")).ToArray());

        var e = FailsWithoutOutput(dir, path);

        AssertLocation(e, path, 1, 1);
        Assert.Contains("UTF-16", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public void Utf8_sequences_split_between_reads_are_checked_exactly(int readSize)
    {
        byte[] valid = Bytes("a€b\n😀c\ndé\n");
        Assert.Equal(valid, ReadThrough(valid, readSize));

        // A 3-byte sequence whose third byte is not a continuation byte, after "€" on line 2.
        var e = Assert.Throws<InvalidInputException>(() => ReadThrough(Bytes("ok\n€", (byte)0xE2, (byte)0x82, "x"), readSize));
        Assert.Equal((2L, 2), (e.Line!.Value, e.Column!.Value));

        var truncated = Assert.Throws<InvalidInputException>(() => ReadThrough(Bytes("ab", (byte)0xF0, (byte)0x9F), readSize));
        Assert.Contains("ends inside a UTF-8 sequence", truncated.Message);
        Assert.Equal((1L, 3), (truncated.Line!.Value, truncated.Column!.Value));
    }

    static byte[] ReadThrough(byte[] input, int readSize)
    {
        using var stream = new Utf8CheckingStream(new MemoryStream(input), "mem.txt");
        var output = new MemoryStream();
        var buffer = new byte[readSize];
        int n;
        while ((n = stream.Read(buffer, 0, readSize)) > 0) output.Write(buffer, 0, n);
        return output.ToArray();
    }

    [Fact]
    public void Missing_text_column_lists_the_columns_and_suggests_the_closest()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "label,text\npos,a\n");

        var e = FailsWithoutOutput(dir, path, new DocumentReaderOptions { TextColumns = ["txet"] });

        AssertLocation(e, path, 1, null);
        Assert.Contains("no text column 'txet'", e.Message);
        Assert.Contains("the columns are: 'label', 'text'", e.Message);
        Assert.EndsWith("did you mean 'text'?", e.Message);
    }

    [Fact]
    public void Misspelled_label_column_is_an_error_when_labels_are_required()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "Label,text\npos,a\n");

        var e = FailsWithoutOutput(dir, path, new DocumentReaderOptions { LabelRequired = true });

        AssertLocation(e, path, 1, null);
        Assert.Contains("no label column 'label'", e.Message);
        Assert.EndsWith("did you mean 'Label'?", e.Message);
    }

    [Fact]
    public void A_column_named_twice_is_ambiguous()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "text,label,text\na,pos,b\n");

        var e = FailsWithoutOutput(dir, path);

        AssertLocation(e, path, 1, null);
        Assert.Contains("appears 2 times in the header (fields 1, 3)", e.Message);
    }

    [Fact]
    public void A_row_with_too_many_fields_points_at_the_first_extra_field()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "label,text\npos,\"a\nb\"\nneg,b,c\n");

        var e = FailsWithoutOutput(dir, path);

        AssertLocation(e, path, 4, 7);
        Assert.Contains("row has 3 fields but the header has 2 (label,text)", e.Message);
    }

    [Fact]
    public void A_row_with_too_few_fields_points_at_its_end()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "label,text\npos,a\nneg\n");

        var e = FailsWithoutOutput(dir, path);

        AssertLocation(e, path, 3, 4);
        Assert.Contains("row has 1 field but the header has 2", e.Message);
    }

    [Theory]
    [InlineData("pos,ab\"c\n", 2, 7, "quote inside an unquoted field")]
    [InlineData("pos,\"ab\"c\n", 2, 9, "text after the closing quote")]
    [InlineData("pos,ok\nneg,\"never closed\nmore\n", 3, 5, "never closed")]
    public void Malformed_quoting_is_located(string rows, long line, int column, string problem)
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "label,text\n" + rows);

        var e = FailsWithoutOutput(dir, path);

        AssertLocation(e, path, line, column);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void An_empty_label_is_an_error_when_labels_are_required()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "label,text\npos,a\n,b\n");

        var e = FailsWithoutOutput(dir, path, new DocumentReaderOptions { LabelRequired = true });

        AssertLocation(e, path, 3, 1);
        Assert.Contains("empty label in column 'label'", e.Message);
    }

    [Fact]
    public void An_empty_file_has_no_header()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "");

        var e = FailsWithoutOutput(dir, path);

        AssertLocation(e, path, 1, null);
        Assert.Contains("the file is empty", e.Message);
    }

    [Fact]
    public void Corrupt_gzip_data_is_an_input_error()
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("train.csv.gz.bad", Bytes("not gzip at all"));
        File.Move(path, dir.PathOf("train.csv.gz"));
        path = dir.PathOf("train.csv.gz");

        var e = FailsWithoutOutput(dir, path);

        Assert.StartsWith($"{path}:1: ", e.Message);
        Assert.Contains("compressed data is corrupt", e.Message);
    }

    [Theory]
    [InlineData(0.5)]   // cut inside the compressed data
    [InlineData(-4)]    // cut inside the 8-byte trailer (CRC and length): every document decompresses
    public void A_truncated_gzip_file_is_an_input_error_not_a_shorter_input(double cut)
    {
        using var dir = new TempDirectory();
        var text = new StringBuilder("text,label\n");
        for (int i = 0; i < 3000; i++) text.Append($"document number {i} with a few words {i * 7919 % 1000},{(i % 2 == 0 ? "a" : "b")}\n");
        string whole = dir.Write("whole.csv.gz", text.ToString());
        byte[] bytes = File.ReadAllBytes(whole);
        int keep = cut > 0 ? (int)(bytes.Length * cut) : bytes.Length + (int)cut;
        string path = dir.PathOf("train.csv.gz");
        File.WriteAllBytes(path, bytes[..keep]);

        Assert.Equal(3000, DocumentReader.Read(whole).Count());
        var e = Assert.Throws<InvalidInputException>(() => DocumentReader.Read(path).Count());

        Assert.StartsWith($"{path}:", e.Message);
        Assert.Contains("corrupt or truncated", e.Message);
    }

    [Fact]
    public void A_gzip_file_of_several_members_reads_every_member()
    {
        // `cat a.gz b.gz` is a valid gzip file (RFC 1952 allows several members); gunzip reads both.
        using var dir = new TempDirectory();
        byte[] first = File.ReadAllBytes(dir.Write("a.csv.gz", "text,label\none,a\ntwo,b\n"));
        byte[] second = File.ReadAllBytes(dir.Write("b.csv.gz", "three,a\nfour,b\n"));
        string path = dir.WriteBytes("both.csv", [.. first, .. second]);
        File.Move(path, dir.PathOf("both.csv.gz"));

        var texts = DocumentReader.Read(dir.PathOf("both.csv.gz")).Select(d => d.Fields[0]).ToList();

        Assert.Equal(["one", "two", "three", "four"], texts);
    }

    [Theory]
    [InlineData("data.json", "unknown input type '.json'")]
    [InlineData("missing.csv", "no such file or folder")]
    public void Unknown_or_missing_inputs_are_named(string name, string problem)
    {
        using var dir = new TempDirectory();
        if (name == "data.json") dir.Write(name, "{}");
        string path = dir.PathOf(name);

        var e = Assert.Throws<InvalidInputException>(() => DocumentReader.Read(path));

        Assert.Equal($"{path}: ", e.Message[..(path.Length + 2)]);
        Assert.Contains(problem, e.Message);
        FailsWithoutOutput(dir, path);
    }

    [Fact]
    public void Plain_text_cannot_satisfy_a_required_label()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.txt", "some text\n");

        var e = FailsWithoutOutput(dir, path, new DocumentReaderOptions { LabelRequired = true });

        Assert.StartsWith($"{path}: plain text has no labels", e.Message);
    }

    [Fact]
    public void A_folder_without_text_files_is_an_error()
    {
        using var dir = new TempDirectory();
        dir.Write("docs/readme.md", "no text files here");

        var e = FailsWithoutOutput(dir, dir.PathOf("docs"));

        Assert.Contains("no .txt or .txt.gz files", e.Message);
    }

    [Fact]
    public void A_label_column_with_one_class_cannot_train_a_classifier()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "label,text\npos,a\npos,b\n");
        var docs = DocumentReader.Read(path, new DocumentReaderOptions { LabelRequired = true });

        var e = Assert.Throws<InvalidInputException>(() => LabelSetCheck.Check(docs, path));

        Assert.StartsWith($"{path}: ", e.Message);
        Assert.Contains("label column 'label' has only one class ('pos') in 2 document(s)", e.Message);
    }

    [Fact]
    public void A_document_without_a_label_is_named_by_the_label_check()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train.csv", "label,text\npos,a\n,b\n");

        var e = Assert.Throws<InvalidInputException>(() => LabelSetCheck.Check(DocumentReader.Read(path), path));

        Assert.StartsWith($"{path}:3: ", e.Message);
    }

    [Fact]
    public void The_label_check_returns_sorted_classes_and_splits_multi_label_rows()
    {
        var docs = new[] { TextDocument.FromText("a", "grain|corn"), TextDocument.FromText("b", "earn"), TextDocument.FromText("c", "corn") };

        LabelSet single = LabelSetCheck.Check(docs, "mem");
        LabelSet multi = LabelSetCheck.Check(docs, "mem", multiLabel: true);

        Assert.Equal(["corn", "earn", "grain|corn"], single.Classes);
        Assert.Equal(["corn", "earn", "grain"], multi.Classes);
        Assert.Equal(2, multi.Counts["corn"]);
        Assert.Equal(2, multi.IndexOf("grain"));
    }
}
