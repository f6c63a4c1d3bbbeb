namespace Ulmfit.Data;

/// <summary>
/// What reading an input produced besides the documents: counts and the rows that were skipped (warnings the
/// CLI shows). Filled while the documents are enumerated; reset at the start of every enumeration.
/// </summary>
public sealed class ReadReport
{
    /// <summary>How many skipped rows are remembered by origin (the count itself is exact).</summary>
    public const int MaxExamples = 10;

    readonly List<DocumentOrigin> skippedExamples = [];

    /// <summary>The input being read, as the user named it.</summary>
    public string Source { get; private set; } = "";

    /// <summary>Documents returned.</summary>
    public int Documents { get; private set; }

    /// <summary>Rows, lines or files whose text was empty or whitespace only; they are not returned.</summary>
    public int SkippedEmpty { get; private set; }

    /// <summary>Rows with empty or whitespace text returned as documents (<see cref="DocumentReaderOptions.KeepEmpty"/>);
    /// their origins are in <see cref="SkippedExamples"/> too.</summary>
    public int EmptyKept { get; private set; }

    /// <summary>Whether the input had the id column (CSV with <see cref="DocumentReaderOptions.IdColumn"/>).</summary>
    public bool HasIdColumn { get; internal set; }

    /// <summary>The first <see cref="MaxExamples"/> skipped (or kept-empty) rows.</summary>
    public IReadOnlyList<DocumentOrigin> SkippedExamples => skippedExamples;

    /// <summary>Whether the input had a label column (CSV) — false for plain text and folders.</summary>
    public bool HasLabelColumn { get; internal set; }

    /// <summary>One-line warning for the CLI, or null when nothing was skipped.</summary>
    public string? Warning => SkippedEmpty == 0 ? null
        : $"skipped {SkippedEmpty} empty document(s), first at {string.Join(", ", skippedExamples.Take(3))}";

    internal void Reset(string source)
    {
        Source = source;
        Documents = 0;
        SkippedEmpty = 0;
        EmptyKept = 0;
        HasLabelColumn = false;
        HasIdColumn = false;
        skippedExamples.Clear();
    }

    internal void CountDocument() => Documents++;

    internal void CountSkipped(DocumentOrigin origin)
    {
        SkippedEmpty++;
        if (skippedExamples.Count < MaxExamples) skippedExamples.Add(origin);
    }

    // An empty document returned rather than skipped: counted as a document and as kept-empty.
    internal void CountEmptyKept(DocumentOrigin origin)
    {
        Documents++;
        EmptyKept++;
        if (skippedExamples.Count < MaxExamples) skippedExamples.Add(origin);
    }
}
