using Ulmfit.Data;
using Ulmfit.Text;
using static TorchSharp.torch;

namespace Ulmfit.IO;

/// <summary>
/// A fastai language model converted to our layout by <see cref="FastaiImporter"/>: the weights under our keys
/// (<see cref="AwdLstmWeightNames"/>), the architecture read off their shapes, and the vocabulary in our id order.
/// Owns its tensors: dispose it, or save it as a package with <see cref="SaveAsPackage"/>.
/// </summary>
public sealed class ImportedLanguageModel : IDisposable
{
    Dictionary<string, Tensor>? stateDict;

    internal ImportedLanguageModel(ArchitectureSpec architecture, Vocabulary vocabulary, Dictionary<string, Tensor> stateDict,
        TorchStateDict source, string vocabularySource, IReadOnlyList<string> ignoredKeys, IReadOnlyList<string> vocabularyChanges)
    {
        Architecture = architecture;
        Vocabulary = vocabulary;
        this.stateDict = stateDict;
        WeightsSource = source.Source;
        VocabularySource = vocabularySource;
        SourceFormat = source.Format;
        WasWrapped = source.WasWrapped;
        IgnoredKeys = ignoredKeys;
        VocabularyChanges = vocabularyChanges;
    }

    /// <summary>Shape and (fastai's language-model) dropouts of the network.</summary>
    public ArchitectureSpec Architecture { get; }

    /// <summary>The vocabulary, in id order (its size is kept as fastai had it; fastai sizes need not be multiples of 8).</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The weights under our state-dict keys, float32; owned by this object.</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict => stateDict ?? throw new ObjectDisposedException(nameof(ImportedLanguageModel));

    /// <summary>The weights file as named by the caller.</summary>
    public string WeightsSource { get; }

    /// <summary>The vocabulary file as named by the caller.</summary>
    public string VocabularySource { get; }

    /// <summary><c>"zip"</c> or <c>"legacy"</c>.</summary>
    public string SourceFormat { get; }

    /// <summary>Whether the file wrapped the state dict as <c>{'model': …, 'opt': …}</c>.</summary>
    public bool WasWrapped { get; }

    /// <summary>fastai keys that carry no information of their own and were checked, then dropped (the duplicate
    /// embedding, the tied decoder weight, the dropped copies of the hidden-to-hidden weights).</summary>
    public IReadOnlyList<string> IgnoredKeys { get; }

    /// <summary>How the vocabulary was reordered (see <see cref="FastaiImporter"/>); empty for fastai 2 files.</summary>
    public IReadOnlyList<string> VocabularyChanges { get; }

    /// <summary>Takes the tensors (the caller must dispose them); this object no longer owns them.</summary>
    public Dictionary<string, Tensor> DetachStateDict()
    {
        Dictionary<string, Tensor> taken = stateDict ?? throw new ObjectDisposedException(nameof(ImportedLanguageModel));
        stateDict = null;
        return taken;
    }

    /// <summary>The manifest of the language-model package this import becomes (tokenizer: our fastai-compatible rules
    /// with fastai's defaults; training options record where the weights came from).</summary>
    public ModelManifest CreateManifest() => new()
    {
        Kind = ModelKind.LanguageModel,
        Architecture = Architecture,
        Tokenizer = TokenizerSpec.From(UlmfitTokenizer.Default),
        Training = new Dictionary<string, System.Text.Json.JsonElement>
        {
            ["imported_from"] = ModelManifest.Option("fastai"),
            ["source_weights"] = ModelManifest.Option(Path.GetFileName(WeightsSource)),
            ["source_vocabulary"] = ModelManifest.Option(Path.GetFileName(VocabularySource)),
            ["source_format"] = ModelManifest.Option(SourceFormat),
        },
    };

    /// <summary>Writes the import as a language-model package into <paramref name="folder"/>; returns its manifest.</summary>
    public ModelManifest SaveAsPackage(string folder) => ModelPackage.Save(folder, CreateManifest(), Vocabulary, StateDict);

    /// <inheritdoc />
    public void Dispose()
    {
        if (stateDict is null) return;
        foreach (Tensor t in stateDict.Values) t.Dispose();
        stateDict = null;
    }
}
