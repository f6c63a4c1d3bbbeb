using System.Globalization;
using Ulmfit.Training;

namespace Ulmfit.Classification;

/// <summary>The learning-rate schedule each unfreezing stage runs.</summary>
public enum StageSchedule
{
    /// <summary>fastai's <c>fit_one_cycle</c> with the text learners' momentums 0.8 → 0.7 → 0.8 (the default).</summary>
    OneCycle,
    /// <summary>The paper's slanted triangular rates (cut fraction 0.1, ratio 32), β1 fixed.</summary>
    SlantedTriangular,
}

/// <summary>
/// Settings of a classifier training run (ULMFiT stage 3). Defaults: fastai's ULMFiT recipe
/// (<see cref="UnfreezingStage.FastaiRecipe"/>) with one-cycle schedules, rates falling by 2.6 per layer group,
/// AdamW (β2 0.99, ε 1e-5, weight decay 0.01), batches of 64, 10 % of the training data held out (stratified) when
/// no validation data is given, and the best epoch's weights kept.
/// </summary>
public sealed record ClassifierTrainerOptions
{
    /// <summary>Gradual unfreezing: the stages, in order.</summary>
    public IReadOnlyList<UnfreezingStage> Stages { get; init; } = UnfreezingStage.FastaiRecipe;

    /// <summary>Schedule within each stage.</summary>
    public StageSchedule Schedule { get; init; } = StageSchedule.OneCycle;

    /// <summary>Factor between neighbouring layer groups' rates (the paper's 2.6); 1 gives all groups the same rate.</summary>
    public double GroupLearningRateFactor { get; init; } = DiscriminativeLearningRates.PaperFactor;

    /// <summary>AdamW constants; under <see cref="StageSchedule.OneCycle"/> β1 follows the momentum cycle.</summary>
    public AdamWSettings Optimizer { get; init; } = AdamWSettings.Ulmfit;

    /// <summary>Clip the global gradient norm to this value; null (fastai's default) turns clipping off. (The ULMFiT
    /// authors' fastai 0.7 classifier script set a loose 25.)</summary>
    public double? GradientClip { get; init; }

    /// <summary>Label smoothing ε (0 = plain cross-entropy; fastai's LabelSmoothingCrossEntropy uses 0.1).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Per-class loss weights (null: all 1); <see cref="BalancedClassWeights"/> makes inverse-frequency weights.</summary>
    public IReadOnlyList<double>? ClassWeights { get; init; }

    /// <summary>How documents are batched (batch size, memory budget, sort chunks).</summary>
    public ClassifierBatchingOptions Batching { get; init; } = new();

    /// <summary>Fraction of the training data held out, stratified by class, when no validation data is given;
    /// 0 trains on everything (no model selection, no early stopping).</summary>
    public double ValidFraction { get; init; } = 0.1;

    /// <summary>What selects the best epoch and drives early stopping; null: accuracy for single-label data,
    /// micro-F1 for multi-label data.</summary>
    public ClassifierMetric? SelectionMetric { get; init; }

    /// <summary>Stop when the selection metric has not improved for this many epochs (counted over all stages);
    /// null never stops early.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>At the end, put back the weights of the epoch with the best validation metric (fastai's
    /// SaveModelCallback); false keeps the last epoch's weights.</summary>
    public bool RestoreBestWeights { get; init; } = true;

    /// <summary>When set, the best weights so far are also written here (a TorchSharp state-dict file, replaced
    /// atomically) whenever the validation metric improves, so a crash keeps the best model.</summary>
    public string? BestCheckpointPath { get; init; }

    /// <summary>Multi-label: tune per-class thresholds on the validation data at the end (maximising each class's F1).</summary>
    public bool TuneThresholds { get; init; } = true;

    /// <summary>Seed for the data order, the validation split and libtorch's generator (dropout masks).</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Report progress every this-many steps (and at each epoch's last step).</summary>
    public int ProgressEverySteps { get; init; } = 1;

    /// <summary>Weights n / (classes · count_c) from per-class document counts (scikit-learn's "balanced").</summary>
    public static double[] BalancedClassWeights(IReadOnlyList<int> classCounts) => ClassifierLoss.BalancedWeights(classCounts);

    /// <summary>Checks the settings for a classifier with <paramref name="groupCount"/> layer groups and
    /// <paramref name="classCount"/> classes; throws with a message that says what to change.</summary>
    public void Validate(int groupCount, int classCount)
    {
        if (Stages is null || Stages.Count == 0) throw new ArgumentException("at least one unfreezing stage is needed.");
        foreach (var stage in Stages) stage.Validate(groupCount);
        if (GroupLearningRateFactor <= 0 || !double.IsFinite(GroupLearningRateFactor))
            throw new ArgumentException(Invariant($"GroupLearningRateFactor must be > 0, got {GroupLearningRateFactor}."));
        ArgumentNullException.ThrowIfNull(Optimizer);
        Optimizer.Validate();
        if (GradientClip is { } clip && (clip <= 0 || !double.IsFinite(clip)))
            throw new ArgumentException(Invariant($"GradientClip must be > 0 (or null for none), got {clip}."));
        if (!double.IsFinite(LabelSmoothing) || LabelSmoothing is < 0 or >= 1)
            throw new ArgumentException(Invariant($"LabelSmoothing must be in [0, 1), got {LabelSmoothing}."));
        if (ClassWeights is not null && ClassWeights.Count != classCount)
            throw new ArgumentException(Invariant($"{ClassWeights.Count} class weights given for {classCount} classes."));
        ArgumentNullException.ThrowIfNull(Batching);
        Batching.Validate();
        if (Batching.BatchSize < 2)
            throw new ArgumentException("training needs batches of at least 2 documents (batch norm cannot train on one).");
        if (!double.IsFinite(ValidFraction) || ValidFraction is < 0 or >= 1)
            throw new ArgumentException(Invariant($"ValidFraction must be in [0, 1), got {ValidFraction}."));
        if (EarlyStoppingPatience is < 1)
            throw new ArgumentException(Invariant($"EarlyStoppingPatience must be at least 1 epoch, got {EarlyStoppingPatience}."));
        if (ProgressEverySteps < 1) throw new ArgumentException(Invariant($"ProgressEverySteps must be at least 1, got {ProgressEverySteps}."));
    }

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
