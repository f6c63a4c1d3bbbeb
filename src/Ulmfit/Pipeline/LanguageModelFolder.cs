using System.Text.Json;
using System.Text.Json.Serialization;
using Ulmfit.Data;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Pipeline;

/// <summary>What a saved language model says about itself (manifest.json).</summary>
public sealed record LanguageModelManifest
{
    public const int CurrentFormatVersion = 1;

    [JsonPropertyName("format_version")] public int FormatVersion { get; init; } = CurrentFormatVersion;
    [JsonPropertyName("kind")] public string Kind { get; init; } = "language-model";
    [JsonPropertyName("architecture")] public string Architecture { get; init; } = "awd-lstm";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; }
    [JsonPropertyName("emb")] public int EmbeddingSize { get; init; }
    [JsonPropertyName("hidden")] public int HiddenSize { get; init; }
    [JsonPropertyName("layers")] public int Layers { get; init; }
    [JsonPropertyName("backwards")] public bool Backwards { get; init; }
    [JsonPropertyName("tokenizer_version")] public string TokenizerVersion { get; init; } = "";
    [JsonPropertyName("metrics")] public Dictionary<string, double> Metrics { get; init; } = [];
    [JsonPropertyName("training")] public Dictionary<string, string> Training { get; init; } = [];
    [JsonPropertyName("library_version")] public string LibraryVersion { get; init; } = typeof(LanguageModelManifest).Assembly.GetName().Version?.ToString() ?? "0";
    [JsonPropertyName("created_utc")] public DateTime CreatedUtc { get; init; } = DateTime.UtcNow;

    /// <summary>The architecture this manifest describes, with the given dropouts.</summary>
    public AwdLstmConfig Config(AwdLstmDropouts dropouts, double dropMult = 1.0) =>
        new(VocabSize) { EmbeddingSize = EmbeddingSize, HiddenSize = HiddenSize, Layers = Layers, Dropouts = dropouts, DropMult = dropMult };
}

/// <summary>
/// A language model on disk: a folder with <c>manifest.json</c>, <c>vocab.json</c> and <c>weights.bin</c> (the
/// module's state dict). Written into a temp folder and renamed into place, so a folder is complete or absent.
/// </summary>
public static class LanguageModelFolder
{
    public const string ManifestFile = "manifest.json";
    public const string VocabularyFile = "vocab.json";
    public const string WeightsFile = "weights.bin";

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    /// <summary>Saves <paramref name="model"/> with its vocabulary and manifest into <paramref name="folder"/>
    /// (replacing the three files if present, leaving anything else in the folder alone).</summary>
    public static void Save(string folder, AwdLstmLanguageModel model, Vocabulary vocabulary, LanguageModelManifest manifest)
    {
        if (vocabulary.Count != model.VocabSize)
            throw new ArgumentException($"the vocabulary has {vocabulary.Count} tokens but the model scores {model.VocabSize}");
        Directory.CreateDirectory(folder);
        string staging = Path.Combine(folder, $".incoming-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var config = model.Config;
            manifest = manifest with { VocabSize = config.VocabSize, EmbeddingSize = config.EmbeddingSize, HiddenSize = config.HiddenSize, Layers = config.Layers };
            File.WriteAllText(Path.Combine(staging, ManifestFile), JsonSerializer.Serialize(manifest, Json));
            vocabulary.Save(Path.Combine(staging, VocabularyFile));
            model.save(Path.Combine(staging, WeightsFile));
            // Weights first and manifest last: a reader that finds a manifest finds the weights it describes.
            foreach (string name in new[] { WeightsFile, VocabularyFile, ManifestFile })
                File.Move(Path.Combine(staging, name), Path.Combine(folder, name), overwrite: true);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Reads the manifest of the model in <paramref name="folder"/>, with a clear error if it is not one.</summary>
    public static LanguageModelManifest ReadManifest(string folder)
    {
        string path = Path.Combine(folder, ManifestFile);
        if (!File.Exists(path)) throw new InvalidInputException(folder, null, null, $"not a language-model folder (no {ManifestFile})");
        LanguageModelManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<LanguageModelManifest>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidInputException(path, (e.LineNumber ?? -1) + 1, (int?)(e.BytePositionInLine + 1), e.Message.Split('.')[0]); }
        if (manifest is null) throw new InvalidInputException(path, null, null, "empty manifest");
        if (manifest.FormatVersion != LanguageModelManifest.CurrentFormatVersion)
            throw new InvalidInputException(path, null, null, $"format_version {manifest.FormatVersion} is not supported (this library reads {LanguageModelManifest.CurrentFormatVersion})");
        if (manifest.Kind != "language-model" || manifest.Architecture != "awd-lstm")
            throw new InvalidInputException(path, null, null, $"expected an awd-lstm language model, found {manifest.Kind}/{manifest.Architecture}");
        return manifest;
    }

    /// <summary>Loads the model (with <paramref name="dropouts"/> for further training) and its vocabulary.</summary>
    public static (AwdLstmLanguageModel Model, Vocabulary Vocabulary, LanguageModelManifest Manifest) Load(string folder, AwdLstmDropouts dropouts, double dropMult = 1.0)
    {
        LanguageModelManifest manifest = ReadManifest(folder);
        Vocabulary vocabulary = Vocabulary.Load(Path.Combine(folder, VocabularyFile));
        if (vocabulary.Count != manifest.VocabSize)
            throw new InvalidInputException(Path.Combine(folder, VocabularyFile), null, null, $"has {vocabulary.Count} tokens, the manifest says {manifest.VocabSize}");
        var model = new AwdLstmLanguageModel(manifest.Config(dropouts, dropMult));
        try
        {
            model.load(Path.Combine(folder, WeightsFile), strict: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            model.Dispose();
            throw new InvalidInputException(Path.Combine(folder, WeightsFile), null, null, $"weights do not match the manifest's architecture: {e.Message}");
        }
        return (model, vocabulary, manifest);
    }

    /// <summary>The state dict of a saved model without building the model (for vocabulary transfer).</summary>
    public static Dictionary<string, Tensor> LoadStateDict(string folder, out Vocabulary vocabulary, out LanguageModelManifest manifest)
    {
        var (model, vocab, m) = Load(folder, AwdLstmDropouts.None);
        using (model)
        {
            vocabulary = vocab;
            manifest = m;
            return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        }
    }
}
