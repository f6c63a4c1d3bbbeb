using System.Text.Json;

namespace Ulmfit.Data;

/// <summary>The variable-length part of a token store's header, stored as UTF-8 JSON at the end of the file.</summary>
internal sealed record TokenStoreMetadata(
    string TokenizerVersion,
    IReadOnlyList<string> LabelNames,
    int SkippedRows,
    long UnknownTokens,
    string Source)
{
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("tokenizer_version", TokenizerVersion);
            json.WriteString("source", Source);
            json.WriteNumber("skipped_rows", SkippedRows);
            json.WriteNumber("unknown_tokens", UnknownTokens);
            json.WriteStartArray("label_names");
            foreach (string name in LabelNames) json.WriteStringValue(name);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    public static TokenStoreMetadata FromJson(ReadOnlySpan<byte> utf8, int labelCount, string path)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            JsonElement root = document.RootElement;
            string version = root.GetProperty("tokenizer_version").GetString() ?? throw new FormatException("tokenizer_version is null");
            string source = root.GetProperty("source").GetString() ?? "";
            int skipped = root.GetProperty("skipped_rows").GetInt32();
            long unknown = root.GetProperty("unknown_tokens").GetInt64();
            var names = root.GetProperty("label_names").EnumerateArray()
                .Select(e => e.GetString() ?? throw new FormatException("a label name is null")).ToArray();
            if (names.Length != labelCount)
                throw TokenStoreHeader.Corrupt(path, $"the header says {labelCount} labels but the metadata names {names.Length}");
            if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
                throw TokenStoreHeader.Corrupt(path, "a label name appears twice in the metadata");
            return new TokenStoreMetadata(version, names, skipped, unknown, source);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidInputException(path, null, null, $"the metadata section is corrupt ({e.Message})", e);
        }
    }
}
