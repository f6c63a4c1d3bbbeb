using System.Text;

namespace Ulmfit.Data;

/// <summary>
/// Plain-text input: a document is a block of lines ended by a blank line (lines joined with <c>\n</c>), or,
/// with <see cref="DocumentReaderOptions.LinePerDocument"/>, every line. Blank means empty or whitespace only.
/// </summary>
internal static class PlainTextDocumentReader
{
    public static IEnumerable<TextDocument> Read(string path, DocumentReaderOptions options, ReadReport report)
    {
        report.Reset(path);
        using var reader = OpenText(path);
        long lineNumber = 0;
        if (options.LinePerDocument)
        {
            while (reader.ReadLine() is { } line)
            {
                lineNumber++;
                var origin = new DocumentOrigin(path, lineNumber);
                if (options.KeepEmpty && string.IsNullOrWhiteSpace(line))
                {
                    report.CountEmptyKept(origin); // one output per input line (prediction)
                    yield return new TextDocument([line], null, origin);
                    continue;
                }
                if (line.Length == 0) continue; // an empty line is no record at all
                if (string.IsNullOrWhiteSpace(line))
                {
                    report.CountSkipped(origin);
                    continue;
                }
                report.CountDocument();
                yield return new TextDocument([line], null, origin);
            }
            yield break;
        }

        var block = new StringBuilder();
        long blockStart = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                if (block.Length == 0) continue;
                report.CountDocument();
                yield return new TextDocument([block.ToString()], null, new DocumentOrigin(path, blockStart));
                block.Clear();
                continue;
            }
            if (block.Length == 0) blockStart = lineNumber;
            else block.Append('\n');
            block.Append(line);
        }
        if (block.Length > 0)
        {
            report.CountDocument();
            yield return new TextDocument([block.ToString()], null, new DocumentOrigin(path, blockStart));
        }
    }

    /// <summary>A reader that decodes UTF-8 checked by <see cref="Utf8CheckingStream"/> (a UTF-8 BOM is dropped; UTF-16 never gets here).</summary>
    internal static StreamReader OpenText(string path) =>
        new(DocumentReader.OpenChecked(path), new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
}
