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

    /// <summary>Share of the training set held out for best-epoch selection; 0 trains on all of it for a fixed schedule.
    /// Null: the recipe's (<see cref="FitRecipe.FixedScheduleBelow"/>).</summary>
    public double? ValidFraction { get; init; }

    /// <summary>Use only this many labelled training documents (a seeded, stratified sample, written to
    /// <c>train-sample.csv</c> in the output folder so the run can be inspected and repeated); null uses them all.
    /// The low-shot experiments of the paper (section 5, figure 3). The validation split, when taken from the
    /// training set, comes out of the sample.</summary>
    public int? TrainSample { get; init; }

    /// <summary>More of the task's text without labels: LM fine-tuning reads it, and with few labels self-training
    /// pseudo-labels some of it (<see cref="SelfTraining"/>).</summary>
    public IReadOnlyList<string> Unlabeled { get; init; } = [];

    /// <summary>Self-training on <see cref="Unlabeled"/>: the fitted model labels a sample of it, and the classifier
    /// trains again with its most confident predictions added (<see cref="FitRecipe.PseudoLabelRatio"/>). Null: the
    /// recipe's (on below <see cref="FitRecipe.FixedScheduleBelow"/> labelled documents); needs unlabelled text and
    /// single-label data.</summary>
    public bool? SelfTraining { get; init; }

    /// <summary>Pretrained forward language model; by default the shipped English one
    /// (<see cref="ShippedLanguageModels.Forward"/>, null when not installed). Null trains the classifier from scratch
    /// (no pretraining; set <see cref="BackwardLanguageModel"/> to null too).</summary>
    public string? LanguageModel { get; init; } = ShippedLanguageModels.Forward;

    /// <summary>Pretrained backward language model; when given, a backward classifier is trained and ensembled with the
    /// forward one (the paper's bidirectional model). By default the shipped English one
    /// (<see cref="ShippedLanguageModels.Backward"/>); null trains the forward direction only.</summary>
    public string? BackwardLanguageModel { get; init; } = ShippedLanguageModels.Backward;

    /// <summary>Train the backward direction only, from <see cref="BackwardLanguageModel"/> (<see cref="LanguageModel"/>
    /// is not used). Why: the two directions are independent runs, so on a small machine they can train one per core,
    /// or on different days; put the <c>backward</c> folder beside a <c>forward</c> one trained on the same data and
    /// evaluate/predict ensemble the pair.</summary>
    public bool BackwardOnly { get; init; }

    public required string OutputDirectory { get; init; }
    public DocumentReaderOptions Reader { get; init; } = new() { LabelRequired = true };
    public bool MultiLabel { get; init; }

    /// <summary>LM fine-tuning epochs with every group training (after one frozen epoch); 0 skips LM fine-tuning.
    /// Null: <see cref="DefaultLanguageModelEpochs"/>.</summary>
    public int? LanguageModelEpochs { get; init; }

    /// <summary>LM fine-tuning's default: two epochs with everything training after the frozen one.</summary>
    public const int DefaultLanguageModelEpochs = 2;

    /// <summary>Cap on the LM fine-tuning tokens per epoch (a shuffled prefix of the task's text); null: all of the
    /// labelled text, or <see cref="FitRecipe.UnlabelledTokenCap"/> when unlabelled text is given.</summary>
    public long? LanguageModelMaxTokensPerEpoch { get; init; }

    /// <summary>Cap on the held-out tokens LM fine-tuning scores after each epoch; null: the whole held-out split.</summary>
    public long? LanguageModelMaxValidationTokens { get; init; }

    /// <summary>Epochs of the final (all groups) classifier stage; the earlier gradual-unfreezing stages take one each
    /// ("all" and "last" train 3 + this many). From scratch: the number of epochs. Null: the recipe's
    /// (<see cref="FitRecipe.MinimumSteps"/>; <see cref="DefaultTotalEpochs"/> on larger sets).</summary>
    public int? Epochs { get; init; }

    /// <summary>Classifier epochs in all when the data gives enough steps: fastai's ULMFiT recipe (1 + 1 + 1 + 7).</summary>
    public const int DefaultTotalEpochs = 10;

    /// <summary>Peak learning rate of the first classifier stage (fastai's recipe: 2e-2, halving per stage); from
    /// scratch the single stage's rate.</summary>
    public double LearningRate { get; init; } = 2e-2;

    /// <summary>Rate of gradual unfreezing's last stage, every group training for <see cref="Epochs"/> epochs; null:
    /// <see cref="DefaultFinalLearningRate"/>. Not used by the other unfreezing modes or from scratch.</summary>
    public double? FinalLearningRate { get; init; }

    /// <summary>
    /// The last gradual stage's default rate: <paramref name="learningRate"/>/4 (5e-3 at the default, the third stage's
    /// rate kept) rather than fastai's /20 (1e-3). Why (docs/results.md, one run each, forward / ensemble test error,
    /// shipped LMs): it beat 1e-3 on TREC-6 (5,452 documents: ensemble 6.0 % against 6.4 %), SST-2 (6,920: 17.30 %
    /// against 21.14 %), MR (9,596: 21.20 % against 25.70 %) and all of IMDb (22,500: forward 8.50 % against 9.12 %).
    /// (Until that IMDb run the default switched to /20 from 10,000 documents, because every group at 1e-2 from the
    /// start had lost there.)
    /// </summary>
    public static double DefaultFinalLearningRate(double learningRate) => learningRate / 4;

    /// <summary>How the classifier's pretrained layers are released (the paper's table 6 compares these). Null: the
    /// recipe's (<see cref="FitRecipe.UnfreezeAllBelow"/>).</summary>
    public UnfreezingMode? Unfreezing { get; init; }

    /// <summary>The classifier's discriminative factor between layer groups (the paper's is 2.6). The default, 1, is
    /// what measured best with the shipped small LMs (TREC-6, docs/results.md: 2.6 left the encoder training too
    /// slowly in the epochs a CPU affords); from scratch it is always 1.</summary>
    public double ClassifierGroupFactor { get; init; } = 1;

    /// <summary>LM fine-tuning's schedule: slanted triangular rates (the paper) by default.</summary>
    public ScheduleKind LanguageModelSchedule { get; init; } = ScheduleKind.SlantedTriangular;

    /// <summary>LM fine-tuning's discriminative factor between layer groups (2.6, the paper's); 1 turns it off.</summary>
    public double LanguageModelGroupFactor { get; init; } = Training.DiscriminativeLearningRates.PaperFactor;

    public double DropMult { get; init; } = 0.3;
    /// <summary>Documents per classifier batch and LM fine-tuning's parallel streams. Null: the recipe's
    /// (<see cref="FitRecipe.BatchSizeFor"/>).</summary>
    public int? BatchSize { get; init; }
    public int Bptt { get; init; } = Ulmfit.Training.LanguageModelBatcherOptions.DefaultBptt;
    public int MaxLength { get; init; } = 1440;
    public double LabelSmoothing { get; init; }
    public bool BalanceClasses { get; init; }
    public int? EarlyStoppingPatience { get; init; }
    public StageSchedule Schedule { get; init; } = StageSchedule.OneCycle;

    /// <summary>The recurrent layers. Null: the language model's own, or the AWD-LSTM from scratch. With a language
    /// model it must match that model's architecture.</summary>
    public Modeling.EncoderArchitecture? Architecture { get; init; }

    /// <summary>From scratch only: the encoder's size (ULMFiT's 400/1152/3 by default).</summary>
    public int EmbeddingSize { get; init; } = Ulmfit.Modeling.AwdLstmConfig.DefaultEmbeddingSize;
    public int HiddenSize { get; init; } = Ulmfit.Modeling.AwdLstmConfig.DefaultHiddenSize;
    public int Layers { get; init; } = Ulmfit.Modeling.AwdLstmConfig.DefaultLayers;
    public VocabularySettings Vocabulary { get; init; } = new();

    /// <summary>Number format of the model's forward and backward passes (weights, gradients and optimizer state stay
    /// float32; saved models are the same either way).</summary>
    public Modeling.ComputePrecision Precision { get; init; } = Modeling.ComputePrecision.Fp32;

    public int Threads { get; init; } = Environment.ProcessorCount;
    public ulong Seed { get; init; } = 42;

    public void Validate()
    {
        foreach (string? path in Unlabeled.Prepend(Valid).Prepend(Train))
            if (path != null && !File.Exists(path) && !Directory.Exists(path)) throw new InvalidInputException(path, null, null, "no such file or folder");
        foreach (string? lm in new[] { LanguageModel, BackwardLanguageModel })
            if (lm != null && !LanguageModelFolder.Exists(lm)) throw new InvalidInputException(lm, null, null, "not a model package (no model.json)");
        if (BackwardOnly && BackwardLanguageModel == null) throw new ArgumentException("training the backward direction only needs a backward LM");
        if (!BackwardOnly && BackwardLanguageModel != null && LanguageModel == null) throw new ArgumentException("a backward LM needs a forward LM too (to train from scratch, set both to null)");
        if (ValidFraction is < 0 or >= 1) throw new ArgumentException($"the validation fraction must be in [0, 1) (got {ValidFraction})");
        if (TrainSample is < 2) throw new ArgumentException($"the training sample needs at least 2 documents (got {TrainSample})");
        if (Epochs is < 1) throw new ArgumentException($"epochs must be at least 1 (got {Epochs})");
        if (LanguageModelEpochs is < 0) throw new ArgumentException($"LM epochs must be >= 0 (got {LanguageModelEpochs})");
        if (LanguageModelMaxValidationTokens is < 2) throw new ArgumentException($"the LM validation token cap must be at least 2 (got {LanguageModelMaxValidationTokens})");
        if (LanguageModelMaxTokensPerEpoch is < 1) throw new ArgumentException($"the LM token cap must be positive (got {LanguageModelMaxTokensPerEpoch})");
        if (!(ClassifierGroupFactor >= 1)) throw new ArgumentException($"the classifier group factor must be at least 1 (got {ClassifierGroupFactor})");
        if (!(LanguageModelGroupFactor >= 1)) throw new ArgumentException($"the LM group factor must be at least 1 (got {LanguageModelGroupFactor})");
        if (!(LearningRate > 0)) throw new ArgumentException($"the learning rate must be positive (got {LearningRate})");
        if (FinalLearningRate is { } final && !(final > 0)) throw new ArgumentException($"the final stage's learning rate must be positive (got {final})");
        if (FinalLearningRate != null && Unfreezing is not (null or UnfreezingMode.Gradual)) throw new ArgumentException("a final stage's learning rate applies to gradual unfreezing only");
        if (BatchSize is < 1 || Bptt < 2 || MaxLength < Bptt) throw new ArgumentException("need batch size >= 1, bptt >= 2 and max length >= bptt");
        Reader.Validate();
        Vocabulary.Validate();
    }
}

/// <summary>How a pretrained classifier's layer groups start training (ULMFiT section 3.3 and its table 6).</summary>
public enum UnfreezingMode
{
    /// <summary>The head alone first, then one more group per epoch, then all (the paper's gradual unfreezing).</summary>
    Gradual,

    /// <summary>Every group trains from the first step, for as many epochs as gradual unfreezing takes ("full").</summary>
    All,

    /// <summary>Only the head trains, the encoder stays frozen throughout ("last").</summary>
    LastLayer,
}
