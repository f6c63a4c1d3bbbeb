using System.Text.Json;

namespace Ulmfit.Data;

/// <summary>
/// The vocabulary's JSON file: <c>{"format_version": 1, "size": N, "max_size": …, "min_frequency": …, "tokens": [...]}</c>,
/// one token per line so that diffs stay readable. <c>max_size</c>/<c>min_frequency</c> are informational.
/// </summary>
internal static class VocabularyFile
{
    public static void Save(Vocabulary vocabulary, string path)
    {
        AtomicFile.Write(path, stream =>
        {
            using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            json.WriteStartObject();
            json.WriteNumber("format_version", Vocabulary.FormatVersion);
            json.WriteNumber("size", vocabulary.Count);
            if (vocabulary.BuiltWith is { } settings)
            {
                json.WriteNumber("max_size", settings.MaxSize);
                json.WriteNumber("min_frequency", settings.MinFrequency);
            }
            json.WriteString("sha256", vocabulary.Hash);
            json.WriteStartArray("tokens");
            foreach (string token in vocabulary.Tokens) json.WriteStringValue(token);
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    public static Vocabulary Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(path, null, null, $"cannot read vocabulary: {e.Message}", e);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            string reason = e.Message.Split(" LineNumber:")[0];
            throw new InvalidInputException(path, e.LineNumber + 1, (int?)(e.BytePositionInLine + 1), $"not valid JSON: {reason}", e);
        }
        using (document)
        {
            try
            {
                return Read(document.RootElement, path);
            }
            catch (InvalidOperationException e)
            {
                // A value of the wrong JSON type (e.g. "size": "16") or a string that is not valid UTF-8.
                throw Bad(path, $"malformed vocabulary: {e.Message}");
            }
        }
    }

    static Vocabulary Read(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad(path, "expected a JSON object with 'format_version' and 'tokens'");
        if (!root.TryGetProperty("format_version", out JsonElement version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out int v))
            throw Bad(path, "missing 'format_version'; not a vocabulary file");
        if (v != Vocabulary.FormatVersion)
            throw Bad(path, $"vocabulary format_version {v} is not supported (this version reads {Vocabulary.FormatVersion})");
        if (!root.TryGetProperty("tokens", out JsonElement array) || array.ValueKind != JsonValueKind.Array)
            throw Bad(path, "missing 'tokens' array");
        var tokens = new string[array.GetArrayLength()];
        int i = 0;
        foreach (JsonElement element in array.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.String) throw Bad(path, $"vocabulary entry {i} is not a string");
            tokens[i++] = element.GetString()!;
        }
        if (root.TryGetProperty("size", out JsonElement size) && (!size.TryGetInt32(out int n) || n != tokens.Length))
            throw Bad(path, $"'size' is {size} but there are {tokens.Length} tokens");
        VocabularySettings? builtWith = null;
        if (root.TryGetProperty("max_size", out JsonElement max) && root.TryGetProperty("min_frequency", out JsonElement min)
            && max.TryGetInt32(out int maxSize) && min.TryGetInt32(out int minFrequency))
            builtWith = new VocabularySettings(maxSize, minFrequency);
        Vocabulary vocabulary = Vocabulary.Create(tokens, builtWith, path);
        if (root.TryGetProperty("sha256", out JsonElement hash) && hash.GetString() != vocabulary.Hash)
            throw Bad(path, "the tokens do not match the file's sha256 (edited or corrupt)");
        return vocabulary;
    }

    static InvalidInputException Bad(string path, string problem) => new(path, null, null, problem);
}
