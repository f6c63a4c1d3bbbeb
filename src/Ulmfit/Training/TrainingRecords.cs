namespace Ulmfit.Training;

/// <summary>A language model measured on held-out text (eval mode: no dropout; fresh recurrent state).</summary>
/// <param name="Loss">Mean next-token cross-entropy in nats over <paramref name="Tokens"/> predictions.</param>
/// <param name="Perplexity">exp(<paramref name="Loss"/>).</param>
/// <param name="Accuracy">Fraction of positions where the highest-scoring token is the next token.</param>
/// <param name="Tokens">Predictions measured.</param>
public sealed record ValidationResult(double Loss, double Perplexity, double Accuracy, long Tokens);

/// <summary>What one finished training epoch achieved.</summary>
/// <param name="Epoch">Zero-based epoch number.</param>
/// <param name="Steps">Optimisation steps in the epoch.</param>
/// <param name="TrainLoss">Mean cross-entropy (without AR/TAR) of the epoch's training batches, dropout on.</param>
/// <param name="Validation">Held-out measurement after the epoch; null when no validation documents were given.</param>
/// <param name="Duration">Training time of the epoch (including time before a resume).</param>
/// <param name="TokensPerSecond">Training tokens per second over the epoch (training steps only, without validation).</param>
/// <param name="Tokens">Tokens the epoch trained on (predicted targets); 0 in checkpoints written before it was recorded.</param>
public sealed record EpochResult(int Epoch, long Steps, double TrainLoss, ValidationResult? Validation, TimeSpan Duration, double TokensPerSecond,
    long Tokens = 0);

/// <summary>Progress of a training run, reported every few steps.</summary>
/// <param name="Step">Optimisation steps done so far (over all epochs).</param>
/// <param name="TotalSteps">Steps the whole run will take.</param>
/// <param name="Epoch">Zero-based epoch in progress.</param>
/// <param name="Loss">Cross-entropy of the last batch.</param>
/// <param name="SmoothedLoss">Debiased exponential average of the batch losses (β 0.98, as fastai shows).</param>
/// <param name="TokensPerSecond">Training throughput since this process started or resumed the run.</param>
/// <param name="LearningRate">The top layer group's learning rate at the last step.</param>
/// <param name="Elapsed">Training time so far, including time before a resume.</param>
/// <param name="Remaining">Estimated time to the end of the run (null before the first timed step).</param>
/// <param name="Divergence">Set on the one report made when <see cref="DivergenceWatch"/> sees the smoothed loss climb
/// well above its best (the run is probably diverging); null on every other report.</param>
public sealed record LanguageModelProgress(
    long Step, long TotalSteps, int Epoch, double Loss, double SmoothedLoss, double TokensPerSecond,
    double LearningRate, TimeSpan Elapsed, TimeSpan? Remaining, DivergenceWarning? Divergence = null);

/// <summary>The outcome of a whole training run.</summary>
/// <param name="Epochs">One result per epoch, in order (including epochs done before a resume).</param>
/// <param name="Steps">Total optimisation steps.</param>
/// <param name="Elapsed">Total training time.</param>
/// <param name="TokensPerSecond">Training tokens per second over the whole run.</param>
/// <param name="CheckpointDirectory">Where the last checkpoint was written, if checkpointing was on.</param>
public sealed record LanguageModelTrainingResult(
    IReadOnlyList<EpochResult> Epochs, long Steps, TimeSpan Elapsed, double TokensPerSecond, string? CheckpointDirectory);
