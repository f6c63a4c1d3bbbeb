using Ulmfit.Training;

namespace Ulmfit.Classification;

/// <summary>Progress of a classifier training run, reported every few steps from the training thread.</summary>
/// <param name="Stage">Zero-based unfreezing stage in progress.</param>
/// <param name="StageCount">Stages in the run.</param>
/// <param name="TrainableGroups">Layer groups training in this stage (counted from the output side).</param>
/// <param name="Epoch">Zero-based epoch in progress, counted over all stages.</param>
/// <param name="EpochCount">Epochs in the whole run.</param>
/// <param name="Step">Optimisation steps done so far.</param>
/// <param name="TotalSteps">Steps the whole run will take (unless it stops early).</param>
/// <param name="Loss">Training loss of the last batch.</param>
/// <param name="SmoothedLoss">Debiased exponential average of the batch losses (β 0.98).</param>
/// <param name="LearningRate">The head group's learning rate at the last step.</param>
/// <param name="DocumentsPerSecond">Training throughput so far (validation time excluded).</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Remaining">Estimated training time left (null before the first step).</param>
/// <param name="Divergence">Set on the one report made when <see cref="DivergenceWatch"/> sees the smoothed loss
/// climb well above its best (the run goes on; the caller decides whether to stop it).</param>
public sealed record ClassifierProgress(int Stage, int StageCount, int TrainableGroups, int Epoch, int EpochCount, long Step,
    long TotalSteps, double Loss, double SmoothedLoss, double LearningRate, double DocumentsPerSecond, TimeSpan Elapsed,
    TimeSpan? Remaining, DivergenceWarning? Divergence = null);

/// <summary>What one epoch achieved.</summary>
/// <param name="Epoch">Zero-based epoch, counted over all stages.</param>
/// <param name="Stage">Zero-based stage the epoch belongs to.</param>
/// <param name="TrainableGroups">Layer groups that trained.</param>
/// <param name="Steps">Optimisation steps in the epoch.</param>
/// <param name="TrainLoss">Mean training loss of the epoch's batches (dropout on, smoothing and weights included).</param>
/// <param name="ValidLoss">Validation loss after the epoch; null without validation data.</param>
/// <param name="ValidAccuracy">Validation accuracy (exact-match for multi-label data); null without validation data.</param>
/// <param name="ValidMacroF1">Validation macro-F1; null without validation data.</param>
/// <param name="ValidMetric">The selection metric's value; null without validation data.</param>
/// <param name="Improved">Whether this epoch set a new best selection metric.</param>
/// <param name="Duration">Training time of the epoch (validation excluded).</param>
/// <param name="DocumentsPerSecond">Training documents per second in the epoch.</param>
public sealed record ClassifierEpochResult(int Epoch, int Stage, int TrainableGroups, long Steps, double TrainLoss,
    double? ValidLoss, double? ValidAccuracy, double? ValidMacroF1, double? ValidMetric, bool Improved, TimeSpan Duration,
    double DocumentsPerSecond);

/// <summary>One unfreezing stage as it ran.</summary>
/// <param name="Stage">Zero-based stage.</param>
/// <param name="TrainableGroups">Layer groups that trained.</param>
/// <param name="Epochs">Epochs run (fewer than planned when training stopped early).</param>
/// <param name="LearningRate">The head group's peak rate.</param>
/// <param name="Duration">Wall time of the stage, validation included.</param>
public sealed record ClassifierStageResult(int Stage, int TrainableGroups, int Epochs, double LearningRate, TimeSpan Duration);

/// <summary>The outcome of a classifier training run. The classifier itself holds the final weights (the best
/// epoch's, when <see cref="ClassifierTrainerOptions.RestoreBestWeights"/>) and, multi-label, the tuned thresholds.</summary>
/// <param name="Epochs">One entry per epoch run.</param>
/// <param name="Stages">One entry per stage run.</param>
/// <param name="Metric">The selection metric.</param>
/// <param name="BestEpoch">Epoch with the best validation metric (null without validation data).</param>
/// <param name="BestMetric">Its value.</param>
/// <param name="StoppedEarly">Whether early stopping ended the run.</param>
/// <param name="Steps">Optimisation steps taken.</param>
/// <param name="Elapsed">Wall time of the whole run.</param>
/// <param name="DocumentsPerSecond">Training documents per second (validation excluded).</param>
/// <param name="Validation">The final model on the validation data (after restoring and threshold tuning); null
/// without validation data.</param>
/// <param name="Thresholds">Multi-label: the classifier's decision thresholds at the end; null otherwise.</param>
/// <param name="TrainingDocuments">Documents trained on.</param>
/// <param name="ValidationDocuments">Documents validated on (0 without validation data).</param>
public sealed record ClassifierTrainingResult(IReadOnlyList<ClassifierEpochResult> Epochs, IReadOnlyList<ClassifierStageResult> Stages,
    ClassifierMetric Metric, int? BestEpoch, double? BestMetric, bool StoppedEarly, long Steps, TimeSpan Elapsed,
    double DocumentsPerSecond, ClassifierEvaluation? Validation, float[]? Thresholds, int TrainingDocuments, int ValidationDocuments);
