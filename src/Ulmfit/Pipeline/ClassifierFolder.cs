using System.Text.Json;
using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.IO;
using Ulmfit.Modeling;
using Ulmfit.Text;
using static TorchSharp.torch;

namespace Ulmfit.Pipeline;

/// <summary>
/// Classifiers on disk as model packages of kind <c>classifier</c>: encoder weights under <c>encoder.*</c>, the head
/// under <c>head.*</c>, the label set in the manifest, and the per-class decision thresholds (multi-label) and BPT3C
/// settings among its training options.
/// </summary>
public static class ClassifierFolder
{
    const string ThresholdsKey = "decision_thresholds";
    const string ThresholdsTensor = "decision_thresholds";

    public static ModelManifest Save(string folder, TextClassifier classifier, Vocabulary vocabulary,
        IReadOnlyDictionary<string, double> metrics, IReadOnlyDictionary<string, JsonElement> training)
    {
        var config = classifier.Config;
        var options = new Dictionary<string, JsonElement>(training)
        {
            // Manifest options are scalars: the per-class thresholds travel as one comma-separated string.
            [ThresholdsKey] = ModelManifest.Option(string.Join(",", classifier.DecisionThresholds.Select(t => t.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))),
            ["bptt"] = ModelManifest.Option(config.Bptt),
            ["max_len"] = ModelManifest.Option(config.MaxLength),
        };
        var manifest = new ModelManifest
        {
            Kind = ModelKind.Classifier,
            Architecture = ArchitectureSpec.From(config.Encoder, config.Backwards,
                new ClassifierHeadSpec { HiddenSizes = [config.HeadHiddenSize], Dropouts = [config.PooledDropout, config.HeadDropout] }),
            Tokenizer = TokenizerSpec.From(UlmfitTokenizer.Default),
            Labels = new LabelsSpec(config.Classes, config.MultiLabel),
            Metrics = metrics.Where(kv => double.IsFinite(kv.Value)).ToDictionary(),
            Training = options,
        };
        // The thresholds travel in the manifest; every tensor in the file is then encoder.* or head.*.
        var weights = classifier.state_dict().Where(kv => kv.Key != ThresholdsTensor).ToDictionary(kv => kv.Key, kv => kv.Value);
        return ModelPackage.Save(folder, manifest, vocabulary, weights);
    }

    /// <summary>Loads a classifier package (folder or .ulmfit file) for prediction or evaluation.</summary>
    public static (TextClassifier Classifier, Vocabulary Vocabulary, ModelManifest Manifest) Load(string path)
    {
        if (!LanguageModelFolder.Exists(path)) throw new InvalidInputException(path, null, null, $"not a model package (no {ModelManifest.FileName})");
        using var package = ModelPackage.Load(path);
        var m = package.Manifest;
        if (m.Kind != ModelKind.Classifier || m.Labels is null || m.Architecture.Head is not { } head)
            throw new InvalidInputException(path, null, null, $"is a {m.Kind} package; a classifier is needed here");
        if (head.HiddenSizes.Count != 1 || head.Dropouts.Count != 2)
            throw new InvalidInputException(path, null, null, "this library's classifier head has exactly one hidden block");
        var encoder = m.Architecture.ToConfig();
        var config = new TextClassifierConfig(encoder, m.Labels.Classes)
        {
            MultiLabel = m.Labels.MultiLabel,
            Backwards = m.Architecture.Backwards,
            HeadHiddenSize = head.HiddenSizes[0],
            HeadDropout = head.Dropouts[1],
            Bptt = IntOption(m, "bptt", Ulmfit.Training.LanguageModelBatcherOptions.DefaultBptt),
            MaxLength = IntOption(m, "max_len", 1440),
        };
        var classifier = new TextClassifier(config);
        try
        {
            ModuleWeights.CopyInto(classifier, package.Weights, path, skip: name => name == ThresholdsTensor);
            if (m.Training.TryGetValue(ThresholdsKey, out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } list)
                classifier.DecisionThresholds = [.. list.Split(',').Select(x => float.Parse(x, System.Globalization.CultureInfo.InvariantCulture))];
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            classifier.Dispose();
            throw new InvalidInputException(path, null, null, $"invalid classifier settings: {e.Message}");
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
        return (classifier, package.Vocabulary, m);
    }

    static int IntOption(ModelManifest m, string key, int fallback) =>
        m.Training.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : fallback;
}
