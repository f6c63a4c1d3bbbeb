using System.Reflection;
using System.Text.Json;

namespace Ulmfit.IO;

/// <summary>
/// The manifest of a model package (<c>model.json</c>): format version, kind, architecture, tokenizer, vocabulary and
/// weight file records, label set, training options, metrics, and the library version that wrote it. Data only:
/// parsing is strict (unknown or missing fields, wrong types and out-of-range values are <see cref="ModelFileException"/>s
/// naming the field), and nothing in it is ever executed. See <c>docs/model-package-format.md</c>.
/// </summary>
/// <remarks>
/// Create one with the fields you know (<see cref="Kind"/>, <see cref="Architecture"/>, <see cref="Tokenizer"/>, and
/// <see cref="Labels"/> for a classifier); <see cref="ModelPackage.Save(string, ModelManifest, Data.Vocabulary, IReadOnlyDictionary{string, TorchSharp.torch.Tensor})"/>
/// fills in <see cref="Vocabulary"/>, <see cref="Weights"/>, <see cref="CreatedUtc"/> and <see cref="LibraryVersion"/>.
/// </remarks>
public sealed record ModelManifest
{
    /// <summary>The format version this library writes and reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The manifest's file name inside a package.</summary>
    public const string FileName = "model.json";

    /// <summary>Format version; 1.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>Language model, encoder or classifier.</summary>
    public required ModelKind Kind { get; init; }

    /// <summary>Version of the library that wrote the package.</summary>
    public string LibraryVersion { get; init; } = ThisLibraryVersion;

    /// <summary>When the package was written (UTC).</summary>
    public DateTimeOffset CreatedUtc { get; init; }

    /// <summary>The network's shape and regularisation.</summary>
    public required ArchitectureSpec Architecture { get; init; }

    /// <summary>The text rules the vocabulary was built with.</summary>
    public required TokenizerSpec Tokenizer { get; init; }

    /// <summary>Where the vocabulary is and what it holds; filled in when the package is saved.</summary>
    public VocabularyRecord? Vocabulary { get; init; }

    /// <summary>Where the weights are and their checksum; filled in when the package is saved.</summary>
    public WeightsRecord? Weights { get; init; }

    /// <summary>The classes of a classifier (absent for language models and encoders).</summary>
    public LabelsSpec? Labels { get; init; }

    /// <summary>Free-form training options (epochs, learning rates, corpus name…): strings, numbers and booleans only.</summary>
    public IReadOnlyDictionary<string, JsonElement> Training { get; init; } = new Dictionary<string, JsonElement>();

    /// <summary>Named results (validation loss, accuracy…): finite numbers.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>This assembly's version (informational version without build metadata).</summary>
    public static string ThisLibraryVersion { get; } = ReadLibraryVersion();

    /// <summary>A training-option value from a string.</summary>
    public static JsonElement Option(string value) => JsonSerializer.SerializeToElement(value);

    /// <summary>A training-option value from a number.</summary>
    public static JsonElement Option(double value) => JsonSerializer.SerializeToElement(value);

    /// <summary>A training-option value from a boolean.</summary>
    public static JsonElement Option(bool value) => JsonSerializer.SerializeToElement(value);

    /// <summary>The manifest as indented UTF-8 JSON (dictionaries in ordinal key order, so output is deterministic).</summary>
    public byte[] ToJson() => ModelManifestJson.Serialize(this);

    /// <summary>Parses and validates a manifest; <paramref name="source"/> names it in errors.</summary>
    public static ModelManifest Parse(ReadOnlySpan<byte> json, string source) => ModelManifestJson.Parse(json, source);

    /// <summary>Every rule a complete manifest breaks (empty when it is valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (FormatVersion != CurrentFormatVersion) problems.Add($"format_version {FormatVersion} is not supported (this library reads {CurrentFormatVersion})");
        if (!Enum.IsDefined(Kind)) problems.Add($"kind {Kind} is not known");
        if (string.IsNullOrWhiteSpace(LibraryVersion) || LibraryVersion.Length > 100 || LibraryVersion.Any(char.IsControl))
            problems.Add("library_version must be a non-empty single-line string of at most 100 characters");
        if (CreatedUtc.Offset != TimeSpan.Zero) problems.Add($"created_utc must be in UTC (offset +00:00 or Z), got offset {CreatedUtc.Offset}");
        if (Architecture is null) problems.Add("architecture is missing");
        else problems.AddRange(Architecture.Problems());
        if (Tokenizer is null) problems.Add("tokenizer is missing");
        else problems.AddRange(Tokenizer.Problems());
        if (Vocabulary is null) problems.Add("vocabulary is missing");
        else problems.AddRange(Vocabulary.Problems(Architecture?.VocabSize));
        if (Weights is null) problems.Add("weights is missing");
        else problems.AddRange(Weights.Problems());

        bool classifier = Kind == ModelKind.Classifier;
        if (classifier && Labels is null) problems.Add("a classifier needs 'labels'");
        if (!classifier && Labels is not null) problems.Add($"'labels' belongs to classifiers, not to a {ModelManifestJson.KindName(Kind)}");
        if (classifier && Architecture is { Head: null }) problems.Add("a classifier needs 'architecture.head'");
        if (!classifier && Architecture is { Head: not null }) problems.Add($"'architecture.head' belongs to classifiers, not to a {ModelManifestJson.KindName(Kind)}");
        if (Labels is not null) problems.AddRange(Labels.Problems());

        foreach ((string key, JsonElement value) in Training ?? new Dictionary<string, JsonElement>())
        {
            if (key.Length == 0 || key.Length > 200) problems.Add("training option names must have 1 to 200 characters");
            if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
                problems.Add($"training.{SafetensorsDTypes.Shorten(key)} must be a string, number or boolean, got {value.ValueKind}");
        }
        foreach ((string key, double value) in Metrics ?? new Dictionary<string, double>())
        {
            if (key.Length == 0 || key.Length > 200) problems.Add("metric names must have 1 to 200 characters");
            if (!double.IsFinite(value)) problems.Add($"metrics.{SafetensorsDTypes.Shorten(key)} must be a finite number");
        }
        return problems;
    }

    static string ReadLibraryVersion()
    {
        Assembly assembly = typeof(ModelManifest).Assembly;
        string? informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational)) return assembly.GetName().Version?.ToString() ?? "0.0.0";
        int plus = informational.IndexOf('+');
        return plus >= 0 ? informational[..plus] : informational;
    }
}

/// <summary>The <c>vocabulary</c> record: the vocabulary file (<c>vocab.json</c>, the format of
/// <see cref="Data.Vocabulary.Save"/>), its size and the SHA-256 of its token list (<see cref="Data.Vocabulary.Hash"/>).</summary>
public sealed record VocabularyRecord(string File, int Size, string Sha256)
{
    /// <summary>The only file name format version 1 allows (so a manifest can never point outside its package).</summary>
    public const string DefaultFile = "vocab.json";

    internal IEnumerable<string> Problems(int? vocabSize)
    {
        if (File != DefaultFile) yield return $"vocabulary.file must be '{DefaultFile}', got '{SafetensorsDTypes.Shorten(File ?? "")}'";
        if (vocabSize is { } v && Size != v) yield return $"vocabulary.size {Size} differs from architecture.vocab_size {v}";
        if (!WeightsRecord.IsSha256(Sha256)) yield return "vocabulary.sha256 must be 64 lower-case hex digits";
    }
}

/// <summary>The <c>weights</c> record: the safetensors file (<c>weights.safetensors</c>), its size, tensor count and
/// SHA-256 (of the whole file, so any change to it is caught before it is used).</summary>
public sealed record WeightsRecord(string File, long Bytes, int Tensors, string Sha256)
{
    /// <summary>The only file name format version 1 allows.</summary>
    public const string DefaultFile = "weights.safetensors";

    internal IEnumerable<string> Problems()
    {
        if (File != DefaultFile) yield return $"weights.file must be '{DefaultFile}', got '{SafetensorsDTypes.Shorten(File ?? "")}'";
        if (Bytes < 8) yield return $"weights.bytes must be at least 8, got {Bytes}";
        if (Tensors < 1) yield return $"weights.tensors must be at least 1, got {Tensors}";
        if (!IsSha256(Sha256)) yield return "weights.sha256 must be 64 lower-case hex digits";
    }

    internal static bool IsSha256(string? hex) => hex is { Length: 64 } && hex.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}

/// <summary>A classifier's classes, in output order; <see cref="MultiLabel"/> when a document may have several.</summary>
public sealed record LabelsSpec(IReadOnlyList<string> Classes, bool MultiLabel)
{
    /// <summary>The spec of a label set collected from training data.</summary>
    public static LabelsSpec From(Data.LabelSet labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new LabelsSpec([.. labels.Classes], labels.MultiLabel);
    }

    internal IEnumerable<string> Problems()
    {
        if (Classes is null) yield break;
        int minimum = MultiLabel ? 1 : 2;
        if (Classes.Count < minimum || Classes.Count > 100_000)
            yield return $"labels.classes must have {minimum} to 100000 entries for a {(MultiLabel ? "multi" : "single")}-label classifier, got {Classes.Count}";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in Classes)
        {
            if (string.IsNullOrEmpty(name)) yield return "labels.classes must not contain empty names";
            else if (!seen.Add(name)) yield return $"label '{SafetensorsDTypes.Shorten(name)}' appears twice in labels.classes";
        }
    }
}
