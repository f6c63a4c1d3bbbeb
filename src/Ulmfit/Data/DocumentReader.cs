using ICSharpCode.SharpZipLib.GZip;

namespace Ulmfit.Data;

/// <summary>The kinds of input the readers understand (shared CLI.md: input rules).</summary>
public enum InputFormat
{
    /// <summary><c>.csv</c> or <c>.csv.gz</c>: RFC 4180 with a header row.</summary>
    Csv,
    /// <summary><c>.txt</c> or <c>.txt.gz</c>: blocks of lines separated by blank lines, or one document per line.</summary>
    PlainText,
    /// <summary>A folder of <c>.txt</c> (or <c>.txt.gz</c>) files, one document each, in ordinal name order.</summary>
    Folder,
}

/// <summary>
/// Reads documents from any supported input, streaming: a file is never loaded whole (except one folder file,
/// which is one document). Enumerating again reads the file again.
/// </summary>
/// <remarks>
/// Errors are <see cref="InvalidInputException"/>s naming file, line and column. The format and the options are
/// checked when <see cref="Read"/> is called; the file's contents (header, columns, encoding) while enumerating.
/// </remarks>
public static class DocumentReader
{
    /// <summary>Which reader handles <paramref name="path"/>; throws for a missing path or an unknown extension.</summary>
    public static InputFormat DetectFormat(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) return InputFormat.Folder;
        if (!File.Exists(path)) throw new InvalidInputException(path, null, null, "no such file or folder");
        if (HasExtension(path, ".csv") || HasExtension(path, ".csv.gz")) return InputFormat.Csv;
        if (HasExtension(path, ".txt") || HasExtension(path, ".txt.gz")) return InputFormat.PlainText;
        throw new InvalidInputException(path, null, null,
            $"unknown input type '{Path.GetExtension(path)}'; expected .csv, .csv.gz, .txt, .txt.gz or a folder of .txt files");
    }

    /// <summary>The documents of <paramref name="path"/>, in input order.</summary>
    /// <param name="path">A file or folder as the user named it (messages quote it as given).</param>
    /// <param name="options">Columns and plain-text mode; defaults: text column <c>text</c>, label column <c>label</c>.</param>
    /// <param name="report">Filled with counts and skipped rows while enumerating (reset on each enumeration).</param>
    public static IEnumerable<TextDocument> Read(string path, DocumentReaderOptions? options = null, ReadReport? report = null)
    {
        options ??= new DocumentReaderOptions();
        options.Validate();
        report ??= new ReadReport();
        InputFormat format = DetectFormat(path);
        if (options.LabelRequired && format != InputFormat.Csv)
            throw new InvalidInputException(path, null, null,
                $"plain text has no labels; labelled data must be a CSV with a '{options.LabelColumn}' column");
        return format switch
        {
            InputFormat.Csv => CsvDocumentReader.Read(path, options, report),
            InputFormat.PlainText => PlainTextDocumentReader.Read(path, options, report),
            _ => FolderDocumentReader.Read(path, report),
        };
    }

    internal static bool HasExtension(string path, string extension) => path.EndsWith(extension, StringComparison.OrdinalIgnoreCase);

    /// <summary>Opens a file for sequential reading, decompressing <c>.gz</c>, checking UTF-8 on the way.</summary>
    /// <summary>A reader of <paramref name="stream"/> (standard input, say) that refuses invalid UTF-8 the way input
    /// files do, with an <see cref="InvalidInputException"/> naming <paramref name="displayName"/>, line and column,
    /// where a plain reader would put U+FFFD in the text without a word.</summary>
    public static TextReader OpenCheckedText(Stream stream, string displayName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new StreamReader(new Utf8CheckingStream(stream, displayName), new System.Text.UTF8Encoding(false, true),
            detectEncodingFromByteOrderMarks: false);
    }

    internal static Stream OpenChecked(string path)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(path, null, null, $"cannot open: {e.Message}", e);
        }
        // SharpZipLib, not System.IO.Compression: the latter ends a truncated stream as if it were complete (a cut
        // .gz would train on a prefix), while this one throws at the cut and checks every member's CRC and length.
        Stream source = HasExtension(path, ".gz") ? new GZipInputStream(file) : file;
        return new Utf8CheckingStream(source, path);
    }
}
