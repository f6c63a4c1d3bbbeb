namespace Ulmfit.Training;

/// <summary>
/// Settings of a language-model training run (ULMFiT stage 1, general-domain pre-training, and stage 2, target-task
/// fine-tuning). The defaults are the paper's stage-2 recipe: slanted triangular rates peaking at 0.004, the top
/// rate falling by 2.6 per layer group, AdamW (0.7, 0.99), AR α 2 and TAR β 1.
/// </summary>
public sealed record LanguageModelTrainerOptions
{
    /// <summary>Passes over the training documents.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>How documents become batches (batch size, bptt, backwards, max tokens per epoch, data seed).</summary>
    public LanguageModelBatcherOptions Batching { get; init; } = new();

    /// <summary>Builds the schedule once the run's total step count is known. Default: slanted triangular with the
    /// paper's cut fraction 0.1, ratio 32 and the paper's LM fine-tuning rate 0.004.</summary>
    public Func<long, ITrainingSchedule> Schedule { get; init; } = totalSteps => new SlantedTriangularSchedule(totalSteps, 4e-3);

    /// <summary>Cap on the held-out tokens each end-of-epoch validation reads (the first ones, in document order);
    /// null reads them all. Why: with a capped epoch (<see cref="LanguageModelBatcherOptions.MaxTokens"/>) a full
    /// held-out split can take as long to score as the epoch takes to train.</summary>
    public long? MaxValidationTokens { get; init; }

    /// <summary>Factor between neighbouring layer groups' rates (discriminative fine-tuning; the paper's 2.6).
    /// 1 gives every group the same rate.</summary>
    public double GroupLearningRateFactor { get; init; } = DiscriminativeLearningRates.PaperFactor;

    /// <summary>Train only the last (output-side) this-many layer groups; null trains all of them.</summary>
    public int? TrainableGroups { get; init; }

    /// <summary>AdamW constants.</summary>
    public AdamWSettings Optimizer { get; init; } = AdamWSettings.Ulmfit;

    /// <summary>Clip the global gradient norm to this value; null turns clipping off. Default 0.3: what the ULMFiT
    /// authors' own scripts set (<c>learner.clip = 0.3</c> in fastai 0.7's imdb_scripts pretrain_lm.py and
    /// finetune_lm.py).</summary>
    public double? GradientClip { get; init; } = 0.3;

    /// <summary>AR and TAR weights.</summary>
    public LanguageModelLoss Loss { get; init; } = new();

    /// <summary>Seed for libtorch's generator (dropout masks) at the start of a fresh run.</summary>
    public long TorchSeed { get; init; } = 42;

    /// <summary>Where checkpoints go; null turns checkpointing (and resuming) off.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Time between checkpoints within an epoch (one is always written at each epoch end).</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How many of the newest checkpoints to keep.</summary>
    public int CheckpointsToKeep { get; init; } = 2;

    /// <summary>Report progress every this-many steps (and at the last step of each epoch).</summary>
    public int ProgressEverySteps { get; init; } = 1;

    /// <summary>Checks the settings; throws with a message saying what to change.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "train for at least one epoch");
        ArgumentNullException.ThrowIfNull(Batching);
        Batching.Validate();
        ArgumentNullException.ThrowIfNull(Schedule);
        ArgumentNullException.ThrowIfNull(Optimizer);
        Optimizer.Validate();
        ArgumentNullException.ThrowIfNull(Loss);
        if (GroupLearningRateFactor <= 0) throw new ArgumentOutOfRangeException(nameof(GroupLearningRateFactor), GroupLearningRateFactor, "must be > 0");
        if (TrainableGroups is < 1) throw new ArgumentOutOfRangeException(nameof(TrainableGroups), TrainableGroups, "at least one group must train");
        if (GradientClip is <= 0) throw new ArgumentOutOfRangeException(nameof(GradientClip), GradientClip, "must be > 0 (or null for no clipping)");
        if (CheckpointInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(CheckpointInterval), CheckpointInterval, "must be positive");
        if (CheckpointsToKeep < 1) throw new ArgumentOutOfRangeException(nameof(CheckpointsToKeep), CheckpointsToKeep, "keep at least one");
        if (MaxValidationTokens is < 2) throw new ArgumentOutOfRangeException(nameof(MaxValidationTokens), MaxValidationTokens, "must be at least 2 (or null for all)");
        if (ProgressEverySteps < 1) throw new ArgumentOutOfRangeException(nameof(ProgressEverySteps), ProgressEverySteps, "must be at least 1");
    }
}
