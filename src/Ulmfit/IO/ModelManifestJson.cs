using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Ulmfit.IO;

/// <summary>Strict JSON reading and deterministic writing of <see cref="ModelManifest"/>.</summary>
internal static partial class ModelManifestJson
{
    /// <summary>Largest manifest accepted; real ones are a few kilobytes (the vocabulary lives in its own file).</summary>
    public const int MaxBytes = 16 << 20;

    static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Unknown fields are errors, missing required ones are errors, null where a value is required is an error.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        AllowDuplicateProperties = false,
        NumberHandling = JsonNumberHandling.Strict,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 16,
        WriteIndented = true,
        // Optional sections (labels, architecture.head) are left out rather than written as null.
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false), new UtcTimeConverter() },
    };

    /// <summary>Times as ISO 8601 with a <c>Z</c> (<c>2025-01-31T12:00:00Z</c>); any ISO 8601 offset is read, and
    /// validation then insists on UTC.</summary>
    sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDateTimeOffset();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture));
    }

    public static string KindName(ModelKind kind) => JsonNamingPolicy.KebabCaseLower.ConvertName(kind.ToString());

    public static byte[] Serialize(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ModelManifest ordered = manifest with
        {
            Training = new SortedDictionary<string, JsonElement>(manifest.Training.ToDictionary(), StringComparer.Ordinal),
            Metrics = new SortedDictionary<string, double>(manifest.Metrics.ToDictionary(), StringComparer.Ordinal),
        };
        return JsonSerializer.SerializeToUtf8Bytes(ordered, Options);
    }

    public static ModelManifest Parse(ReadOnlySpan<byte> json, string source)
    {
        if (json.Length > MaxBytes) throw new ModelFileException(source, $"manifest is {json.Length} bytes, more than the {MaxBytes}-byte limit");
        if (JsonErrors.FirstInvalidUtf8(json) is var bad and >= 0) throw new ModelFileException(source, bad, "manifest is not valid UTF-8");
        CheckFormatVersion(json, source);
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(json, Options);
        }
        catch (JsonException e)
        {
            throw new ModelFileException(Location(source, e), Describe(e), e);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or ArgumentException or FormatException)
        {
            // System.Text.Json reports some type mismatches this way; they are still bad input, not our bug.
            throw new ModelFileException(source, $"manifest does not have the expected shape: {e.Message}", e);
        }
        if (manifest is null) throw new ModelFileException(source, "manifest is 'null'; expected an object");
        IReadOnlyList<string> problems = manifest.Problems();
        if (problems.Count > 0) throw new ModelFileException(source, string.Join("; ", problems));
        return manifest;
    }

    /// <summary>Reads format_version first, so that a newer package gets "newer format" rather than a confusing
    /// complaint about some field this version does not know.</summary>
    static void CheckFormatVersion(ReadOnlySpan<byte> json, string source)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new ModelFileException(source, "manifest must be a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isVersion = reader.ValueTextEquals("format_version"u8);
                reader.Read();
                if (isVersion)
                {
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int version))
                        throw new ModelFileException(source, "format_version must be an integer");
                    if (version > ModelManifest.CurrentFormatVersion)
                        throw new ModelFileException(source, $"the package has format_version {version}, newer than this library reads ({ModelManifest.CurrentFormatVersion}); upgrade Ulmfit.NET");
                    if (version != ModelManifest.CurrentFormatVersion)
                        throw new ModelFileException(source, $"format_version {version} is not supported (this library reads {ModelManifest.CurrentFormatVersion})");
                    return;
                }
                reader.Skip();
            }
            // Missing: the full parse reports it with the other missing fields.
        }
        catch (JsonException e)
        {
            throw new ModelFileException(Location(source, e), $"manifest is not valid JSON: {JsonErrors.WithoutLocation(e)}", e);
        }
    }

    static string Location(string source, JsonException e) =>
        e.LineNumber is { } line ? $"{source}:{line + 1}:{(e.BytePositionInLine ?? 0) + 1}" : source;

    [GeneratedRegex(@"The JSON property '(?<name>[^']*)' could not be mapped")]
    private static partial Regex UnknownProperty();

    [GeneratedRegex(@"missing required properties including: (?<names>.*)\.$")]
    private static partial Regex MissingProperties();

    /// <summary>The problem in JSON terms (field names and paths), not .NET type names.</summary>
    static string Describe(JsonException e)
    {
        string message = JsonErrors.WithoutLocation(e);
        string path = e.Path ?? "$";
        if (UnknownProperty().Match(message) is { Success: true } unknown)
        {
            string parent = path.EndsWith("." + unknown.Groups["name"].Value, StringComparison.Ordinal)
                ? path[..^(unknown.Groups["name"].Value.Length + 1)] : path;
            return $"unknown field '{unknown.Groups["name"].Value}' in {parent} (this library's format {ModelManifest.CurrentFormatVersion} does not have it)";
        }
        if (MissingProperties().Match(message) is { Success: true } missing)
            return $"missing required field(s) {missing.Groups["names"].Value} in {path}";
        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase)) return $"field repeated at {path}";
        if (message.Contains("could not be converted", StringComparison.Ordinal)) return $"{path} has the wrong type or value ({TypeHint(message)})";
        if (message.Contains("null", StringComparison.OrdinalIgnoreCase)) return $"{path} must not be null";
        return $"manifest is not valid: {message} (at {path})";
    }

    static string TypeHint(string message)
    {
        // "The JSON value could not be converted to System.Int32." → "expected an integer"
        int to = message.LastIndexOf(" to ", StringComparison.Ordinal);
        string type = to < 0 ? "" : message[(to + 4)..].TrimEnd('.');
        int generic = type.IndexOfAny(['`', '[']);
        if (generic >= 0) type = type[..generic];
        type = type[(type.LastIndexOf('.') + 1)..];
        return "expected " + type switch
        {
            "Int32" or "Int64" => "an integer",
            "Double" => "a number",
            "String" => "a string",
            "Boolean" => "true or false",
            nameof(ModelKind) => "one of " + string.Join(", ", Enum.GetValues<ModelKind>().Select(KindName)),
            "DateTimeOffset" => "an ISO 8601 time such as 2025-01-31T12:00:00Z",
            "IReadOnlyList" => "an array",
            "IReadOnlyDictionary" => "an object",
            _ => "an object with the documented fields",
        };
    }
}
