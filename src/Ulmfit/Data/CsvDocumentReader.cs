using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using CsvHelper;

namespace Ulmfit.Data;

/// <summary>
/// CSV input (RFC 4180, header row, comma separator) through CsvHelper 34's byte-level reader. Quoted fields may
/// hold line breaks and doubled quotes (Reuters does). Malformed quoting and rows whose field count differs from
/// the header are errors, not guesses: a silently shifted column would train on the wrong text.
/// </summary>
internal static class CsvDocumentReader
{
    /// <summary>Where the wanted columns are in the header.</summary>
    sealed record Columns(int[] Text, int Label, int Id, IReadOnlyList<string> Header);

    /// <summary>Largest CSV record accepted (documents of tens of MB are fine).</summary>
    internal const int MaxRecordBytes = 256 << 20;

    public static IEnumerable<TextDocument> Read(string path, DocumentReaderOptions options, ReadReport report)
    {
        report.Reset(path);
        // CsvHelper reports quoting problems through a callback just before it returns the record; they are
        // raised when that record is reached, when its position in the input is known.
        var problems = new Queue<CsvMalformedRecord>();
        var csvOptions = new CsvReaderOptions
        {
            Separator = ',',
            HasHeader = true,
            Mode = CsvMode.Rfc4180,
            AllowLineBreaksInQuotes = true,
            SkipEmptyLines = true,
            TrimWhitespace = false,
            DetectSeparatorHint = false,
            TrackLineNumbers = true,
            // A record this large is an unclosed quote swallowing the file, not a document; stop before holding it all.
            MaxRecordSize = MaxRecordBytes,
            MalformedData = CsvMalformedDataHandling.Recover,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            OnMalformedRecord = problems.Enqueue,
        };
        using var csv = CsvReader.Create(DocumentReader.OpenChecked(path), csvOptions, leaveOpen: false);
        Columns columns = ResolveColumns(path, ReadHeader(csv, path, problems), options);
        report.HasLabelColumn = columns.Label >= 0;
        report.HasIdColumn = columns.Id >= 0;
        while (Next(csv, path, columns, options, problems, report, out TextDocument? document))
        {
            if (document is null) continue;
            if (document.IsBlank) report.CountEmptyKept(document.Origin);
            else report.CountDocument();
            yield return document;
        }
    }

    static IReadOnlyList<string> ReadHeader(CsvReader csv, string path, Queue<CsvMalformedRecord> problems)
    {
        IReadOnlyList<string> header;
        try
        {
            header = csv.Headers;
        }
        catch (Exception e) when (e is not InvalidInputException)
        {
            throw Translate(path, e);
        }
        if (problems.Count > 0)
        {
            CsvMalformedRecord p = problems.Dequeue();
            throw new InvalidInputException(path, p.LineNumber, null, $"{Describe(p.Reason)} (in the header row)");
        }
        if (header.Count == 0)
            throw new InvalidInputException(path, 1, null, "the file is empty; expected a header row such as 'label,text'");
        return header;
    }

    static Columns ResolveColumns(string path, IReadOnlyList<string> header, DocumentReaderOptions options)
    {
        var text = new int[options.TextColumns.Count];
        for (int i = 0; i < text.Length; i++)
            text[i] = FindColumn(path, header, options.TextColumns[i], "text") ?? throw MissingColumn(path, header, options.TextColumns[i], "text");
        int? label = FindColumn(path, header, options.LabelColumn, "label");
        if (label is null && options.LabelRequired) throw MissingColumn(path, header, options.LabelColumn, "label", taken: text);
        int? id = options.IdColumn is { } idName ? FindColumn(path, header, idName, "id") : null;
        if (id is null && options.IdRequired) throw MissingColumn(path, header, options.IdColumn!, "id", taken: [.. text, label ?? -1]);
        return new Columns(text, label ?? -1, id ?? -1, header);
    }

    static int? FindColumn(string path, IReadOnlyList<string> header, string name, string role)
    {
        var matches = new List<int>();
        for (int i = 0; i < header.Count; i++)
            if (string.Equals(header[i], name, StringComparison.Ordinal)) matches.Add(i);
        if (matches.Count > 1)
            throw new InvalidInputException(path, 1, null,
                $"{role} column '{name}' appears {matches.Count} times in the header (fields {string.Join(", ", matches.Select(m => m + 1))})");
        return matches.Count == 1 ? matches[0] : null;
    }

    // The hint never offers a column already read in another role (the text column for a missing label), and a
    // header that is one field holding tabs or semicolons is a file with another separator, which is what to say.
    static InvalidInputException MissingColumn(string path, IReadOnlyList<string> header, string name, string role, int[]? taken = null)
    {
        if (header.Count == 1 && (header[0].Contains('\t') || header[0].Contains(';')))
        {
            string separator = header[0].Contains('\t') ? "tabs" : "semicolons";
            return new InvalidInputException(path, 1, null,
                $"no {role} column '{name}': the header is one field separated by {separator}, not commas; save the file as comma-separated CSV");
        }
        var free = header.Where((_, i) => taken is null || !taken.Contains(i)).ToList();
        string? closest = NameSuggestion.Closest(name, free);
        string hint = closest is null ? "" : $"; did you mean '{closest}'?";
        return new InvalidInputException(path, 1, null,
            $"no {role} column '{name}'; the columns are: {string.Join(", ", header.Select(h => $"'{h.Replace("\t", "\\t")}'"))}{hint}");
    }

    /// <summary>Reads one record; <paramref name="document"/> is null for a skipped (empty) row. False at the end.</summary>
    static bool Next(CsvReader csv, string path, Columns columns, DocumentReaderOptions options,
        Queue<CsvMalformedRecord> problems, ReadReport report, out TextDocument? document)
    {
        document = null;
        bool more;
        try
        {
            more = csv.Read();
        }
        catch (Exception e) when (e is not InvalidInputException)
        {
            throw Translate(path, e);
        }
        if (!more)
        {
            if (problems.Count > 0) throw Malformed(path, problems.Dequeue(), null);
            return false;
        }
        long line = csv.LineNumber;
        if (problems.Count > 0) throw Malformed(path, problems.Dequeue(), csv);

        ReadOnlySpan<byte> raw = csv.RawRecord;
        if (IsBlank(raw))
        {
            report.CountSkipped(new DocumentOrigin(path, line));
            return true;
        }
        if (csv.FieldCount != columns.Header.Count) throw FieldCountError(path, csv, columns.Header);

        var fields = new string[columns.Text.Length];
        bool allBlank = true;
        for (int i = 0; i < fields.Length; i++)
        {
            fields[i] = csv.GetString(columns.Text[i]);
            allBlank &= string.IsNullOrWhiteSpace(fields[i]);
        }
        if (allBlank && !options.KeepEmpty)
        {
            report.CountSkipped(new DocumentOrigin(path, line));
            return true;
        }
        string? label = null;
        if (columns.Label >= 0)
        {
            label = csv.GetString(columns.Label).Trim();
            if (label.Length == 0)
            {
                if (options.LabelRequired)
                {
                    var (l, c) = TextPosition.Locate(raw, OffsetWithin(raw, csv.GetRawSpan(columns.Label)), line);
                    throw new InvalidInputException(path, l, c, $"empty label in column '{options.LabelColumn}'");
                }
                label = null;
            }
        }
        document = new TextDocument(fields, label, new DocumentOrigin(path, line))
        {
            Id = columns.Id >= 0 ? csv.GetString(columns.Id) : null,
        };
        return true;
    }

    static InvalidInputException FieldCountError(string path, CsvReader csv, IReadOnlyList<string> header)
    {
        ReadOnlySpan<byte> raw = csv.RawRecord;
        int count = csv.FieldCount;
        // Point at the first field too many, or at the end of a short row.
        int offset = count > header.Count ? OffsetWithin(raw, csv.GetRawSpan(header.Count)) : raw.Length;
        var (line, column) = TextPosition.Locate(raw, offset, csv.LineNumber);
        string hint = count > header.Count ? "; a field holding a comma must be quoted" : "";
        return new InvalidInputException(path, line, column,
            $"row has {count} field{(count == 1 ? "" : "s")} but the header has {header.Count} ({string.Join(",", header)}){hint}");
    }

    static InvalidInputException Malformed(string path, CsvMalformedRecord problem, CsvReader? current)
    {
        if (current is null || current.LineNumber != problem.LineNumber)
            return new InvalidInputException(path, problem.LineNumber, null, Describe(problem.Reason));
        ReadOnlySpan<byte> raw = current.RawRecord;
        int offset = problem.Reason == CsvMalformedReason.UnterminatedQuote
            ? OpeningQuoteOfUnclosedField(raw)
            : (int)Math.Clamp(problem.ByteOffset - current.ByteOffset, 0, raw.Length);
        var (line, column) = TextPosition.Locate(raw, offset, current.LineNumber);
        return new InvalidInputException(path, line, column, Describe(problem.Reason));
    }

    static string Describe(CsvMalformedReason reason) => reason switch
    {
        CsvMalformedReason.StrayQuote => "quote inside an unquoted field; quote the whole field and double the quote (\"\")",
        CsvMalformedReason.TextAfterClosingQuote => "text after the closing quote of a field",
        CsvMalformedReason.UnterminatedQuote => "quoted field is never closed (it runs to the end of the file)",
        _ => $"malformed CSV ({reason})",
    };

    static Exception Translate(string path, Exception e)
    {
        // Stream errors might reach us wrapped by CsvHelper; surface our own message unchanged.
        if (e.InnerException is InvalidInputException inner) ExceptionDispatchInfo.Throw(inner);
        long? line = e is CsvFormatException { LineNumber: > 0 } f ? f.LineNumber : null;
        return new InvalidInputException(path, line, null, $"malformed CSV: {e.Message}", e);
    }

    /// <summary>Byte offset of <paramref name="field"/> inside <paramref name="record"/>; both are views of CsvHelper's buffer.</summary>
    static int OffsetWithin(ReadOnlySpan<byte> record, ReadOnlySpan<byte> field)
    {
        long offset = Unsafe.ByteOffset(ref MemoryMarshal.GetReference(record), ref MemoryMarshal.GetReference(field));
        return offset >= 0 && offset <= record.Length ? (int)offset : 0;
    }

    /// <summary>Where the quoted field that never closes opened (RFC 4180: a quote opens a field only at its start).</summary>
    static int OpeningQuoteOfUnclosedField(ReadOnlySpan<byte> raw)
    {
        bool inQuotes = false, atFieldStart = true;
        int opened = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            byte b = raw[i];
            if (inQuotes)
            {
                if (b == '"')
                {
                    if (i + 1 < raw.Length && raw[i + 1] == '"') i++;
                    else inQuotes = false;
                }
                continue;
            }
            if (b == '"' && atFieldStart)
            {
                inQuotes = true;
                opened = i;
            }
            atFieldStart = b is (byte)',' or (byte)'\n';
        }
        return opened;
    }

    static bool IsBlank(ReadOnlySpan<byte> raw)
    {
        foreach (byte b in raw)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }
}
