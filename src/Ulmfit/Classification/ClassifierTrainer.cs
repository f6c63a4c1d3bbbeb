using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Ulmfit.Engine;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Classification;

/// <summary>
/// Trains a <see cref="TextClassifier"/> with ULMFiT's stage-3 recipe: gradual unfreezing over the layer groups
/// (<see cref="ClassifierTrainerOptions.Stages"/>), discriminative learning rates, a one-cycle or slanted triangular
/// schedule per stage, AdamW, validation after every epoch with best-epoch selection and optional early stopping,
/// and, for multi-label data, per-class threshold tuning at the end.
/// </summary>
/// <remarks>
/// The run happens on one dedicated thread (TorchSharp's dispose scopes are per thread); progress is reported
/// synchronously from that thread. One optimizer serves all stages, so Adam's moments carry over from stage to stage
/// as in fastai. Every step runs in its own dispose scope. Cancelling stops after the current step and throws
/// <see cref="OperationCanceledException"/>; the classifier then holds that step's weights. One run per classifier at
/// a time.
/// </remarks>
public sealed class ClassifierTrainer
{
    readonly TextClassifier _classifier;
    readonly ClassificationDataset _training;
    readonly ClassificationDataset? _validation;
    readonly ClassifierTrainerOptions _options;
    readonly ILogger _logger;

    /// <summary>Prepares a run. Without <paramref name="validation"/>, <see cref="ClassifierTrainerOptions.ValidFraction"/>
    /// of <paramref name="training"/> is held out (stratified, seeded); with a fraction of 0 there is no validation.</summary>
    public ClassifierTrainer(TextClassifier classifier, ClassificationDataset training, ClassificationDataset? validation,
        ClassifierTrainerOptions? options = null, ILogger? logger = null)
    {
        _classifier = classifier ?? throw new ArgumentNullException(nameof(classifier));
        _training = training ?? throw new ArgumentNullException(nameof(training));
        _validation = validation;
        _options = options ?? new ClassifierTrainerOptions();
        _options.Validate(classifier.LayerGroups.Count, classifier.Config.ClassCount);
        CheckMatches(training, nameof(training));
        if (validation is not null) CheckMatches(validation, nameof(validation));
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The metric that selects the best epoch.</summary>
    public ClassifierMetric Metric => _options.SelectionMetric
        ?? (_classifier.Config.MultiLabel ? ClassifierMetric.MicroF1 : ClassifierMetric.Accuracy);

    /// <summary>Runs the whole recipe.</summary>
    public Task<ClassifierTrainingResult> TrainAsync(IProgress<ClassifierProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        int threads = TorchRuntime.Threads; // libtorch's thread count can be per calling thread: carry it over
        return Task.Factory.StartNew(() =>
        {
            TorchRuntime.Initialise(threads);
            return Run(progress, cancellationToken);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    ClassifierTrainingResult Run(IProgress<ClassifierProgress>? progress, CancellationToken token)
    {
        var runClock = Stopwatch.StartNew();
        ulong seed = unchecked((ulong)_options.Seed);
        torch.manual_seed(_options.Seed);
        var (training, validation) = Split(seed);
        if (training.Count < 2) throw new InvalidOperationException($"training needs at least 2 documents, got {training.Count}.");

        var batcher = new ClassifierBatcher(training.Documents, _classifier.Config, _options.Batching);
        var order = new Xoshiro256StarStar(Xoshiro256StarStar.DeriveSeed(seed, 1));
        var stages = _options.Stages;
        var plans = stages.Select(s => Enumerable.Range(0, s.Epochs).Select(_ => batcher.TrainingBatches(order)).ToArray()).ToArray();
        long totalSteps = plans.Sum(p => p.Sum(e => (long)e.Count));
        int epochCount = stages.Sum(s => s.Epochs);

        var groups = _classifier.LayerGroups;
        var freezer = new LayerGroupFreezer(groups);
        using var optimizer = new LayerGroupOptimizer(groups, _options.Optimizer, _options.GroupLearningRateFactor);
        using var loss = new ClassifierLoss(_classifier.Config.MultiLabel, _classifier.Config.ClassCount, _options.LabelSmoothing, _options.ClassWeights);
        var step = new ClassifierStep(_classifier, optimizer, loss, training, _options.GradientClip);
        var device = _classifier.Encoder.Embedding.Weight.device;
        var smoothed = new SmoothedLoss();
        // Over the whole run: a new stage's rate can be what sends it off.
        var divergence = DivergenceWatch.ForClassifier(_classifier.Config.ClassCount, _classifier.Config.MultiLabel);
        var selection = new BestEpochTracker(Metric, _options.EarlyStoppingPatience);
        using var best = new BestWeights(_options.RestoreBestWeights, _options.BestCheckpointPath);
        var epochs = new List<ClassifierEpochResult>();
        var stageResults = new List<ClassifierStageResult>();
        long steps = 0, trainedDocuments = 0;
        var trainingTime = TimeSpan.Zero;
        int epoch = 0;

        try
        {
            for (int s = 0; s < stages.Count && !selection.ShouldStop; s++)
            {
                var stage = stages[s];
                var stageClock = Stopwatch.StartNew();
                int trainable = stage.TrainableGroups ?? groups.Count;
                freezer.FreezeAllButLast(trainable);
                long stageSteps = plans[s].Sum(e => (long)e.Count), stageStep = 0;
                ITrainingSchedule schedule = _options.Schedule == StageSchedule.OneCycle
                    ? new OneCycleSchedule(stageSteps, stage.LearningRate, Momentums: MomentumCycle.Text)
                    : new SlantedTriangularSchedule(stageSteps, stage.LearningRate);
                int stageEpochs = 0;
                for (int e = 0; e < stage.Epochs && !selection.ShouldStop; e++, epoch++, stageEpochs++)
                {
                    var epochClock = Stopwatch.StartNew();
                    double lossSum = 0;
                    long epochDocuments = 0;
                    _classifier.train();
                    var batches = plans[s][e];
                    for (int b = 0; b < batches.Count; b++)
                    {
                        token.ThrowIfCancellationRequested();
                        double batchLoss;
                        var values = schedule.At(stageStep);
                        using (var scope = NewDisposeScope())
                        {
                            using var batch = batcher.Build(batches[b], device);
                            batchLoss = step.Run(batch, values);
                        }
                        if (!double.IsFinite(batchLoss))
                            throw new InvalidOperationException($"training diverged: loss {batchLoss} at step {steps} (stage {s}, lower its learning rate)");
                        stageStep++;
                        steps++;
                        lossSum += batchLoss;
                        epochDocuments += batches[b].Length;
                        smoothed.Add(batchLoss);
                        var warning = divergence.Observe(steps, smoothed.Value, values.LearningRate);
                        if (warning is not null) _logger.LogWarning("{Warning}", warning.Message);
                        if (warning is not null || steps % _options.ProgressEverySteps == 0 || b == batches.Count - 1)
                        {
                            var elapsedTraining = trainingTime + epochClock.Elapsed;
                            double rate = elapsedTraining.TotalSeconds > 0 ? (trainedDocuments + epochDocuments) / elapsedTraining.TotalSeconds : 0;
                            TimeSpan? remaining = TimeSpan.FromSeconds(elapsedTraining.TotalSeconds / steps * (totalSteps - steps));
                            progress?.Report(new ClassifierProgress(s, stages.Count, trainable, epoch, epochCount, steps, totalSteps,
                                batchLoss, smoothed.Value, values.LearningRate, rate, runClock.Elapsed, remaining, warning));
                        }
                    }
                    var epochTime = epochClock.Elapsed;
                    trainingTime += epochTime;
                    trainedDocuments += epochDocuments;

                    ClassifierEvaluation? evaluation = validation is null ? null
                        : ClassifierEvaluator.Evaluate(_classifier, validation, _options.Batching, token);
                    bool improved = evaluation is not null && selection.Record(epoch, evaluation.Value(Metric));
                    if (improved) best.Capture(_classifier);
                    epochs.Add(new ClassifierEpochResult(epoch, s, trainable, batches.Count, lossSum / batches.Count,
                        evaluation?.Loss, evaluation?.Accuracy, evaluation?.MacroF1, evaluation?.Value(Metric), improved, epochTime,
                        epochTime.TotalSeconds > 0 ? epochDocuments / epochTime.TotalSeconds : 0));
                    _logger.LogInformation("Epoch {Epoch} (stage {Stage}, {Groups} groups): train loss {TrainLoss:F4}, valid loss {ValidLoss:F4}, {Metric} {Value:F4}{Best}",
                        epoch, s, trainable, lossSum / batches.Count, evaluation?.Loss, Metric, evaluation?.Value(Metric), improved ? " (best)" : "");
                }
                stageResults.Add(new ClassifierStageResult(s, trainable, stageEpochs, stage.LearningRate, stageClock.Elapsed));
            }
        }
        finally
        {
            freezer.UnfreezeAll(); // hand the classifier back with every parameter trainable
            _classifier.eval();
        }

        if (selection.BestEpoch is not null) best.RestoreInto(_classifier);
        float[]? thresholds = null;
        ClassifierEvaluation? final = null;
        if (validation is not null)
        {
            if (_classifier.Config.MultiLabel && _options.TuneThresholds)
            {
                var probabilities = ClassifierEvaluator.PredictProbabilities(_classifier, validation.Documents, _options.Batching, token);
                _classifier.DecisionThresholds = MultiLabelThresholds.Tune(probabilities,
                    Enumerable.Range(0, validation.Count).Select(validation.Labels).ToArray(), _classifier.Config.ClassCount);
            }
            final = ClassifierEvaluator.Evaluate(_classifier, validation, _options.Batching, token);
        }
        if (_classifier.Config.MultiLabel) thresholds = _classifier.DecisionThresholds;
        return new ClassifierTrainingResult(epochs, stageResults, Metric, selection.BestEpoch, selection.BestValue, selection.ShouldStop,
            steps, runClock.Elapsed, trainingTime.TotalSeconds > 0 ? trainedDocuments / trainingTime.TotalSeconds : 0,
            final, thresholds, training.Count, validation?.Count ?? 0);
    }

    (ClassificationDataset Training, ClassificationDataset? Validation) Split(ulong seed)
    {
        if (_validation is not null) return (_training, _validation.Count > 0 ? _validation : null);
        if (_options.ValidFraction == 0) return (_training, null);
        var split = ValidationSplit.Stratified(_training, _options.ValidFraction, Xoshiro256StarStar.DeriveSeed(seed, 2));
        _logger.LogInformation("Holding out {Validation} of {Total} training documents for validation (stratified)",
            split.Validation.Length, _training.Count);
        return (_training.Subset(split.Training), split.Validation.Length == 0 ? null : _training.Subset(split.Validation));
    }

    void CheckMatches(ClassificationDataset data, string name)
    {
        if (!data.Classes.SequenceEqual(_classifier.Classes, StringComparer.Ordinal))
            throw new ArgumentException($"the {name} data's classes ({string.Join(", ", data.Classes.Take(10))}) are not the classifier's ({string.Join(", ", _classifier.Classes.Take(10))}).", name);
        if (data.MultiLabel != _classifier.Config.MultiLabel)
            throw new ArgumentException($"the {name} data is {(data.MultiLabel ? "multi" : "single")}-label but the classifier is not.", name);
    }

    /// <summary>The best epoch's weights: in memory (to restore at the end) and/or in a file.</summary>
    sealed class BestWeights(bool keepInMemory, string? path) : IDisposable
    {
        WeightSnapshot? _snapshot;

        public void Capture(TextClassifier classifier)
        {
            if (keepInMemory)
            {
                _snapshot?.Dispose();
                // Take leaves one detach() wrapper per tensor in the current scope; this scope frees them.
                using (NewDisposeScope()) _snapshot = WeightSnapshot.Take(classifier);
            }
            if (path is not null)
            {
                string full = Path.GetFullPath(path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
                try
                {
                    classifier.save(temporary);
                    File.Move(temporary, full, overwrite: true);
                }
                finally
                {
                    if (File.Exists(temporary)) File.Delete(temporary);
                }
            }
        }

        public void RestoreInto(TextClassifier classifier) => _snapshot?.Restore(classifier);

        public void Dispose() => _snapshot?.Dispose();
    }
}
