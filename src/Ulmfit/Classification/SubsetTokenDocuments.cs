using Ulmfit.Data;

namespace Ulmfit.Classification;

/// <summary>A view of some documents of another collection, in the given order (a training/validation split).</summary>
internal sealed class SubsetTokenDocuments : ITokenDocuments
{
    readonly ITokenDocuments _source;
    readonly int[] _indices;

    public SubsetTokenDocuments(ITokenDocuments source, IReadOnlyList<int> indices)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        ArgumentNullException.ThrowIfNull(indices);
        _indices = [.. indices];
        long tokens = 0;
        foreach (int i in _indices)
        {
            if ((uint)i >= (uint)source.Count) throw new ArgumentOutOfRangeException(nameof(indices), i, $"the collection has {source.Count} documents");
            tokens += source.Length(i);
        }
        TokenCount = tokens;
    }

    public int Count => _indices.Length;
    public long TokenCount { get; }
    public int Length(int index) => _source.Length(_indices[index]);
    public void CopyTo(int index, Span<int> destination) => _source.CopyTo(_indices[index], destination);
}
