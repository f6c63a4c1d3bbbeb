using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Ulmfit.Data;

/// <summary>
/// Appends documents' ids to a new token store and, on <see cref="Commit"/>, writes offsets, labels, metadata and
/// the header, then renames the file into place. Until then only a temporary file exists, deleted on dispose.
/// </summary>
internal sealed class TokenStoreWriter : IDisposable
{
    readonly AtomicFile file;
    readonly FileStream stream;
    readonly Vocabulary vocabulary;
    readonly int idWidth;
    readonly List<long> offsets = [0];
    readonly List<int> labels = [];
    readonly Dictionary<string, int> labelIndex = new(StringComparer.Ordinal); // in order of first appearance
    byte[] scratch = new byte[1 << 16];
    bool anyLabel;

    public TokenStoreWriter(string path, Vocabulary vocabulary)
    {
        this.vocabulary = vocabulary;
        idWidth = TokenStoreHeader.IdWidthFor(vocabulary.Count);
        file = new AtomicFile(path);
        stream = file.Create();
        stream.Write(new byte[TokenStoreHeader.Size]); // filled in by Commit
    }

    public int Documents => labels.Count;
    public long Tokens => offsets[^1];

    /// <summary>Appends one document; every id must be below the vocabulary size.</summary>
    public void Add(ReadOnlySpan<int> ids, string? label)
    {
        if (labels.Count == int.MaxValue - 1) throw new InvalidOperationException("a token store holds at most 2^31 - 2 documents");
        int bad = ids.IndexOfAnyExceptInRange(0, vocabulary.Count - 1);
        if (bad >= 0) throw new ArgumentException($"id {ids[bad]} is not in the vocabulary of {vocabulary.Count}", nameof(ids));
        int bytes = ids.Length * idWidth;
        if (scratch.Length < bytes) scratch = new byte[Math.Max(bytes, scratch.Length * 2)];
        Span<byte> output = scratch.AsSpan(0, bytes);
        if (idWidth == 2)
        {
            Span<ushort> narrow = MemoryMarshal.Cast<byte, ushort>(output);
            for (int i = 0; i < ids.Length; i++) narrow[i] = (ushort)ids[i];
        }
        else
        {
            MemoryMarshal.AsBytes(ids).CopyTo(output);
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("token stores are written on little-endian machines only");
        stream.Write(output);
        offsets.Add(offsets[^1] + ids.Length);
        if (label is null)
        {
            labels.Add(-1);
            return;
        }
        anyLabel = true;
        if (!labelIndex.TryGetValue(label, out int index)) labelIndex.Add(label, index = labelIndex.Count);
        labels.Add(index);
    }

    /// <summary>Finishes the file and renames it into place.</summary>
    public void Commit(string tokenizerVersion, string source, int skippedRows, long unknownTokens, ReadOnlySpan<byte> cacheKey)
    {
        // Label indices follow the sorted label names, so the same labels give the same indices in every store.
        string[] names = anyLabel ? labelIndex.Keys.Order(StringComparer.Ordinal).ToArray() : [];
        var remap = new int[labelIndex.Count];
        for (int i = 0; i < names.Length; i++) remap[labelIndex[names[i]]] = i;

        long idsEnd = stream.Position;
        stream.Write(new byte[TokenStoreHeader.AlignTo8(idsEnd) - idsEnd]);
        long offsetsOffset = stream.Position;
        var eight = new byte[8];
        foreach (long offset in offsets)
        {
            BinaryPrimitives.WriteInt64LittleEndian(eight, offset);
            stream.Write(eight);
        }
        long labelsOffset = 0;
        if (names.Length > 0)
        {
            labelsOffset = stream.Position;
            var four = new byte[4];
            foreach (int label in labels)
            {
                BinaryPrimitives.WriteInt32LittleEndian(four, label < 0 ? -1 : remap[label]);
                stream.Write(four);
            }
        }
        long metadataOffset = stream.Position;
        byte[] metadata = new TokenStoreMetadata(tokenizerVersion, names, skippedRows, unknownTokens, source).ToJson();
        stream.Write(metadata);

        byte[] key = new byte[32];
        if (!cacheKey.IsEmpty) cacheKey[..32].CopyTo(key);
        var header = new TokenStoreHeader(idWidth, Documents, Tokens, vocabulary.Count, names.Length,
            vocabulary.HashBytes.ToArray(), key, TokenStoreHeader.Size, offsetsOffset, labelsOffset,
            metadataOffset, metadata.Length, stream.Position);
        var headerBytes = new byte[TokenStoreHeader.Size];
        header.Write(headerBytes);
        stream.Position = 0;
        stream.Write(headerBytes);
        stream.Flush(flushToDisk: true);
        stream.Dispose();
        file.Commit();
    }

    public void Dispose()
    {
        stream.Dispose();
        file.Dispose();
    }
}
