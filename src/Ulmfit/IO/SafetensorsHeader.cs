using System.Text.Json;

namespace Ulmfit.IO;

/// <summary>One tensor declared by a safetensors header.</summary>
/// <param name="Name">The state-dict key.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions, outermost first (row-major data); empty for a scalar.</param>
/// <param name="Begin">First byte of the data, relative to the start of the data buffer.</param>
/// <param name="End">One past the last byte, relative to the start of the data buffer.</param>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>Bytes of data (<see cref="End"/> − <see cref="Begin"/>).</summary>
    public long ByteLength => End - Begin;

    /// <summary>Number of elements (the product of <see cref="Shape"/>).</summary>
    public long ElementCount => ByteLength / DType.ElementSize();

    /// <summary>The shape as an array, for engine calls.</summary>
    public long[] ShapeArray() => [.. Shape];
}

/// <summary>
/// A parsed and fully validated safetensors header: every tensor's dtype, shape and byte range, plus the free-form
/// <c>__metadata__</c> map. Validation guarantees: names are unique and non-empty; dtypes are supported; shape ×
/// element size equals the byte range exactly (with overflow checks); the ranges, in file order, start at 0, touch
/// each other (no gaps, no overlaps) and end exactly at the end of the file.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>The key under which the format keeps its string-to-string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    readonly Dictionary<string, SafetensorsTensorInfo> byName;

    SafetensorsHeader(List<SafetensorsTensorInfo> tensors, Dictionary<string, string> metadata, long headerLength)
    {
        Tensors = tensors;
        Metadata = metadata;
        HeaderLength = headerLength;
        byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Tensors in the order of their data in the file.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> map (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Length of the JSON header in bytes (after the 8-byte length prefix).</summary>
    public long HeaderLength { get; }

    /// <summary>File offset where the data buffer starts.</summary>
    public long DataStart => 8 + HeaderLength;

    /// <summary>The tensor called <paramref name="name"/>, or null.</summary>
    public SafetensorsTensorInfo? Find(string name) => byName.GetValueOrDefault(name);

    /// <summary>
    /// Validates <paramref name="json"/> (the header bytes) for a file whose data buffer (everything after the header)
    /// is <paramref name="dataLength"/> bytes long. Throws <see cref="ModelFileException"/> naming the problem.
    /// </summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength, string source, SafetensorsLimits? limits = null)
    {
        limits ??= SafetensorsLimits.Default;
        if (json.Length == 0 || json[0] != (byte)'{')
            throw new ModelFileException(source, 8, "safetensors header must be a JSON object starting with '{'");
        if (JsonErrors.FirstInvalidUtf8(json) is var bad and >= 0)
            throw new ModelFileException(source, 8 + bad, "safetensors header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            long? at = e.LineNumber == 0 && e.BytePositionInLine is { } p ? 8 + p : null;
            throw new ModelFileException(source, at, $"safetensors header is not valid JSON: {JsonErrors.WithoutLocation(e)}", e);
        }
        using (document)
        {
            return FromJson(document.RootElement, dataLength, json.Length, source, limits);
        }
    }

    static SafetensorsHeader FromJson(JsonElement root, long dataLength, long headerLength, string source, SafetensorsLimits limits)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad(source, "safetensors header must be a JSON object");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tensors = new List<SafetensorsTensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty property in root.EnumerateObject())
        {
            string name = property.Name;
            if (!seen.Add(name)) throw Bad(source, $"tensor '{SafetensorsDTypes.Shorten(name)}' is declared twice");
            if (name == MetadataKey)
            {
                ReadMetadata(property.Value, metadata, source);
                continue;
            }
            if (tensors.Count >= limits.MaxTensors) throw Bad(source, $"header declares more than {limits.MaxTensors} tensors");
            tensors.Add(ReadTensor(name, property.Value, source, limits));
        }
        CheckLayout(tensors, dataLength, source);
        return new SafetensorsHeader(tensors, metadata, headerLength);
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Bad(source, "'__metadata__' must be an object of strings");
        foreach (JsonProperty entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw Bad(source, $"'__metadata__' value '{SafetensorsDTypes.Shorten(entry.Name)}' must be a string, got {entry.Value.ValueKind}");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw Bad(source, $"'__metadata__' key '{SafetensorsDTypes.Shorten(entry.Name)}' appears twice");
        }
    }

    static SafetensorsTensorInfo ReadTensor(string name, JsonElement value, string source, SafetensorsLimits limits)
    {
        string shown = SafetensorsDTypes.Shorten(name);
        if (name.Length == 0) throw Bad(source, "a tensor has an empty name");
        if (name.Length > limits.MaxNameLength) throw Bad(source, $"tensor name '{shown}' is longer than {limits.MaxNameLength} characters");
        if (name.Any(char.IsControl)) throw Bad(source, $"tensor name '{shown}' contains control characters");
        if (value.ValueKind != JsonValueKind.Object) throw Bad(source, $"tensor '{shown}' must be an object with dtype, shape and data_offsets");

        string? dtypeName = null;
        JsonElement? shape = null, offsets = null;
        foreach (JsonProperty field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtypeName is null && field.Value.ValueKind == JsonValueKind.String:
                    dtypeName = field.Value.GetString()!;
                    break;
                case "shape" when shape is null:
                    shape = field.Value;
                    break;
                case "data_offsets" when offsets is null:
                    offsets = field.Value;
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Bad(source, $"tensor '{shown}': field '{field.Name}' is repeated or has the wrong type");
                default:
                    throw Bad(source, $"tensor '{shown}': unknown field '{SafetensorsDTypes.Shorten(field.Name)}'");
            }
        }
        if (dtypeName is null) throw Bad(source, $"tensor '{shown}': missing 'dtype'");
        if (shape is null) throw Bad(source, $"tensor '{shown}': missing 'shape'");
        if (offsets is null) throw Bad(source, $"tensor '{shown}': missing 'data_offsets'");
        if (!SafetensorsDTypes.TryParse(dtypeName, out SafetensorsDType dtype, out string? dtypeProblem))
            throw Bad(source, $"tensor '{shown}': {dtypeProblem}");

        long[] dims = ReadIntegers(shape.Value, source, shown, "shape", limits.MaxRank);
        long[] range = ReadIntegers(offsets.Value, source, shown, "data_offsets", 2);
        if (range.Length != 2) throw Bad(source, $"tensor '{shown}': 'data_offsets' must be [begin, end]");
        if (range[1] < range[0]) throw Bad(source, $"tensor '{shown}': data_offsets end {range[1]} is before begin {range[0]}");

        long bytes = dtype.ElementSize();
        foreach (long d in dims)
        {
            if (d != 0 && bytes > long.MaxValue / d)
                throw Bad(source, $"tensor '{shown}': shape [{string.Join(", ", dims)}] overflows a 64-bit byte count");
            bytes *= d;
        }
        if (bytes > limits.MaxTensorBytes)
            throw Bad(source, $"tensor '{shown}': {bytes} bytes is more than the {limits.MaxTensorBytes}-byte limit per tensor");
        if (range[1] - range[0] != bytes)
            throw Bad(source, $"tensor '{shown}': shape [{string.Join(", ", dims)}] of {dtype.Name()} needs {bytes} bytes, data_offsets [{range[0]}, {range[1]}] give {range[1] - range[0]}");
        return new SafetensorsTensorInfo(name, dtype, dims, range[0], range[1]);
    }

    static long[] ReadIntegers(JsonElement value, string source, string tensor, string field, int maxCount)
    {
        if (value.ValueKind != JsonValueKind.Array) throw Bad(source, $"tensor '{tensor}': '{field}' must be an array of integers");
        int count = value.GetArrayLength();
        if (count > maxCount) throw Bad(source, $"tensor '{tensor}': '{field}' has {count} entries, at most {maxCount} allowed");
        var result = new long[count];
        int i = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long n) || n < 0)
                throw Bad(source, $"tensor '{tensor}': '{field}' entry {i} must be a non-negative 64-bit integer, got {SafetensorsDTypes.Shorten(item.GetRawText())}");
            result[i++] = n;
        }
        return result;
    }

    static void CheckLayout(List<SafetensorsTensorInfo> tensors, long dataLength, string source)
    {
        // File order; empty tensors (begin == end) sort before the tensor that starts at the same byte.
        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (SafetensorsTensorInfo t in tensors)
        {
            if (t.Begin < expected)
                throw Bad(source, $"tensor '{SafetensorsDTypes.Shorten(t.Name)}' data [{t.Begin}, {t.End}] overlaps the previous tensor (which ends at {expected})");
            if (t.Begin > expected)
                throw Bad(source, $"gap in the data buffer: bytes [{expected}, {t.Begin}) belong to no tensor (before '{SafetensorsDTypes.Shorten(t.Name)}')");
            expected = t.End;
        }
        if (expected != dataLength)
            throw Bad(source, expected < dataLength
                ? $"the file has {dataLength - expected} bytes after the last tensor's data (corrupt or not a safetensors file)"
                : $"the header declares {expected} bytes of tensor data but the file holds only {dataLength} (truncated?)");
    }

    static ModelFileException Bad(string source, string problem) => new(source, problem);
}
