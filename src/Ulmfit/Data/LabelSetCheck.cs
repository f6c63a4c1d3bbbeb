namespace Ulmfit.Data;

/// <summary>The classes found in a labelled input, sorted ordinally (class index = position), with document counts.</summary>
public sealed record LabelSet(IReadOnlyList<string> Classes, IReadOnlyDictionary<string, int> Counts, bool MultiLabel)
{
    /// <summary>Index of <paramref name="className"/>, or -1.</summary>
    public int IndexOf(string className)
    {
        for (int i = 0; i < Classes.Count; i++)
            if (string.Equals(Classes[i], className, StringComparison.Ordinal)) return i;
        return -1;
    }
}

/// <summary>
/// The checks a classifier runs on its training labels before spending time on tokenization and training:
/// every document has a label and there are at least two classes.
/// </summary>
public static class LabelSetCheck
{
    /// <summary>
    /// Collects the classes of <paramref name="documents"/>; throws <see cref="InvalidInputException"/> for a
    /// document without a label, an input without documents, or a single class.
    /// </summary>
    /// <param name="documents">Labelled documents (read with <see cref="DocumentReaderOptions.LabelRequired"/>).</param>
    /// <param name="source">The input as the user named it, for messages.</param>
    /// <param name="labelColumn">The label column's name, for messages.</param>
    /// <param name="multiLabel">Split labels on <paramref name="separator"/> (Reuters: <c>corn|grain</c>).</param>
    /// <param name="separator">Separator of a multi-label label.</param>
    public static LabelSet Check(IEnumerable<TextDocument> documents, string source, string labelColumn = "label",
        bool multiLabel = false, char separator = '|')
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        int documentCount = 0;
        foreach (TextDocument document in documents)
        {
            documentCount++;
            if (string.IsNullOrWhiteSpace(document.Label))
                throw new InvalidInputException(document.Origin.FilePath, document.Origin.Line > 0 ? document.Origin.Line : null, null,
                    $"document has no label (column '{labelColumn}')");
            IEnumerable<string> classes = multiLabel
                ? document.Label.Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [document.Label];
            foreach (string c in classes.Distinct(StringComparer.Ordinal))
                counts[c] = counts.GetValueOrDefault(c) + 1;
        }
        if (documentCount == 0) throw new InvalidInputException(source, null, null, "no labelled documents");
        if (counts.Count < 2)
            throw new InvalidInputException(source, null, null,
                $"label column '{labelColumn}' has only one class ('{counts.Keys.Single()}') in {documentCount} document(s); a classifier needs at least two");
        var sorted = counts.Keys.Order(StringComparer.Ordinal).ToArray();
        return new LabelSet(sorted, counts, multiLabel);
    }
}
