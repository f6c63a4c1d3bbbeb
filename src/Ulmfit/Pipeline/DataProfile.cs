using Ulmfit.Data;

namespace Ulmfit.Pipeline;

/// <summary>
/// What <c>fit</c> knows of the labelled data before it trains, and all its recipe is sized by.
/// </summary>
/// <param name="LabelledDocuments">Labelled training documents (after <see cref="FitOptions.TrainSample"/>).</param>
/// <param name="Classes">Distinct labels (for multi-label data, distinct label names).</param>
/// <param name="SmallestClass">Documents of the rarest class.</param>
/// <param name="MedianWords">Median whitespace-separated words per document: the document length the summary reports.</param>
/// <param name="HasValidationFile">A separate labelled validation file was given.</param>
public sealed record DataProfile(int LabelledDocuments, int Classes, int SmallestClass, int MedianWords, bool HasValidationFile)
{
    /// <summary>Reads the training file once (it is small next to any training).</summary>
    public static DataProfile Read(string train, DocumentReaderOptions reader, bool multiLabel, bool hasValidationFile) =>
        Of(DocumentReader.Read(train, reader), multiLabel, hasValidationFile);

    /// <summary>The profile of labelled documents already in hand (a drawn sample, a self-training set).</summary>
    public static DataProfile Of(IEnumerable<TextDocument> documents, bool multiLabel, bool hasValidationFile)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var words = new List<int>();
        foreach (var document in documents)
        {
            words.Add(document.Fields.Sum(f => f.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length));
            foreach (string label in LabelsOf(document, multiLabel)) counts[label] = counts.GetValueOrDefault(label) + 1;
        }
        words.Sort();
        return new DataProfile(words.Count, counts.Count, counts.Count == 0 ? 0 : counts.Values.Min(),
            words.Count == 0 ? 0 : words[words.Count / 2], hasValidationFile);
    }

    /// <summary>A labelled document's classes: its label, or a multi-label document's '|'-separated label set.</summary>
    public static IReadOnlyList<string> LabelsOf(TextDocument document, bool multiLabel) => multiLabel
        ? document.Label!.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        : [document.Label!];
}
