using System.IO.MemoryMappedFiles;

namespace Ulmfit.Data;

/// <summary>
/// A tokenized corpus, memory-mapped: documents are read straight from the page cache, so a corpus larger than
/// memory trains without loading it. Written by <see cref="TokenStoreBuilder"/>; the layout is described on
/// <see cref="TokenStoreHeader"/>. Opening checks the whole file (header, section bounds, offsets, labels and
/// every id) so that a corrupt file is an <see cref="InvalidInputException"/>, never a crash later in training.
/// Reading is thread-safe; dispose to unmap.
/// </summary>
public sealed unsafe class TokenStore : ITokenDocuments, IDisposable
{
    readonly MemoryMappedFile map;
    readonly MemoryMappedViewAccessor view;
    readonly byte* start;
    readonly long* offsets;      // (Count + 1) document starts, in tokens
    readonly int* labels;        // Count label indices, or null
    readonly TokenStoreHeader header;
    readonly TokenStoreMetadata metadata;
    bool disposed;

    TokenStore(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* start, long length)
    {
        Path = path;
        this.map = map;
        this.view = view;
        this.start = start;
        header = TokenStoreHeader.Read(new ReadOnlySpan<byte>(start, (int)Math.Min(length, TokenStoreHeader.Size)), length, path);
        offsets = (long*)(start + header.OffsetsOffset);
        labels = header.LabelCount > 0 ? (int*)(start + header.LabelsOffset) : null;
        metadata = TokenStoreMetadata.FromJson(new ReadOnlySpan<byte>(start + header.MetadataOffset, checked((int)header.MetadataLength)),
            header.LabelCount, path);
        CheckOffsets();
        CheckLabels();
        CheckIds();
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public int Count => (int)header.DocumentCount;

    /// <inheritdoc/>
    public long TokenCount => header.TokenCount;

    /// <summary>Size of the vocabulary the ids index.</summary>
    public int VocabSize => header.VocabSize;

    /// <summary>Bytes per id in the file: 2 (vocabulary ≤ 65,536) or 4.</summary>
    public int IdWidth => header.IdWidth;

    /// <summary>SHA-256 of the vocabulary (<see cref="Vocabulary.Hash"/>) the ids belong to.</summary>
    public string VocabHash => Convert.ToHexStringLower(header.VocabHash);

    /// <summary>The cache key the store was built for (lower-case hex), or null.</summary>
    public string? CacheKey => header.CacheKey.AsSpan().ContainsAnyExcept((byte)0) ? Convert.ToHexStringLower(header.CacheKey) : null;

    /// <summary><see cref="Ulmfit.Text.ITextTokenizer.Version"/> of the tokenizer that produced the tokens.</summary>
    public string TokenizerVersion => metadata.TokenizerVersion;

    /// <summary>The input the store was built from, as it was named then.</summary>
    public string Source => metadata.Source;

    /// <summary>Empty rows that were skipped when the input was read.</summary>
    public int SkippedRows => metadata.SkippedRows;

    /// <summary>Tokens that became <c>xxunk</c> because they are not in the vocabulary.</summary>
    public long UnknownTokens => metadata.UnknownTokens;

    /// <summary>Whether any document has a label.</summary>
    public bool HasLabels => labels != null;

    /// <summary>Distinct label strings, sorted ordinally; <see cref="LabelIndex"/> indexes this list.</summary>
    public IReadOnlyList<string> LabelNames => metadata.LabelNames;

    /// <summary>Index into <see cref="LabelNames"/> of document <paramref name="index"/>'s label, or -1 for none.</summary>
    public int LabelIndex(int index)
    {
        CheckIndex(index);
        return labels == null ? -1 : labels[index];
    }

    /// <summary>Label string of document <paramref name="index"/>, or null.</summary>
    public string? Label(int index)
    {
        int label = LabelIndex(index);
        return label < 0 ? null : metadata.LabelNames[label];
    }

    /// <inheritdoc/>
    public int Length(int index)
    {
        CheckIndex(index);
        return (int)(offsets[index + 1] - offsets[index]);
    }

    /// <inheritdoc/>
    public void CopyTo(int index, Span<int> destination)
    {
        int length = Length(index);
        if (destination.Length < length) throw new ArgumentException($"destination has {destination.Length} slots, document {index} has {length} tokens", nameof(destination));
        byte* ids = start + header.IdsOffset + offsets[index] * header.IdWidth;
        if (header.IdWidth == 2)
        {
            var source = new ReadOnlySpan<ushort>(ids, length);
            for (int i = 0; i < length; i++) destination[i] = source[i];
        }
        else
        {
            new ReadOnlySpan<int>(ids, length).CopyTo(destination);
        }
    }

    /// <summary>Document <paramref name="index"/>'s ids as a new array.</summary>
    public int[] GetIds(int index)
    {
        var ids = new int[Length(index)];
        CopyTo(index, ids);
        return ids;
    }

    /// <summary>Maps and checks <paramref name="path"/>.</summary>
    /// <param name="path">A file written by <see cref="TokenStoreBuilder"/>.</param>
    /// <param name="expectedVocabulary">When given, the store must have been built with exactly this vocabulary.</param>
    public static TokenStore Open(string path, Vocabulary? expectedVocabulary = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("token stores are read on little-endian machines only");
        FileStream file;
        try
        {
            // FileShare.Delete: a rebuild may rename a new store over this one while it is mapped.
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(path, null, null, $"cannot open token store: {e.Message}", e);
        }
        long length = file.Length;
        if (length < TokenStoreHeader.Size)
        {
            file.Dispose();
            throw TokenStoreHeader.Corrupt(path, $"the file is {length} bytes, too short to be a token store");
        }
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            map = MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            acquired = true;
            var store = new TokenStore(path, map, view, pointer + view.PointerOffset, length);
            if (expectedVocabulary != null && store.VocabHash != expectedVocabulary.Hash)
            {
                store.Dispose();
                acquired = false;
                throw new InvalidInputException(path, null, null,
                    $"the token store was built with another vocabulary (sha256 {store.VocabHash[..12]}…, expected {expectedVocabulary.Hash[..12]}…); tokenize again");
            }
            return store;
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map?.Dispose();
            file.Dispose();
            throw;
        }
    }

    void CheckOffsets()
    {
        if (offsets[0] != 0) throw TokenStoreHeader.Corrupt(Path, "the first document does not start at token 0");
        for (long i = 0; i < header.DocumentCount; i++)
        {
            long length = offsets[i + 1] - offsets[i];
            if (length < 0 || length > int.MaxValue || offsets[i + 1] > header.TokenCount)
                throw TokenStoreHeader.Corrupt(Path, $"document {i} has an invalid extent (offsets {offsets[i]}..{offsets[i + 1]} of {header.TokenCount} tokens)");
        }
        if (offsets[header.DocumentCount] != header.TokenCount)
            throw TokenStoreHeader.Corrupt(Path, $"the documents hold {offsets[header.DocumentCount]} tokens but the header says {header.TokenCount}");
    }

    void CheckLabels()
    {
        if (labels == null) return;
        for (long i = 0; i < header.DocumentCount; i++)
            if (labels[i] < -1 || labels[i] >= header.LabelCount)
                throw TokenStoreHeader.Corrupt(Path, $"document {i} has label index {labels[i]}, but there are {header.LabelCount} labels");
    }

    void CheckIds()
    {
        // Vectorized range scan in chunks (a span holds at most 2^31 - 1 elements).
        const long chunk = 1 << 28;
        byte* ids = start + header.IdsOffset;
        for (long first = 0; first < header.TokenCount; first += chunk)
        {
            int n = (int)Math.Min(chunk, header.TokenCount - first);
            int bad = header.IdWidth == 2
                ? new ReadOnlySpan<ushort>(ids + first * 2, n).IndexOfAnyExceptInRange((ushort)0, (ushort)(header.VocabSize - 1))
                : new ReadOnlySpan<int>(ids + first * 4, n).IndexOfAnyExceptInRange(0, header.VocabSize - 1);
            if (bad >= 0)
                throw TokenStoreHeader.Corrupt(Path, $"token {first + bad} has an id outside the vocabulary of {header.VocabSize}");
        }
    }

    void CheckIndex(int index)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if ((uint)index >= (uint)header.DocumentCount) throw new ArgumentOutOfRangeException(nameof(index), index, $"the store has {Count} documents");
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }
}
