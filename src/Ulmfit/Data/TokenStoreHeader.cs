using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Ulmfit.Data;

/// <summary>
/// The fixed 160-byte header of a token store file. All numbers little-endian. Layout of the file:
/// <code>
/// [0,160)          header (this struct)
/// [160, …)         ids: TokenCount × IdWidth bytes (uint16 when the vocabulary has ≤ 65,536 ids, else int32)
/// aligned to 8     document offsets: (DocumentCount + 1) × int64, in tokens; offsets[0] = 0, offsets[n] = TokenCount
/// then             labels (only when LabelCount > 0): DocumentCount × int32 class index, -1 = no label
/// then             metadata: UTF-8 JSON (tokenizer version, label names, skipped rows, unknown tokens, source)
/// end of file      = metadata end = FileLength
/// </code>
/// Header fields (byte offset): magic "ULMTOKS\0" (0), format version (8), id width (12), document count (16),
/// token count (24), vocabulary size (32), label count (36), vocabulary SHA-256 (40, 32 bytes), cache key SHA-256
/// (72, 32 bytes, zero when none), ids offset (104), offsets offset (112), labels offset (120), metadata offset
/// (128), metadata length (136), file length (144), first 8 bytes of the SHA-256 of bytes [0,152) (152).
/// </summary>
internal readonly record struct TokenStoreHeader(
    int IdWidth,
    long DocumentCount,
    long TokenCount,
    int VocabSize,
    int LabelCount,
    byte[] VocabHash,
    byte[] CacheKey,
    long IdsOffset,
    long OffsetsOffset,
    long LabelsOffset,
    long MetadataOffset,
    long MetadataLength,
    long FileLength)
{
    public const int Size = 160;
    public const int FormatVersion = 1;
    public static ReadOnlySpan<byte> Magic => "ULMTOKS\0"u8;
    const int ChecksumOffset = 152;

    /// <summary>Ids are 16-bit when every id fits (saves half the file and half the memory bandwidth).</summary>
    public static int IdWidthFor(int vocabSize) => vocabSize <= 65_536 ? 2 : 4;

    public void Write(Span<byte> destination)
    {
        destination = destination[..Size];
        destination.Clear();
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], IdWidth);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], DocumentCount);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], TokenCount);
        BinaryPrimitives.WriteInt32LittleEndian(destination[32..], VocabSize);
        BinaryPrimitives.WriteInt32LittleEndian(destination[36..], LabelCount);
        VocabHash.AsSpan(0, 32).CopyTo(destination[40..]);
        CacheKey.AsSpan(0, 32).CopyTo(destination[72..]);
        BinaryPrimitives.WriteInt64LittleEndian(destination[104..], IdsOffset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[112..], OffsetsOffset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[120..], LabelsOffset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[128..], MetadataOffset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[136..], MetadataLength);
        BinaryPrimitives.WriteInt64LittleEndian(destination[144..], FileLength);
        SHA256.HashData(destination[..ChecksumOffset]).AsSpan(0, 8).CopyTo(destination[ChecksumOffset..]);
    }

    /// <summary>Parses and checks the header against the real file length; a problem is an <see cref="InvalidInputException"/>.</summary>
    public static TokenStoreHeader Read(ReadOnlySpan<byte> source, long actualLength, string path)
    {
        if (source.Length < Size || actualLength < Size)
            throw Corrupt(path, $"the file is {actualLength} bytes, too short to be a token store");
        if (!source.StartsWith(Magic)) throw Corrupt(path, "not a token store (bad magic number)");
        int version = BinaryPrimitives.ReadInt32LittleEndian(source[8..]);
        if (version != FormatVersion)
            throw Corrupt(path, $"token store format version {version} is not supported (this version reads {FormatVersion}); tokenize again");
        if (!SHA256.HashData(source[..ChecksumOffset]).AsSpan(0, 8).SequenceEqual(source.Slice(ChecksumOffset, 8)))
            throw Corrupt(path, "the header is corrupt (checksum mismatch)");
        var header = new TokenStoreHeader(
            IdWidth: BinaryPrimitives.ReadInt32LittleEndian(source[12..]),
            DocumentCount: BinaryPrimitives.ReadInt64LittleEndian(source[16..]),
            TokenCount: BinaryPrimitives.ReadInt64LittleEndian(source[24..]),
            VocabSize: BinaryPrimitives.ReadInt32LittleEndian(source[32..]),
            LabelCount: BinaryPrimitives.ReadInt32LittleEndian(source[36..]),
            VocabHash: source.Slice(40, 32).ToArray(),
            CacheKey: source.Slice(72, 32).ToArray(),
            IdsOffset: BinaryPrimitives.ReadInt64LittleEndian(source[104..]),
            OffsetsOffset: BinaryPrimitives.ReadInt64LittleEndian(source[112..]),
            LabelsOffset: BinaryPrimitives.ReadInt64LittleEndian(source[120..]),
            MetadataOffset: BinaryPrimitives.ReadInt64LittleEndian(source[128..]),
            MetadataLength: BinaryPrimitives.ReadInt64LittleEndian(source[136..]),
            FileLength: BinaryPrimitives.ReadInt64LittleEndian(source[144..]));
        header.CheckLayout(actualLength, path);
        return header;
    }

    /// <summary>The regions must sit exactly where the writer puts them, inside the file, without overflow.</summary>
    void CheckLayout(long actualLength, string path)
    {
        if (FileLength != actualLength)
            throw Corrupt(path, $"the file is {actualLength} bytes but its header says {FileLength} (truncated or appended to)");
        if (IdWidth is not (2 or 4)) throw Corrupt(path, $"invalid id width {IdWidth}");
        if (VocabSize < 1 || (IdWidth == 2 && VocabSize > 65_536)) throw Corrupt(path, $"invalid vocabulary size {VocabSize} for {IdWidth}-byte ids");
        if (DocumentCount is < 0 or >= int.MaxValue) throw Corrupt(path, $"invalid document count {DocumentCount}");
        if (LabelCount < 0) throw Corrupt(path, $"invalid label count {LabelCount}");
        // Sizes are bounded by the file length before multiplying, so nothing below overflows.
        if (TokenCount < 0 || TokenCount > actualLength / IdWidth) throw Corrupt(path, $"invalid token count {TokenCount}");
        long idsEnd = Size + TokenCount * IdWidth;
        long offsetsEnd = AlignTo8(idsEnd) + (DocumentCount + 1) * 8;
        long labelsEnd = offsetsEnd + (LabelCount > 0 ? DocumentCount * 4 : 0);
        bool laidOut = IdsOffset == Size
            && OffsetsOffset == AlignTo8(idsEnd)
            && LabelsOffset == (LabelCount > 0 ? offsetsEnd : 0)
            && MetadataOffset == labelsEnd
            && MetadataLength >= 0 && MetadataLength <= int.MaxValue
            && MetadataOffset + MetadataLength == FileLength;
        if (!laidOut) throw Corrupt(path, "the sections of the file are not where the header says (corrupt header)");
    }

    public static long AlignTo8(long offset) => (offset + 7) & ~7L;

    public static InvalidInputException Corrupt(string path, string problem) => new(path, null, null, problem);
}
