using System.Buffers.Binary;
using System.Text;

namespace Ulmfit.IO;

/// <summary>
/// The byte source of one pickle: a seekable stream read from its current position, with every length a pickle
/// declares checked against what is really left (in the stream and under <see cref="PickleLimits.MaxPickleBytes"/>)
/// before anything of that length is allocated. Offsets in errors are stream positions, i.e. file offsets.
/// </summary>
internal sealed class PickleInput
{
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    readonly Stream stream;
    readonly long end;
    readonly string source;
    readonly PickleLimits limits;
    readonly byte[] scratch = new byte[8];

    public PickleInput(Stream stream, string source, PickleLimits limits)
    {
        this.stream = stream;
        this.source = source;
        this.limits = limits;
        long start = stream.Position;
        end = start + Math.Min(stream.Length - start, limits.MaxPickleBytes);
    }

    /// <summary>Position of the next byte.</summary>
    public long Position => stream.Position;

    public long Remaining => end - stream.Position;

    public ModelFileException Error(long offset, string problem) => new(source, offset, problem);

    public byte ReadOpcode()
    {
        if (Remaining < 1)
            throw Error(Position, stream.Position >= stream.Length
                ? "pickle ends without a STOP opcode (truncated file)"
                : $"pickle is longer than the {limits.MaxPickleBytes}-byte limit");
        return (byte)stream.ReadByte();
    }

    public ReadOnlySpan<byte> ReadFixed(int count)
    {
        Require(count);
        Span<byte> bytes = scratch.AsSpan(0, count);
        stream.ReadExactly(bytes);
        return bytes;
    }

    public byte ReadU8() => ReadFixed(1)[0];

    public ushort ReadU16() => BinaryPrimitives.ReadUInt16LittleEndian(ReadFixed(2));

    public int ReadI32() => BinaryPrimitives.ReadInt32LittleEndian(ReadFixed(4));

    public uint ReadU32() => BinaryPrimitives.ReadUInt32LittleEndian(ReadFixed(4));

    public ulong ReadU64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadFixed(8));

    public double ReadBigEndianDouble() => BinaryPrimitives.ReadDoubleBigEndian(ReadFixed(8));

    /// <summary>Reads a length-prefixed payload after checking the declared length against the caps.</summary>
    public byte[] ReadBytes(ulong declared, long opcodeOffset, string what)
    {
        if (declared > (ulong)limits.MaxStringBytes)
            throw Error(opcodeOffset, $"{what} declares {declared} bytes, more than the {limits.MaxStringBytes}-byte limit");
        if ((long)declared > Remaining)
            throw Error(opcodeOffset, $"{what} declares {declared} bytes but only {Remaining} remain (truncated or corrupt)");
        var bytes = new byte[declared];
        stream.ReadExactly(bytes);
        return bytes;
    }

    public string ReadUtf8(ulong declared, long opcodeOffset, string what) => DecodeUtf8(ReadBytes(declared, opcodeOffset, what), opcodeOffset);

    public string DecodeUtf8(byte[] bytes, long opcodeOffset)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error(opcodeOffset, "string is not valid UTF-8");
        }
    }

    /// <summary>A newline-terminated ASCII line (protocol-0 arguments), without the newline.</summary>
    public string ReadLine(int maxLength, long opcodeOffset, string what)
    {
        var line = new StringBuilder();
        while (true)
        {
            if (Remaining < 1) throw Error(opcodeOffset, $"{what}: line has no end (truncated)");
            int b = stream.ReadByte();
            if (b == '\n') return line.ToString();
            if (b is < 0x20 or > 0x7e) throw Error(opcodeOffset, $"{what}: line holds a non-printable byte 0x{b:x2}");
            if (line.Length >= maxLength) throw Error(opcodeOffset, $"{what}: line is longer than {maxLength} characters");
            line.Append((char)b);
        }
    }

    void Require(int count)
    {
        if (Remaining < count) throw Error(Position, $"pickle ends inside an opcode argument (needs {count} bytes, {Remaining} remain)");
    }
}
