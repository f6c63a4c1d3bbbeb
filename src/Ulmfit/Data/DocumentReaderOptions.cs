namespace Ulmfit.Data;

/// <summary>How input files are turned into documents (the CLI's <c>--text-column</c>, <c>--label-column</c>,
/// <c>--line-per-document</c>).</summary>
public sealed record DocumentReaderOptions
{
    /// <summary>CSV columns that make up the text, in order; several become several fields.</summary>
    public IReadOnlyList<string> TextColumns { get; init; } = ["text"];

    /// <summary>CSV column holding the label.</summary>
    public string LabelColumn { get; init; } = "label";

    /// <summary>
    /// When true a CSV without <see cref="LabelColumn"/>, or a row with an empty label, is an error (classifier
    /// training and evaluation). When false (language-model corpora) a missing label column just gives
    /// unlabelled documents. Set it whenever the user named the label column explicitly, so a misspelling is caught.
    /// </summary>
    public bool LabelRequired { get; init; }

    /// <summary>Plain text only: every non-blank line is a document, instead of blocks separated by blank lines.</summary>
    public bool LinePerDocument { get; init; }

    /// <summary>
    /// Return rows (and, with <see cref="LinePerDocument"/>, lines) whose text is empty or whitespace as documents
    /// instead of skipping them, so that output rows line up with input rows (prediction). Counted in
    /// <see cref="ReadReport.EmptyKept"/>.
    /// </summary>
    public bool KeepEmpty { get; init; }

    /// <summary>CSV column whose value is carried through as <see cref="TextDocument.Id"/> (null: none).</summary>
    public string? IdColumn { get; init; }

    /// <summary>Whether a CSV without <see cref="IdColumn"/> is an error (the user named it) or just has no ids.</summary>
    public bool IdRequired { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> with a message that says what to fix.</summary>
    public void Validate()
    {
        if (TextColumns.Count == 0) throw new ArgumentException("at least one text column is needed", nameof(TextColumns));
        foreach (string c in TextColumns)
            if (string.IsNullOrWhiteSpace(c)) throw new ArgumentException("a text column name is empty", nameof(TextColumns));
        if (TextColumns.Distinct(StringComparer.Ordinal).Count() != TextColumns.Count)
            throw new ArgumentException($"a text column is named twice: {string.Join(", ", TextColumns)}", nameof(TextColumns));
        if (string.IsNullOrWhiteSpace(LabelColumn)) throw new ArgumentException("the label column name is empty", nameof(LabelColumn));
        if (TextColumns.Contains(LabelColumn, StringComparer.Ordinal))
            throw new ArgumentException($"column '{LabelColumn}' cannot be both text and label", nameof(LabelColumn));
        if (IdColumn is not null && TextColumns.Contains(IdColumn, StringComparer.Ordinal))
            throw new ArgumentException($"column '{IdColumn}' cannot be both text and id", nameof(IdColumn));
        if (IdRequired && string.IsNullOrWhiteSpace(IdColumn)) throw new ArgumentException("the id column name is empty", nameof(IdColumn));
    }
}
