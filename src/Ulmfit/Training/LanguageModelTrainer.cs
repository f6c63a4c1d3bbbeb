using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Ulmfit.Data;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Training;

/// <summary>
/// Trains a language model on a token stream (ULMFiT stages 1 and 2): variable-length BPTT batches, a schedule
/// applied every step to discriminative per-group learning rates, AdamW, AR/TAR, gradient clipping, validation after
/// every epoch, and checkpoints (timed and at epoch ends) from which <see cref="ResumeAsync"/> continues exactly.
/// </summary>
/// <remarks>
/// The whole run happens on one dedicated thread (TorchSharp's dispose scopes are per thread); progress is reported
/// from that thread. Cancelling the token stops after the current step, writes a checkpoint (when a checkpoint
/// directory is set) and then throws <see cref="OperationCanceledException"/>. Only one run per model at a time.
/// </remarks>
public sealed class LanguageModelTrainer
{
    readonly ILanguageModel _model;
    readonly ITokenDocuments _training;
    readonly ITokenDocuments? _validation;
    readonly LanguageModelTrainerOptions _options;
    readonly ILogger _logger;

    /// <summary>Prepares a run; <paramref name="validation"/> may be null (no held-out measurement).</summary>
    public LanguageModelTrainer(ILanguageModel model, ITokenDocuments training, ITokenDocuments? validation,
        LanguageModelTrainerOptions options, ILogger? logger = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _training = training ?? throw new ArgumentNullException(nameof(training));
        _validation = validation;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Starts a fresh run. Throws if the checkpoint directory already holds a run (resume it instead).</summary>
    public Task<LanguageModelTrainingResult> TrainAsync(IProgress<LanguageModelProgress>? progress = null,
        CancellationToken cancellationToken = default) => RunOnTrainingThread(resume: false, progress, cancellationToken);

    /// <summary>Continues the run saved in the newest checkpoint of <see cref="LanguageModelTrainerOptions.CheckpointDirectory"/>,
    /// with the same documents and options; ends at once (returning its results) if that run had finished.</summary>
    public Task<LanguageModelTrainingResult> ResumeAsync(IProgress<LanguageModelProgress>? progress = null,
        CancellationToken cancellationToken = default) => RunOnTrainingThread(resume: true, progress, cancellationToken);

    /// <summary>Whether <paramref name="checkpointDirectory"/> holds a checkpoint to resume from.</summary>
    public static bool HasCheckpoint(string checkpointDirectory) => new CheckpointStore(checkpointDirectory).FindLatest() is not null;

    Task<LanguageModelTrainingResult> RunOnTrainingThread(bool resume, IProgress<LanguageModelProgress>? progress, CancellationToken token)
    {
        int threads = TorchRuntime.Threads; // libtorch's thread count is process-wide in this build; set it again on the training thread anyway (harmless, and right on builds where it is per thread)
        return Task.Factory.StartNew(() =>
        {
            TorchRuntime.Initialise(threads);
            return Run(resume, progress, token);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    LanguageModelTrainingResult Run(bool resume, IProgress<LanguageModelProgress>? progress, CancellationToken token)
    {
        var batcher = new LanguageModelBatcher(_training, _options.Batching);
        var groups = _model.LayerGroups;
        var freezer = new LayerGroupFreezer(groups);
        if (_options.TrainableGroups is int trainable) freezer.FreezeAllButLast(trainable);
        else freezer.UnfreezeAll();

        using var optimizer = new LayerGroupOptimizer(groups, _options.Optimizer, _options.GroupLearningRateFactor);
        var checkpointer = _options.CheckpointDirectory is string directory
            ? new TrainingCheckpointer(new CheckpointStore(directory, _options.CheckpointsToKeep), _model, optimizer)
            : null;
        var run = resume ? Restore(checkpointer, batcher, groups.Count) : Begin(checkpointer, batcher);
        var schedule = _options.Schedule(run.TotalSteps);
        var step = new LanguageModelStep(_model, optimizer, _options.Loss, _options.GradientClip);
        var clock = new RunClock(run);
        var divergence = new DivergenceWatch();
        string? lastCheckpoint = null;

        void StopCancelled()
        {
            if (checkpointer is not null) lastCheckpoint = checkpointer.Save(Manifest(run, batcher, clock, groups.Count));
            _logger.LogInformation("Training cancelled at step {Step}; checkpoint {Checkpoint}", run.Step, lastCheckpoint ?? "(none)");
            token.ThrowIfCancellationRequested();
        }

        _model.Module.train();
        while (batcher.Position.Epoch < _options.Epochs)
        {
            int epoch = batcher.Position.Epoch;
            if (batcher.Position.Offset == 0) _model.ResetState(); // a mid-epoch resume keeps the restored state
            clock.StartEpochSegment();
            while (true)
            {
                if (token.IsCancellationRequested) StopCancelled();
                double loss, learningRate;
                long tokens;
                using (var scope = NewDisposeScope())
                {
                    var batch = batcher.NextBatch();
                    if (batch is null) break;
                    var values = schedule.At(run.Step);
                    loss = step.Run(batch, values);
                    (tokens, learningRate) = (batch.TokenCount, values.LearningRate);
                }
                if (!double.IsFinite(loss))
                    throw new InvalidOperationException($"training diverged: loss {loss} at step {run.Step} (lower the learning rate)");
                run.RecordStep(loss, tokens);
                clock.RecordStep(tokens);
                if (divergence.Observe(run.Step, run.Smoothed.Value, learningRate) is { } warning)
                {
                    _logger.LogWarning("{Warning}", warning.Message);
                    progress?.Report(clock.Progress(epoch, loss, learningRate) with { Divergence = warning });
                }
                else if (run.Step % _options.ProgressEverySteps == 0 || batcher.EpochFinished)
                    progress?.Report(clock.Progress(epoch, loss, learningRate));
                if (checkpointer is not null && clock.CheckpointDue(_options.CheckpointInterval))
                {
                    lastCheckpoint = checkpointer.Save(Manifest(run, batcher, clock, groups.Count));
                    clock.CheckpointWritten();
                }
            }

            var trainingTime = clock.EpochElapsed;
            ValidationResult? validation = null;
            try
            {
                if (_validation is not null) validation = LanguageModelEvaluator.Evaluate(_model, _validation, _options.Batching, token, _options.MaxValidationTokens);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                StopCancelled(); // the checkpoint sits at the epoch's end, so a resume validates again
            }
            var result = run.FinishEpoch(epoch, validation, trainingTime, clock.EpochElapsed);
            _logger.LogInformation("Epoch {Epoch}: train loss {TrainLoss:F4}, valid loss {ValidLoss:F4}, perplexity {Perplexity:F2}, accuracy {Accuracy:P2}",
                epoch, result.TrainLoss, validation?.Loss, validation?.Perplexity, validation?.Accuracy);
            batcher.StartNextEpoch();
            clock.EndEpoch();
            if (checkpointer is not null)
            {
                lastCheckpoint = checkpointer.Save(Manifest(run, batcher, clock, groups.Count));
                clock.CheckpointWritten();
            }
        }

        var elapsed = clock.TotalElapsed;
        return new LanguageModelTrainingResult(run.Results, run.Step, elapsed,
            elapsed.TotalSeconds > 0 ? run.TrainedTokens / elapsed.TotalSeconds : 0,
            lastCheckpoint ?? checkpointer?.Store.FindLatest());
    }

    RunState Begin(TrainingCheckpointer? checkpointer, LanguageModelBatcher batcher)
    {
        if (checkpointer?.Store.FindLatest() is string existing)
            throw new InvalidOperationException($"{existing}: the checkpoint directory already holds a run; resume it or use an empty directory");
        torch.manual_seed(_options.TorchSeed);
        return new RunState { TotalSteps = batcher.CountBatchesUntilEpoch(_options.Epochs) };
    }

    RunState Restore(TrainingCheckpointer? checkpointer, LanguageModelBatcher batcher, int groupCount)
    {
        if (checkpointer is null) throw new InvalidOperationException("resuming needs a checkpoint directory in the options");
        string directory = checkpointer.Store.Directory;
        var expected = Settings(groupCount);
        var manifest = checkpointer.LoadLatest(saved =>
            {
                var differences = saved.Settings.Differences(expected);
                if (saved.Epochs != _options.Epochs) differences = [$"epochs {saved.Epochs} (this run: {_options.Epochs})", .. differences];
                if (differences.Count > 0)
                    throw new InvalidInputException(directory, null, null,
                        $"the run was started with {string.Join("; ", differences)}: resume with the options it started with, or start a new run in another folder");
            }, _logger)
            ?? throw new InvalidOperationException($"{directory}: no checkpoint to resume from");
        batcher.Restore(manifest.Batcher);
        _logger.LogInformation("Resuming at step {Step} of {TotalSteps} (epoch {Epoch})", manifest.Step, manifest.TotalSteps, manifest.Batcher.Epoch);
        return RunState.From(manifest);
    }

    CheckpointSettings Settings(int groupCount) => new(
        _options.Batching.BatchSize, _options.Batching.Bptt, _options.Batching.Backwards, _options.Batching.MaxTokens,
        _options.Batching.Seed, _options.TorchSeed, groupCount, _training.TokenCount, _training.Count);

    CheckpointManifest Manifest(RunState run, LanguageModelBatcher batcher, RunClock clock, int groupCount) => new()
    {
        Step = run.Step,
        TotalSteps = run.TotalSteps,
        Epochs = _options.Epochs,
        Batcher = batcher.Position,
        EpochLossSum = run.EpochLossSum,
        EpochSteps = run.EpochSteps,
        EpochTokens = run.EpochTokens,
        EpochSeconds = clock.EpochElapsed.TotalSeconds,
        ElapsedSeconds = clock.TotalElapsed.TotalSeconds,
        TrainedTokens = run.TrainedTokens,
        SmoothedLossAverage = run.Smoothed.Average,
        SmoothedLossCount = run.Smoothed.Count,
        EpochResults = [.. run.Results],
        Settings = Settings(groupCount),
    };
}
