namespace Ulmfit.Data;

/// <summary>Where a document came from: the file as the user named it and the 1-based line its record starts on.</summary>
public readonly record struct DocumentOrigin(string FilePath, long Line)
{
    /// <summary>The origin of documents that were not read from a file (a prompt, an API call).</summary>
    public static DocumentOrigin InMemory { get; } = new("<memory>", 0);

    public override string ToString() => Line > 0 ? $"{FilePath}:{Line}" : FilePath;
}

/// <summary>
/// One document as read from the input, before tokenization.
/// </summary>
/// <param name="Fields">The text columns in the order they were asked for; several fields are joined by the
/// tokenizer with <c>xxfld</c> markers.</param>
/// <param name="Label">The label string as written in the input (multi-label rows keep their separator), or
/// <see langword="null"/> for unlabelled input.</param>
/// <param name="Origin">File and line of the record, for error messages.</param>
public sealed record TextDocument(IReadOnlyList<string> Fields, string? Label, DocumentOrigin Origin)
{
    /// <summary>A single-field document that did not come from a file.</summary>
    public static TextDocument FromText(string text, string? label = null) => new([text], label, DocumentOrigin.InMemory);

    /// <summary>The row's identifier from <see cref="DocumentReaderOptions.IdColumn"/>, or null.</summary>
    public string? Id { get; init; }

    /// <summary>Whether every field is empty or whitespace (only returned with <see cref="DocumentReaderOptions.KeepEmpty"/>).</summary>
    public bool IsBlank => Fields.All(string.IsNullOrWhiteSpace);

    /// <summary>Total characters over all fields (used to size work batches).</summary>
    public long CharacterCount
    {
        get
        {
            long n = 0;
            foreach (string f in Fields) n += f.Length;
            return n;
        }
    }
}
