using Ulmfit.Classification;
using Ulmfit.Data;

namespace Ulmfit.Pipeline;

/// <summary>Settings of the whole ULMFiT job: LM fine-tuning on the task's text, then the classifier, forward and
/// (with a backward LM) backward.</summary>
public sealed record FitOptions
{
    /// <summary>Labelled training documents.</summary>
    public required string Train { get; init; }

    /// <summary>Labelled validation documents; null: <see cref="ValidFraction"/> of the training set (stratified).</summary>
    public string? Valid { get; init; }

    public double ValidFraction { get; init; } = 0.1;

    /// <summary>More of the task's text without labels, for LM fine-tuning only.</summary>
    public IReadOnlyList<string> Unlabeled { get; init; } = [];

    /// <summary>Pretrained forward language model; null trains the classifier from scratch (no pretraining).</summary>
    public string? LanguageModel { get; init; }

    /// <summary>Pretrained backward language model; when given, a backward classifier is trained and ensembled.</summary>
    public string? BackwardLanguageModel { get; init; }

    public required string OutputDirectory { get; init; }
    public DocumentReaderOptions Reader { get; init; } = new() { LabelRequired = true };
    public bool MultiLabel { get; init; }

    /// <summary>LM fine-tuning epochs with every group training (after one frozen epoch); 0 skips LM fine-tuning.</summary>
    public int LanguageModelEpochs { get; init; } = 2;

    /// <summary>Epochs of the final (all groups) classifier stage; the earlier gradual-unfreezing stages take one each.
    /// From scratch: the number of epochs.</summary>
    public int Epochs { get; init; } = 2;

    /// <summary>Peak learning rate of the first classifier stage (fastai's recipe: 2e-2, halving per stage); from
    /// scratch the single stage's rate.</summary>
    public double LearningRate { get; init; } = 2e-2;

    public double DropMult { get; init; } = 0.5;
    public int BatchSize { get; init; } = 64;
    public int Bptt { get; init; } = 70;
    public int MaxLength { get; init; } = 1440;
    public double LabelSmoothing { get; init; }
    public bool BalanceClasses { get; init; }
    public int? EarlyStoppingPatience { get; init; }
    public StageSchedule Schedule { get; init; } = StageSchedule.OneCycle;

    /// <summary>From scratch only: the recurrent layers (with a pretrained LM, its own architecture is used).</summary>
    public Modeling.EncoderArchitecture Architecture { get; init; } = Modeling.EncoderArchitecture.AwdLstm;

    /// <summary>From scratch only: the encoder's size (ULMFiT's 400/1152/3 by default).</summary>
    public int EmbeddingSize { get; init; } = 400;
    public int HiddenSize { get; init; } = 1152;
    public int Layers { get; init; } = 3;
    public VocabularySettings Vocabulary { get; init; } = new();

    public int Threads { get; init; } = Environment.ProcessorCount;
    public ulong Seed { get; init; } = 42;

    public void Validate()
    {
        foreach (string? path in Unlabeled.Prepend(Valid).Prepend(Train))
            if (path != null && !File.Exists(path) && !Directory.Exists(path)) throw new InvalidInputException(path, null, null, "no such file or folder");
        foreach (string? lm in new[] { LanguageModel, BackwardLanguageModel })
            if (lm != null && !LanguageModelFolder.Exists(lm)) throw new InvalidInputException(lm, null, null, "not a model package (no model.json)");
        if (BackwardLanguageModel != null && LanguageModel == null) throw new ArgumentException("a backward LM needs a forward LM too (--lm)");
        if (ValidFraction is < 0 or >= 1) throw new ArgumentException($"the validation fraction must be in [0, 1) (got {ValidFraction})");
        if (Epochs < 1) throw new ArgumentException($"epochs must be at least 1 (got {Epochs})");
        if (LanguageModelEpochs < 0) throw new ArgumentException($"LM epochs must be >= 0 (got {LanguageModelEpochs})");
        if (!(LearningRate > 0)) throw new ArgumentException($"the learning rate must be positive (got {LearningRate})");
        if (BatchSize < 1 || Bptt < 2 || MaxLength < Bptt) throw new ArgumentException("need batch size >= 1, bptt >= 2 and max length >= bptt");
        Reader.Validate();
        Vocabulary.Validate();
    }
}
