using Ulmfit.Data;

namespace Ulmfit.Classification;

/// <summary>
/// Tokenized documents with their classes: what the classifier trains and is evaluated on. Single-label: one class
/// index per document; multi-label: a set of class indices per document (possibly empty). Immutable.
/// </summary>
public sealed class ClassificationDataset
{
    readonly int[][] _labels; // per document: its class indices, ascending (exactly one for single-label)

    ClassificationDataset(ITokenDocuments documents, IReadOnlyList<string> classes, bool multiLabel, int[][] labels)
    {
        Documents = documents;
        Classes = classes;
        MultiLabel = multiLabel;
        _labels = labels;
    }

    /// <summary>The token ids of the documents.</summary>
    public ITokenDocuments Documents { get; }

    /// <summary>Class names; a label is an index into this list.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Whether a document may have several (or no) classes.</summary>
    public bool MultiLabel { get; }

    /// <summary>Number of documents.</summary>
    public int Count => _labels.Length;

    /// <summary>The class of single-label document <paramref name="index"/>.</summary>
    public int Label(int index)
    {
        if (MultiLabel) throw new InvalidOperationException("a multi-label dataset has label sets; use Labels(index).");
        return _labels[index][0];
    }

    /// <summary>The classes of document <paramref name="index"/>, ascending.</summary>
    public IReadOnlyList<int> Labels(int index) => _labels[index];

    /// <summary>Documents per class (a multi-label document counts once for each of its classes).</summary>
    public int[] ClassCounts()
    {
        var counts = new int[Classes.Count];
        foreach (var set in _labels)
            foreach (int c in set) counts[c]++;
        return counts;
    }

    /// <summary>Documents <paramref name="indices"/> of this dataset, in that order.</summary>
    public ClassificationDataset Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return new(new TokenDocumentSubset(Documents, indices), Classes, MultiLabel, [.. indices.Select(i => _labels[i])]);
    }

    /// <summary>A single-label dataset: document i has class <paramref name="labels"/>[i].</summary>
    public static ClassificationDataset SingleLabel(ITokenDocuments documents, IReadOnlyList<int> labels, IReadOnlyList<string> classes)
    {
        CheckShape(documents, labels?.Count, classes);
        var sets = new int[labels!.Count][];
        for (int i = 0; i < sets.Length; i++)
        {
            CheckClass(labels[i], i, classes);
            sets[i] = [labels[i]];
        }
        return new(documents, [.. classes], multiLabel: false, sets);
    }

    /// <summary>A multi-label dataset: document i has the classes <paramref name="labels"/>[i] (any order, no repeats).</summary>
    public static ClassificationDataset MultiLabelled(ITokenDocuments documents, IReadOnlyList<IReadOnlyList<int>> labels, IReadOnlyList<string> classes)
    {
        CheckShape(documents, labels?.Count, classes);
        var sets = new int[labels!.Count][];
        for (int i = 0; i < sets.Length; i++)
        {
            var set = labels[i] ?? throw new ArgumentException($"document {i} has a null label set.", nameof(labels));
            foreach (int c in set) CheckClass(c, i, classes);
            sets[i] = [.. set.Order()];
            if (sets[i].Distinct().Count() != sets[i].Length)
                throw new ArgumentException($"document {i} lists a class twice.", nameof(labels));
        }
        return new(documents, [.. classes], multiLabel: true, sets);
    }

    /// <summary>
    /// A dataset from label strings as written in the input (multi-label: classes joined by
    /// <paramref name="separator"/>, e.g. <c>corn|grain</c>). Every class must be one of <paramref name="classes"/>
    /// (the classes of the training data: a test set is labelled in the classifier's classes). Error messages name
    /// <c>source</c>, the input as the user named it, and the 1-based document number.
    /// </summary>
    /// <exception cref="InvalidInputException">A label is missing or not one of the classes.</exception>
    public static ClassificationDataset FromLabelStrings(ITokenDocuments documents, IReadOnlyList<string?> labels,
        IReadOnlyList<string> classes, bool multiLabel = false, char separator = '|', string source = "<labels>")
    {
        CheckShape(documents, labels?.Count, classes);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < classes.Count; c++) index.TryAdd(classes[c], c);
        var sets = new int[labels!.Count][];
        for (int i = 0; i < sets.Length; i++)
        {
            string? label = labels[i];
            if (string.IsNullOrWhiteSpace(label)) throw new InvalidInputException(source, null, null, $"document {i + 1} has no label");
            var names = multiLabel
                ? label.Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)
                : [label];
            var set = new List<int>();
            foreach (string name in names)
            {
                if (!index.TryGetValue(name, out int c))
                    throw new InvalidInputException(source, null, null,
                        $"document {i + 1} has label '{name}', which is not one of the classifier's {classes.Count} classes ({string.Join(", ", classes.Take(10))}{(classes.Count > 10 ? ", …" : "")})");
                set.Add(c);
            }
            sets[i] = [.. set.Order()];
        }
        return new(documents, [.. classes], multiLabel, sets);
    }

    /// <summary>A dataset from a labelled token store; <paramref name="classes"/> defaults to the store's own label
    /// names (or, multi-label, the distinct classes found in them, sorted ordinally).</summary>
    public static ClassificationDataset FromTokenStore(TokenStore store, IReadOnlyList<string>? classes = null,
        bool multiLabel = false, char separator = '|')
    {
        ArgumentNullException.ThrowIfNull(store);
        var labels = Enumerable.Range(0, store.Count).Select(store.Label).ToArray();
        classes ??= multiLabel
            ? [.. labels.SelectMany(l => (l ?? "").Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]
            : store.LabelNames;
        return FromLabelStrings(store, labels, classes, multiLabel, separator, store.Source.Length > 0 ? store.Source : store.Path);
    }

    static void CheckShape(ITokenDocuments documents, int? labelCount, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(classes);
        if (labelCount is null) throw new ArgumentNullException("labels");
        if (labelCount != documents.Count)
            throw new ArgumentException($"{labelCount} labels for {documents.Count} documents.");
        if (classes.Count < 1) throw new ArgumentException("there must be at least one class.");
    }

    static void CheckClass(int c, int document, IReadOnlyList<string> classes)
    {
        if ((uint)c >= (uint)classes.Count)
            throw new ArgumentException($"document {document} has class index {c}, but there are {classes.Count} classes.");
    }
}
