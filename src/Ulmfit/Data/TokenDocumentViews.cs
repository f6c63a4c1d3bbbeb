namespace Ulmfit.Data;

/// <summary>Several document collections seen as one (e.g. the token stores of a corpus's shards), in order.</summary>
public sealed class ConcatenatedTokenDocuments : ITokenDocuments
{
    readonly IReadOnlyList<ITokenDocuments> _parts;
    readonly int[] _starts; // _starts[p] = index of part p's first document

    public ConcatenatedTokenDocuments(IReadOnlyList<ITokenDocuments> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        _parts = parts;
        _starts = new int[parts.Count];
        long count = 0;
        for (int p = 0; p < parts.Count; p++)
        {
            _starts[p] = (int)count;
            count += parts[p].Count;
            TokenCount += parts[p].TokenCount;
        }
        if (count > int.MaxValue) throw new ArgumentException("more than 2^31 documents", nameof(parts));
        Count = (int)count;
    }

    public int Count { get; }
    public long TokenCount { get; }

    public int Length(int index)
    {
        var (part, local) = Locate(index);
        return _parts[part].Length(local);
    }

    public void CopyTo(int index, Span<int> destination)
    {
        var (part, local) = Locate(index);
        _parts[part].CopyTo(local, destination);
    }

    (int Part, int Local) Locate(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"there are {Count} documents");
        int part = Array.BinarySearch(_starts, index);
        if (part < 0) part = ~part - 1;
        while (part + 1 < _starts.Length && _starts[part + 1] == index) part++; // skip empty parts
        return (part, index - _starts[part]);
    }
}

/// <summary>A chosen subset of another collection's documents (a validation split), in the order given.</summary>
public sealed class TokenDocumentSubset : ITokenDocuments
{
    readonly ITokenDocuments _source;
    readonly int[] _indices;

    public TokenDocumentSubset(ITokenDocuments source, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _indices = indices.ToArray();
        foreach (int i in _indices)
        {
            if ((uint)i >= (uint)source.Count) throw new ArgumentOutOfRangeException(nameof(indices), i, $"the source has {source.Count} documents");
            TokenCount += source.Length(i);
        }
    }

    public int Count => _indices.Length;
    public long TokenCount { get; }
    public int Length(int index) => _source.Length(_indices[index]);
    public void CopyTo(int index, Span<int> destination) => _source.CopyTo(_indices[index], destination);

    /// <summary>Splits <paramref name="source"/> into a training and a validation part: a seeded random
    /// <paramref name="validationFraction"/> of the documents (at least one) goes to validation.</summary>
    public static (TokenDocumentSubset Training, TokenDocumentSubset Validation) Split(ITokenDocuments source, double validationFraction, ulong seed)
    {
        if (validationFraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "must be between 0 and 1");
        if (source.Count < 2) throw new ArgumentException("at least two documents are needed to hold some out for validation", nameof(source));
        int[] order = Enumerable.Range(0, source.Count).ToArray();
        new Training.Xoshiro256StarStar(seed).Shuffle(order);
        int held = Math.Clamp((int)Math.Round(source.Count * validationFraction), 1, source.Count - 1);
        int[] validation = order[..held];
        int[] training = order[held..];
        Array.Sort(validation);
        Array.Sort(training);
        return (new TokenDocumentSubset(source, training), new TokenDocumentSubset(source, validation));
    }
}
