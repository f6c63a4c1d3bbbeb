using System.Text;
using System.Text.Unicode;

namespace Ulmfit.Data;

/// <summary>
/// Passes bytes through unchanged and throws <see cref="InvalidInputException"/> (with line and column) at the
/// first byte that is not valid UTF-8. Why a stream: CsvHelper 34 and <see cref="StreamReader"/> both replace bad
/// bytes with U+FFFD silently, so checking has to happen before they see the bytes. Also turns a corrupt gzip
/// stream underneath into the same one-line error.
/// </summary>
internal sealed class Utf8CheckingStream(Stream inner, string displayPath) : Stream
{
    long line = 1;            // line of the next byte
    int column;               // characters already passed on that line
    bool atStart = true;
    // A multi-byte sequence cut by the end of the previous read (1..3 bytes), checked when the rest arrives.
    readonly byte[] pending = new byte[4];
    int pendingCount;
    long pendingLine;
    int pendingColumn;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n;
        try { n = inner.Read(buffer); }
        catch (InvalidDataException e) { throw CorruptCompression(e); }
        catch (EndOfStreamException e) { throw CorruptCompression(e); }
        catch (ICSharpCode.SharpZipLib.SharpZipBaseException e) { throw CorruptCompression(e); }
        Check(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n;
        try { n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false); }
        catch (InvalidDataException e) { throw CorruptCompression(e); }
        catch (EndOfStreamException e) { throw CorruptCompression(e); }
        catch (ICSharpCode.SharpZipLib.SharpZipBaseException e) { throw CorruptCompression(e); }
        Check(buffer.Span[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    InvalidInputException CorruptCompression(Exception e) =>
        new(displayPath, line, null, $"the compressed data is corrupt or truncated ({e.Message})", e);

    void Check(ReadOnlySpan<byte> chunk)
    {
        if (chunk.IsEmpty)
        {
            if (pendingCount > 0)
                throw new InvalidInputException(displayPath, pendingLine, pendingColumn,
                    $"the file ends inside a UTF-8 sequence (byte 0x{pending[0]:X2})");
            return;
        }
        if (atStart)
        {
            atStart = false;
            // A UTF-8 byte order mark is not a character of the first line.
            if (chunk.StartsWith("\uFEFF"u8)) column = -1;
        }
        int start = pendingCount > 0 ? CompletePending(chunk) : 0;
        if (start < 0) return; // still incomplete: the whole chunk was continuation bytes of the pending sequence
        ReadOnlySpan<byte> body = chunk[start..];
        int tail = IncompleteTailLength(body);
        ReadOnlySpan<byte> complete = body[..^tail];
        if (!Utf8.IsValid(complete)) ThrowAtFirstInvalid(complete);
        Advance(complete);
        if (tail > 0)
        {
            body[^tail..].CopyTo(pending);
            pendingCount = tail;
            pendingLine = line;
            pendingColumn = column + 1;
            column++; // the lead byte is one character; its continuation bytes add none
        }
    }

    /// <summary>Finishes the sequence left over from the last read; returns where the new bytes start, or -1.</summary>
    int CompletePending(ReadOnlySpan<byte> chunk)
    {
        int full = SequenceLength(pending[0]);
        int take = Math.Min(full - pendingCount, chunk.Length);
        for (int i = 0; i < take; i++)
        {
            if ((chunk[i] & 0xC0) != 0x80) ThrowPending();
            pending[pendingCount + i] = chunk[i];
        }
        if (pendingCount + take < full)
        {
            pendingCount += take;
            return -1;
        }
        if (System.Buffers.OperationStatus.Done != Rune.DecodeFromUtf8(pending.AsSpan(0, full), out _, out _)) ThrowPending();
        pendingCount = 0;
        return take;
    }

    void ThrowPending() =>
        throw new InvalidInputException(displayPath, pendingLine, pendingColumn, $"invalid UTF-8 byte 0x{pending[0]:X2}");

    void Advance(ReadOnlySpan<byte> complete)
    {
        int newlines = complete.Count((byte)'\n');
        if (newlines == 0)
        {
            column += TextPosition.CountCharacters(complete);
            return;
        }
        line += newlines;
        column = TextPosition.CountCharacters(complete[(complete.LastIndexOf((byte)'\n') + 1)..]);
    }

    void ThrowAtFirstInvalid(ReadOnlySpan<byte> bytes)
    {
        int index = 0;
        while (index < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[index..], out _, out int consumed) != System.Buffers.OperationStatus.Done) break;
            index += consumed;
        }
        var (l, c) = TextPosition.Locate(bytes, index, line, column);
        string problem = $"invalid UTF-8 byte 0x{bytes[index]:X2}";
        if (l == 1 && c == 1 && bytes.Length >= 2 && (bytes[0], bytes[1]) is (0xFF, 0xFE) or (0xFE, 0xFF))
            problem += " (the file looks like UTF-16; save it as UTF-8)";
        throw new InvalidInputException(displayPath, l, c, problem);
    }

    /// <summary>Length of a multi-byte sequence cut off at the end of <paramref name="bytes"/> (0 when none).</summary>
    static int IncompleteTailLength(ReadOnlySpan<byte> bytes)
    {
        for (int back = 1; back <= Math.Min(3, bytes.Length); back++)
        {
            byte b = bytes[^back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte: keep looking for the lead
            int expected = SequenceLength(b);
            // A valid lead whose sequence needs more bytes than are left is incomplete; anything else is for
            // Utf8.IsValid to judge (complete sequences, ASCII, invalid lead bytes).
            return expected > back ? back : 0;
        }
        return 0;
    }

    /// <summary>Bytes in the sequence a lead byte starts; 1 for ASCII and for bytes that cannot lead (invalid).</summary>
    static int SequenceLength(byte lead) => lead switch
    {
        >= 0xC2 and <= 0xDF => 2,
        >= 0xE0 and <= 0xEF => 3,
        >= 0xF0 and <= 0xF4 => 4,
        _ => 1,
    };
}
