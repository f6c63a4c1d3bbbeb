using System.Buffers.Binary;
using TorchSharp;
using static TorchSharp.torch;

namespace Ulmfit.IO;

/// <summary>
/// Reads safetensors files (the Hugging Face format: a little-endian u64 header length, a JSON header, then one flat
/// byte buffer) into engine tensors. The header is validated completely (<see cref="SafetensorsHeader"/>) against the
/// file's real size before any tensor is allocated, so a hostile or corrupt file costs at most one header-sized buffer
/// and ends in a <see cref="ModelFileException"/>. Tensor data is streamed from the file straight into the tensor's
/// own memory (no intermediate copy). Floating-point tensors are checked for NaN and infinity, which would otherwise
/// surface much later as a model that predicts nonsense. Not thread-safe.
/// </summary>
public sealed class SafetensorsReader : IDisposable
{
    readonly Stream stream;
    readonly bool leaveOpen;

    SafetensorsReader(Stream stream, bool leaveOpen, string source, SafetensorsHeader header)
    {
        this.stream = stream;
        this.leaveOpen = leaveOpen;
        Source = source;
        Header = header;
    }

    /// <summary>The file name used in error messages.</summary>
    public string Source { get; }

    /// <summary>The validated header.</summary>
    public SafetensorsHeader Header { get; }

    /// <summary>Opens and validates <paramref name="path"/>'s header.</summary>
    public static SafetensorsReader Open(string path, SafetensorsLimits? limits = null)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot open weights: {e.Message}", e);
        }
        try
        {
            return Open(file, path, limits, leaveOpen: false);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Validates the header of a seekable <paramref name="stream"/> positioned anywhere; <paramref name="source"/>
    /// names it in errors.</summary>
    public static SafetensorsReader Open(Stream stream, string source, SafetensorsLimits? limits = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        limits ??= SafetensorsLimits.Default;
        limits.Validate();
        long fileLength = stream.Length;
        if (fileLength < 8) throw new ModelFileException(source, $"{fileLength} bytes is too short for a safetensors file (the header length alone is 8)");
        Span<byte> prefix = stackalloc byte[8];
        stream.Position = 0;
        ReadExactly(stream, prefix, source, 0);
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (declared > (ulong)limits.MaxHeaderBytes)
            throw new ModelFileException(source, 0, $"declared header length {declared} exceeds the {limits.MaxHeaderBytes}-byte limit (corrupt or not a safetensors file)");
        long headerLength = (long)declared;
        if (headerLength > fileLength - 8)
            throw new ModelFileException(source, 0, $"declared header length {headerLength} is longer than the rest of the file ({fileLength - 8} bytes): truncated or not a safetensors file");
        byte[] json = new byte[headerLength];
        ReadExactly(stream, json, source, 8);
        SafetensorsHeader header = SafetensorsHeader.Parse(json, fileLength - 8 - headerLength, source, limits);
        return new SafetensorsReader(stream, leaveOpen, source, header);
    }

    /// <summary>Reads every tensor, in file order. The caller owns (and disposes) them; on error none are left alive.</summary>
    public Dictionary<string, Tensor> ReadAll(bool rejectNonFinite = true)
    {
        var result = new Dictionary<string, Tensor>(Header.Tensors.Count, StringComparer.Ordinal);
        try
        {
            foreach (SafetensorsTensorInfo info in Header.Tensors) result.Add(info.Name, Read(info, rejectNonFinite));
            return result;
        }
        catch
        {
            foreach (Tensor t in result.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>Reads the tensor called <paramref name="name"/>; the caller owns it.</summary>
    public Tensor ReadTensor(string name, bool rejectNonFinite = true)
    {
        SafetensorsTensorInfo info = Header.Find(name)
            ?? throw new ModelFileException(Source, $"no tensor named '{SafetensorsDTypes.Shorten(name)}' in the file");
        return Read(info, rejectNonFinite);
    }

    /// <summary>Reads all tensors of <paramref name="path"/> (see <see cref="ReadAll"/>).</summary>
    public static Dictionary<string, Tensor> Load(string path, SafetensorsLimits? limits = null, bool rejectNonFinite = true)
    {
        using SafetensorsReader reader = Open(path, limits);
        return reader.ReadAll(rejectNonFinite);
    }

    Tensor Read(SafetensorsTensorInfo info, bool rejectNonFinite)
    {
        // The header guarantees ByteLength == product(shape) × element size ≤ MaxTensorBytes ≤ int.MaxValue and that
        // the range lies inside the file, so this allocation is what the file really holds. Detached from any dispose
        // scope of the caller: loaded weights live until their owner disposes them.
        Tensor tensor = empty(info.ShapeArray(), info.DType.ToScalarType()).DetachFromDisposeScope();
        try
        {
            long at = Header.DataStart + info.Begin;
            stream.Position = at;
            if (info.ByteLength > 0) ReadExactly(stream, tensor.bytes, Source, at);
            if (info.DType == SafetensorsDType.Bool) CheckBooleans(tensor, info, at);
            if (rejectNonFinite && info.DType.IsFloatingPoint()) CheckFinite(tensor, info.Name, Source);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    void CheckBooleans(Tensor tensor, SafetensorsTensorInfo info, long at)
    {
        ReadOnlySpan<byte> bytes = tensor.bytes;
        int bad = bytes.IndexOfAnyExcept((byte)0, (byte)1);
        if (bad >= 0) throw new ModelFileException(Source, at + bad, $"tensor '{info.Name}' is BOOL but holds the byte {bytes[bad]} (only 0 and 1 are valid)");
    }

    /// <summary>Throws naming <paramref name="name"/> and how many values are NaN or infinite.</summary>
    internal static void CheckFinite(Tensor tensor, string name, string source)
    {
        if (tensor.numel() == 0) return;
        using var scope = NewDisposeScope();
        Tensor finite = isfinite(tensor);
        if (finite.all().item<bool>()) return;
        long bad = tensor.numel() - finite.sum().item<long>();
        throw new ModelFileException(source, $"tensor '{name}' has {bad} non-finite value(s) (NaN or infinity) of {tensor.numel()}: the weights are corrupt or training diverged");
    }

    static void ReadExactly(Stream stream, Span<byte> destination, string source, long at)
    {
        try
        {
            stream.ReadExactly(destination);
        }
        catch (EndOfStreamException e)
        {
            throw new ModelFileException(source, at, $"file ended inside a {destination.Length}-byte read (truncated or changed while reading)", e);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!leaveOpen) stream.Dispose();
    }
}
