using System.Text.Json;
using Ulmfit.Data;
using Ulmfit.IO;
using Ulmfit.Modeling;
using Ulmfit.Text;

namespace Ulmfit.Pipeline;

/// <summary>
/// Language models on disk, as model packages (docs/model-package-format.md: model.json, vocab.json,
/// weights.safetensors): what pretraining and fine-tuning write, and what fine-tuning, generation, the LR finder and
/// the classifier read. Imported fastai models are packages of the same kind.
/// </summary>
public static class LanguageModelFolder
{
    /// <summary>Whether <paramref name="path"/> looks like a model package (folder with a manifest, or a .ulmfit file).</summary>
    public static bool Exists(string path) => File.Exists(Path.Combine(path, ModelManifest.FileName)) || File.Exists(path);

    /// <summary>Saves <paramref name="model"/> with its vocabulary as a language-model package in <paramref name="folder"/>.</summary>
    public static ModelManifest Save(string folder, AwdLstmLanguageModel model, Vocabulary vocabulary, bool backwards,
        IReadOnlyDictionary<string, double> metrics, IReadOnlyDictionary<string, JsonElement> training)
    {
        if (vocabulary.Count != model.VocabSize)
            throw new ArgumentException($"the vocabulary has {vocabulary.Count} tokens but the model scores {model.VocabSize}");
        var manifest = new ModelManifest
        {
            Kind = ModelKind.LanguageModel,
            Architecture = ArchitectureSpec.From(model.Config, backwards),
            Tokenizer = TokenizerSpec.From(UlmfitTokenizer.Default),
            Metrics = metrics.Where(kv => double.IsFinite(kv.Value)).ToDictionary(),
            Training = training,
        };
        return ModelPackage.Save(folder, manifest, vocabulary, model.state_dict());
    }

    /// <summary>Loads a language-model package (folder or .ulmfit file) into a model built with <paramref name="dropouts"/>
    /// (for further training; <see cref="AwdLstmDropouts.None"/> for generation).</summary>
    public static (AwdLstmLanguageModel Model, Vocabulary Vocabulary, ModelManifest Manifest) Load(string path, AwdLstmDropouts dropouts, double dropMult = 1.0)
    {
        if (!Exists(path)) throw new InvalidInputException(path, null, null, $"not a model package (no {ModelManifest.FileName})");
        using var package = ModelPackage.Load(path);
        if (package.Manifest.Kind != ModelKind.LanguageModel)
            throw new InvalidInputException(path, null, null, $"is a {package.Manifest.Kind} package; a language model is needed here");
        var model = new AwdLstmLanguageModel(package.Manifest.Architecture.ToConfig(dropouts, dropMult));
        try
        {
            ModuleWeights.CopyInto(model, package.Weights, path);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return (model, package.Vocabulary, package.Manifest);
    }
}
