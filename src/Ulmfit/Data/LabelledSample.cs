using CsvHelper;
using Ulmfit.Training;

namespace Ulmfit.Data;

/// <summary>
/// A seeded, stratified sample of a labelled data set: the low-shot experiments of ULMFiT (100, 500, 1,000 labels)
/// and any "how well does it do with fewer labels" question. Each label keeps its share of the documents (largest
/// remainders), and every label keeps at least one document while the sample is large enough for that.
/// </summary>
public static class LabelledSample
{
    /// <summary>Picks <paramref name="count"/> of <paramref name="documents"/> (all of them when there are no more),
    /// returned in their original order. The same seed and input give the same sample.</summary>
    public static IReadOnlyList<TextDocument> Pick(IReadOnlyList<TextDocument> documents, int count, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (count >= documents.Count) return documents;
        var strata = Enumerable.Range(0, documents.Count)
            .GroupBy(i => documents[i].Label ?? "", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.ToArray())
            .ToArray();

        // Largest-remainder quotas, then at least one per stratum (taken from the largest quotas) when count allows.
        double total = documents.Count;
        var quotas = strata.Select(s => (int)Math.Floor(count * s.Length / total)).ToArray();
        foreach (int s in Enumerable.Range(0, strata.Length)
                     .OrderByDescending(s => count * strata[s].Length / total - quotas[s]).ThenBy(s => s)
                     .Take(count - quotas.Sum()))
            quotas[s]++;
        if (count >= strata.Length)
        {
            for (int s = 0; s < strata.Length; s++)
            {
                if (quotas[s] > 0) continue;
                int donor = Enumerable.Range(0, strata.Length).MaxBy(d => quotas[d]);
                quotas[donor]--;
                quotas[s] = 1;
            }
        }

        var random = new Xoshiro256StarStar(seed);
        var chosen = new List<int>(count);
        for (int s = 0; s < strata.Length; s++)
        {
            var members = strata[s].ToArray();
            random.Shuffle(members);
            chosen.AddRange(members.Take(quotas[s]));
        }
        chosen.Sort();
        return [.. chosen.Select(i => documents[i])];
    }

    /// <summary>Writes <paramref name="documents"/> as a CSV with <paramref name="reader"/>'s text and label columns,
    /// so the same reader options read it back; written to a temporary file and renamed into place.</summary>
    public static void WriteCsv(IEnumerable<TextDocument> documents, DocumentReaderOptions reader, string path)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(reader);
        using var file = new AtomicFile(path);
        using (var stream = file.Create())
        using (var csv = CsvWriter.Create(stream, new CsvWriterOptions { Mode = CsvMode.Rfc4180, NewLine = "\n" }, leaveOpen: true))
        {
            string[] header = [.. reader.TextColumns, reader.LabelColumn];
            csv.WriteHeader(header);
            var row = new string[header.Length];
            foreach (var document in documents)
            {
                if (document.Fields.Count != reader.TextColumns.Count)
                    throw new ArgumentException($"a document has {document.Fields.Count} fields but the reader names {reader.TextColumns.Count} text columns");
                for (int i = 0; i < document.Fields.Count; i++) row[i] = document.Fields[i];
                row[^1] = document.Label ?? "";
                csv.WriteRecord(row);
            }
        }
        file.Commit();
    }
}
