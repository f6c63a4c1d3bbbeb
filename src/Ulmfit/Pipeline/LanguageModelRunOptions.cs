using Ulmfit.Data;
using Ulmfit.Training;

namespace Ulmfit.Pipeline;

/// <summary>Which learning-rate schedule a stage follows.</summary>
public enum ScheduleKind
{
    /// <summary>The paper's slanted triangular rates (cut fraction 0.1, ratio 32).</summary>
    SlantedTriangular,
    /// <summary>fastai's one-cycle policy with the text momentums (0.8, 0.7, 0.8).</summary>
    OneCycle,
    /// <summary>One rate throughout.</summary>
    Constant,
}

/// <summary>Settings shared by language-model pretraining (stage 1) and fine-tuning (stage 2).</summary>
public abstract record LanguageModelRunOptions
{
    /// <summary>Training text: files, a folder of .txt files, or a sharded corpus folder (train-*, valid*).</summary>
    public required IReadOnlyList<string> Inputs { get; init; }

    /// <summary>Where the model, its checkpoints and the token cache go.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Held-out text; null: a corpus folder's valid file, else <see cref="ValidationFraction"/> of the documents.</summary>
    public string? ValidationInput { get; init; }

    public double ValidationFraction { get; init; } = 0.1;
    public DocumentReaderOptions Reader { get; init; } = new();
    public VocabularySettings Vocabulary { get; init; } = new();
    public int Epochs { get; init; } = 1;

    /// <summary>Cap on training tokens per epoch (a prefix of each epoch's shuffled stream); null: all.</summary>
    public long? MaxTokensPerEpoch { get; init; }

    /// <summary>Cap on the held-out tokens each validation reads (the first ones in document order); null: all of
    /// them. A tenth of a 1.5 M-token epoch, 10 % of IMDb's 50,000 reviews held out, is 1.3 M tokens to score.</summary>
    public long? MaxValidationTokens { get; init; }

    public int BatchSize { get; init; } = 64;
    public int Bptt { get; init; } = Ulmfit.Training.LanguageModelBatcherOptions.DefaultBptt;
    public ScheduleKind Schedule { get; init; } = ScheduleKind.SlantedTriangular;

    /// <summary>Learning rate of the top layer group; lower groups get it divided by <see cref="GroupFactor"/> per group.</summary>
    public abstract double LearningRate { get; init; }

    /// <summary>Discriminative learning-rate factor between neighbouring layer groups (1 turns it off).</summary>
    public abstract double GroupFactor { get; init; }

    public double DropMult { get; init; } = 1.0;
    public double? GradientClip { get; init; } = 0.3;
    public AdamWSettings Optimizer { get; init; } = AdamWSettings.Ulmfit;

    /// <summary>Continue from the newest checkpoint in the output folder instead of starting afresh.</summary>
    public bool Resume { get; init; }

    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>Number format of the model's forward and backward passes (weights, gradients and optimizer state stay
    /// float32; saved models are the same either way).</summary>
    public Modeling.ComputePrecision Precision { get; init; } = Modeling.ComputePrecision.Fp32;

    public int Threads { get; init; } = Environment.ProcessorCount;
    public ulong Seed { get; init; } = 42;

    internal string CheckpointRoot => CheckpointRootOf(OutputDirectory);

    internal static string CheckpointRootOf(string outputDirectory) => Path.Combine(outputDirectory, "checkpoints");
    /// <summary>Where tokenized inputs are cached (keyed by content, tokenizer and vocabulary settings); null: a
    /// <c>token-cache</c> folder in the output folder. Point several runs over one corpus at the same folder and only
    /// the first tokenizes it.</summary>
    public string? TokenCache { get; init; }

    internal string CacheDirectory => TokenCache ?? Path.Combine(OutputDirectory, "token-cache");

    internal static Func<long, ITrainingSchedule> MakeSchedule(ScheduleKind kind, double learningRate) => kind switch
    {
        ScheduleKind.SlantedTriangular => steps => new SlantedTriangularSchedule(steps, learningRate),
        ScheduleKind.OneCycle => steps => new OneCycleSchedule(steps, learningRate, Momentums: MomentumCycle.Text),
        ScheduleKind.Constant => steps => new ConstantSchedule(steps, learningRate),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown schedule"),
    };

    /// <summary>Throws with a message naming the setting to fix.</summary>
    public virtual void Validate()
    {
        if (Inputs is null || Inputs.Count == 0) throw new ArgumentException("give at least one input");
        foreach (string input in Inputs)
            if (!File.Exists(input) && !Directory.Exists(input)) throw new InvalidInputException(input, null, null, "no such file or folder");
        if (ValidationInput != null && !File.Exists(ValidationInput) && !Directory.Exists(ValidationInput))
            throw new InvalidInputException(ValidationInput, null, null, "no such file or folder");
        if (string.IsNullOrWhiteSpace(OutputDirectory)) throw new ArgumentException("the output folder is empty");
        if (Epochs < 1) throw new ArgumentException($"epochs must be at least 1 (got {Epochs})");
        if (MaxTokensPerEpoch is < 1) throw new ArgumentException($"max tokens per epoch must be positive (got {MaxTokensPerEpoch})");
        if (MaxValidationTokens is < 2) throw new ArgumentException($"max validation tokens must be at least 2 (got {MaxValidationTokens})");
        if (BatchSize < 1) throw new ArgumentException($"batch size must be at least 1 (got {BatchSize})");
        if (Bptt < 2) throw new ArgumentException($"bptt must be at least 2 (got {Bptt})");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentException($"the learning rate must be a positive number (got {LearningRate})");
        if (ValidationFraction is < 0 or >= 1) throw new ArgumentException($"the validation fraction must be in [0, 1) (got {ValidationFraction})");
        Vocabulary.Validate();
        Reader.Validate();
    }
}

/// <summary>Stage 1: a language model trained from scratch on general-domain text.</summary>
public sealed record PretrainOptions : LanguageModelRunOptions
{
    /// <summary>The recurrent layers: ULMFiT's AWD-LSTM (default) or MultiFiT's QRNN.</summary>
    public Modeling.EncoderArchitecture Architecture { get; init; } = Modeling.EncoderArchitecture.AwdLstm;

    public int EmbeddingSize { get; init; } = Ulmfit.Modeling.AwdLstmConfig.DefaultEmbeddingSize;
    public int HiddenSize { get; init; } = Ulmfit.Modeling.AwdLstmConfig.DefaultHiddenSize;
    public int Layers { get; init; } = Ulmfit.Modeling.AwdLstmConfig.DefaultLayers;

    /// <summary>Train on every document reversed (the backward LM of the bidirectional ensemble).</summary>
    public bool Backwards { get; init; }

    /// <summary>A language-model package to continue pretraining from instead of a new model: its architecture,
    /// vocabulary, direction and weights are kept (the size options are not used; <see cref="Backwards"/> must match
    /// the package's direction), and a new schedule runs over the corpus. This is how a long pretraining run carries on from the compact
    /// weights committed at the end of a session, on a machine without the full optimizer checkpoints.</summary>
    public string? ContinueFrom { get; init; }

    /// <summary>Default 4e-3 with slanted triangular rates (the paper's LM rate).</summary>
    public override double LearningRate { get; init; } = 4e-3;

    /// <summary>The default for pretraining: one rate for every layer. Discriminative rates keep general low-level
    /// features from being overwritten while fine-tuning; a model learning from nothing has none to keep yet.</summary>
    public const double DefaultGroupFactor = 1;

    public override double GroupFactor { get; init; } = DefaultGroupFactor;

    public override void Validate()
    {
        base.Validate();
        if (ContinueFrom != null && !LanguageModelFolder.Exists(ContinueFrom))
            throw new InvalidInputException(ContinueFrom, null, null, "not a model package (no model.json)");
    }
}

/// <summary>Stage 2: a pretrained language model adapted to the target task's text (labelled and unlabelled).</summary>
public sealed record FineTuneOptions : LanguageModelRunOptions
{
    /// <summary>Folder of the pretrained language model.</summary>
    public required string PretrainedModel { get; init; }

    /// <summary>Epochs training only the embedding/decoder group first (new vocabulary rows settle in); 0 skips it.</summary>
    public int FrozenEpochs { get; init; } = 1;

    /// <summary>Top rate of the frozen stage (fastai's ULMFiT recipe: 2e-2).</summary>
    public double FrozenLearningRate { get; init; } = 2e-2;

    /// <summary>Top rate once everything trains (fastai's ULMFiT recipe: 2e-3).</summary>
    public override double LearningRate { get; init; } = 2e-3;

    /// <summary>The paper's 2.6 (section 3.2).</summary>
    public override double GroupFactor { get; init; } = DiscriminativeLearningRates.PaperFactor;

    /// <summary>Keep every word of the pretrained vocabulary and add the task's own words to it (up to
    /// <see cref="LanguageModelRunOptions.Vocabulary"/>'s size), rather than cutting the vocabulary from the task's
    /// text alone as fastai does. Why: with a few hundred documents of text the task-only vocabulary is a few thousand
    /// words, and every other word the classifier later reads becomes <c>xxunk</c> although the pretrained LM knows it.</summary>
    public bool ExtendPretrainedVocabulary { get; init; } = true;

    public override void Validate()
    {
        base.Validate();
        if (!LanguageModelFolder.Exists(PretrainedModel))
            throw new InvalidInputException(PretrainedModel, null, null, "not a model package (no model.json)");
        if (FrozenEpochs < 0) throw new ArgumentException($"frozen epochs must be >= 0 (got {FrozenEpochs})");
    }
}
