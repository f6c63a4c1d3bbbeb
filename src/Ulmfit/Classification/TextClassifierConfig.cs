using System.Globalization;
using Ulmfit.Modeling;

namespace Ulmfit.Classification;

/// <summary>
/// Shape of a ULMFiT classifier (stage 3): an AWD-LSTM (or QRNN) encoder read in BPT3C chunks, concat pooling over the last
/// layer, and a two-layer head. Defaults are fastai's <c>text_classifier_learner</c> with the tutorial's
/// <c>drop_mult=0.5</c>.
/// </summary>
/// <param name="Encoder">The encoder's shape and dropouts (normally <see cref="AwdLstmConfig.ForClassifier"/>); its
/// effective output dropout is the head's first dropout.</param>
/// <param name="Classes">Class names; output column k scores <c>Classes[k]</c>.</param>
public sealed record TextClassifierConfig(AwdLstmConfig Encoder, IReadOnlyList<string> Classes)
{
    /// <summary>Tokens per BPT3C chunk (fastai v1 and the paper: 70).</summary>
    public int Bptt { get; init; } = Ulmfit.Training.LanguageModelBatcherOptions.DefaultBptt;

    /// <summary>Only each document's last this-many tokens are pooled (and back-propagated through); earlier tokens
    /// only set up the recurrent state. fastai: <c>max_len = 72·20 = 1440</c>.</summary>
    public int MaxLength { get; init; } = 1440;

    /// <summary>Width of the head's hidden layer (fastai's <c>lin_ftrs=[50]</c>).</summary>
    public int HeadHiddenSize { get; init; } = 50;

    /// <summary>Dropout before the head's output layer (fastai's <c>ps=[0.1]</c>; not scaled by drop_mult).</summary>
    public double HeadDropout { get; init; } = 0.1;

    /// <summary>Several labels per document: sigmoid outputs, binary cross-entropy, per-class thresholds.</summary>
    public bool MultiLabel { get; init; }

    /// <summary>The documents are read last token first (the classifier built on a backward language model).</summary>
    public bool Backwards { get; init; }

    /// <summary>Number of output columns.</summary>
    public int ClassCount => Classes.Count;

    /// <summary>Features the concat pooling hands the head: [last, max, mean] of the last layer, 3 × emb.</summary>
    public int PooledSize => 3 * Encoder.EmbeddingSize;

    /// <summary>Dropout before the head's hidden layer: the encoder's effective output dropout (0.4 · drop_mult).</summary>
    public double PooledDropout => Encoder.EffectiveDropouts.Output;

    /// <summary>fastai's classifier for a vocabulary of <paramref name="vocabSize"/> tokens: 400/1152/3 AWD-LSTM with
    /// classifier dropouts scaled by <paramref name="dropMult"/> (0.5 in fastai's ULMFiT tutorial).</summary>
    public static TextClassifierConfig Create(int vocabSize, IReadOnlyList<string> classes, double dropMult = 0.5,
        bool multiLabel = false, bool backwards = false) =>
        new(AwdLstmConfig.ForClassifier(vocabSize, dropMult), classes) { MultiLabel = multiLabel, Backwards = backwards };

    /// <summary>The classifier for an encoder shaped like <paramref name="languageModel"/>'s (same vocabulary, sizes and
    /// layers) with classifier dropouts: what stage 3 builds on a fine-tuned language model.</summary>
    public static TextClassifierConfig ForLanguageModel(AwdLstmConfig languageModel, IReadOnlyList<string> classes,
        double dropMult = 0.5, bool multiLabel = false, bool backwards = false)
    {
        ArgumentNullException.ThrowIfNull(languageModel);
        var encoder = languageModel with { Dropouts = AwdLstmDropouts.Classifier, DropMult = dropMult };
        return new TextClassifierConfig(encoder, classes) { MultiLabel = multiLabel, Backwards = backwards };
    }

    /// <summary>Throws <see cref="ArgumentException"/> with a message that says which setting to fix.</summary>
    public void Validate()
    {
        if (Encoder is null) throw new ArgumentException("Encoder must be set (for example AwdLstmConfig.ForClassifier(vocabSize)).");
        Encoder.Validate();
        if (Classes is null || Classes.Count < 2)
            throw new ArgumentException(Invariant($"a classifier needs at least two classes, got {Classes?.Count ?? 0}."));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string c in Classes)
        {
            if (string.IsNullOrEmpty(c)) throw new ArgumentException("class names must not be empty.");
            if (!seen.Add(c)) throw new ArgumentException($"class '{c}' is listed twice.");
        }
        if (Bptt < 1) throw new ArgumentException(Invariant($"Bptt must be at least 1, got {Bptt}."));
        if (MaxLength < 1) throw new ArgumentException(Invariant($"MaxLength must be at least 1, got {MaxLength}."));
        if (HeadHiddenSize < 1) throw new ArgumentException(Invariant($"HeadHiddenSize must be at least 1, got {HeadHiddenSize}."));
        if (!double.IsFinite(HeadDropout) || HeadDropout is < 0 or >= 1)
            throw new ArgumentException(Invariant($"HeadDropout must be in [0, 1), got {HeadDropout}."));
    }

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
