using System.Buffers.Binary;
using System.Text.Json;
using Ulmfit.Data;
using static TorchSharp.torch;

namespace Ulmfit.IO;

/// <summary>
/// Writes tensors as a safetensors file that PyTorch's <c>safetensors.torch.load_file</c> (and our
/// <see cref="SafetensorsReader"/>) reads. The output is deterministic — same tensors, same bytes — because the layout
/// is fixed: tensors sorted by element size (largest first) then by ordinal name, data packed with no gaps, and the
/// JSON header (written in that same order, <c>__metadata__</c> first) padded with spaces so the data buffer starts on
/// an 8-byte boundary. Sorting by element size keeps every tensor aligned to its own element size as well. The file is
/// written to a temporary name and renamed into place, so a reader never sees half a file.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> (any device; non-contiguous tensors are copied) and optional string
    /// <paramref name="metadata"/> to <paramref name="path"/>. Refuses (with <see cref="ArgumentException"/>) empty or
    /// duplicate names, types the format cannot hold and — unless <paramref name="allowNonFinite"/> — NaN or infinite
    /// values, which our reader would refuse to load.
    /// </summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, bool allowNonFinite = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        List<Entry> entries = Prepare(tensors, allowNonFinite);
        try
        {
            byte[] header = BuildHeader(entries, metadata);
            AtomicFile.Write(path, stream =>
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                foreach (Entry e in entries)
                    if (e.ByteLength > 0) stream.Write(e.Data.bytes);
            });
        }
        finally
        {
            foreach (Entry e in entries) e.Data.Dispose();
        }
    }

    sealed record Entry(string Name, SafetensorsDType DType, long[] Shape, Tensor Data)
    {
        public long ByteLength => Data.numel() * DType.ElementSize();
    }

    static List<Entry> Prepare(IEnumerable<KeyValuePair<string, Tensor>> tensors, bool allowNonFinite)
    {
        var entries = new List<Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach ((string name, Tensor tensor) in tensors)
            {
                if (string.IsNullOrEmpty(name)) throw new ArgumentException("Tensor names must not be empty.", nameof(tensors));
                if (name == SafetensorsHeader.MetadataKey) throw new ArgumentException($"'{name}' is reserved by the format and cannot name a tensor.", nameof(tensors));
                if (!names.Add(name)) throw new ArgumentException($"Tensor name '{name}' appears twice.", nameof(tensors));
                ArgumentNullException.ThrowIfNull(tensor);
                if (!SafetensorsDTypes.TryFromScalarType(tensor.dtype, out SafetensorsDType dtype))
                    throw new ArgumentException($"Tensor '{name}' has type {tensor.dtype}, which safetensors cannot hold.", nameof(tensors));
                if (tensor.numel() * dtype.ElementSize() > int.MaxValue)
                    throw new ArgumentException($"Tensor '{name}' is larger than 2 GiB; split it.", nameof(tensors));
                // A detached, contiguous CPU view (a copy only when needed) that we own and dispose.
                Tensor data;
                using (NewDisposeScope()) data = tensor.detach().cpu().contiguous().DetachFromDisposeScope();
                entries.Add(new Entry(name, dtype, tensor.shape, data));
                if (!allowNonFinite && dtype.IsFloatingPoint())
                {
                    try { SafetensorsReader.CheckFinite(data, name, "<writer>"); }
                    catch (ModelFileException e) { throw new ArgumentException($"Not writing: {e.Problem}.", nameof(tensors), e); }
                }
            }
        }
        catch
        {
            foreach (Entry e in entries) e.Data.Dispose();
            throw;
        }
        entries.Sort((a, b) =>
        {
            int bySize = b.DType.ElementSize().CompareTo(a.DType.ElementSize());
            return bySize != 0 ? bySize : string.CompareOrdinal(a.Name, b.Name);
        });
        return entries;
    }

    static byte[] BuildHeader(List<Entry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach ((string key, string value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    ArgumentNullException.ThrowIfNull(value, $"metadata[{key}]");
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (Entry e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", e.DType.Name());
                json.WriteStartArray("shape");
                foreach (long d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + e.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += e.ByteLength;
            }
            json.WriteEndObject();
        }
        // Pad with spaces (valid JSON white space) so that 8 + header length is a multiple of 8.
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}
