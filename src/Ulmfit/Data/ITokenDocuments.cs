namespace Ulmfit.Data;

/// <summary>
/// A read-only collection of documents as token ids: what language-model and classifier batching consume.
/// Implemented by the memory-mapped token store and by an in-memory list.
/// </summary>
public interface ITokenDocuments
{
    /// <summary>Number of documents.</summary>
    int Count { get; }

    /// <summary>Total tokens over all documents.</summary>
    long TokenCount { get; }

    /// <summary>Number of tokens in document <paramref name="index"/>.</summary>
    int Length(int index);

    /// <summary>Copies document <paramref name="index"/>'s ids into <paramref name="destination"/> (at least <see cref="Length"/> long).</summary>
    void CopyTo(int index, Span<int> destination);
}

/// <summary>Documents held as arrays in memory (tests, small corpora, freshly tokenized text).</summary>
public sealed class InMemoryTokenDocuments(IReadOnlyList<int[]> documents) : ITokenDocuments
{
    public int Count => documents.Count;
    public long TokenCount { get; } = documents.Sum(d => (long)d.Length);
    public int Length(int index) => documents[index].Length;
    public void CopyTo(int index, Span<int> destination) => documents[index].CopyTo(destination);
}
