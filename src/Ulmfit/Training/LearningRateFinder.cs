using TorchSharp;
using Ulmfit.Data;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Training;

/// <summary>How the learning-rate sweep runs (fastai's <c>lr_find</c> defaults).</summary>
public sealed record LearningRateSweep
{
    /// <summary>Rate of the first step.</summary>
    public double StartLearningRate { get; init; } = 1e-7;

    /// <summary>Rate the sweep would reach after <see cref="Steps"/> steps.</summary>
    public double EndLearningRate { get; init; } = 10;

    /// <summary>Steps of the sweep (fewer if the loss diverges first).</summary>
    public int Steps { get; init; } = 100;

    /// <summary>Smoothing of the loss curve (debiased exponential average).</summary>
    public double SmoothingBeta { get; init; } = 0.98;

    /// <summary>Stop once the smoothed loss exceeds this multiple of the best smoothed loss so far.</summary>
    public double DivergenceFactor { get; init; } = 4;

    /// <summary>The rate at step <paramref name="step"/>: start · (end/start)^(step/steps), an exponential sweep.</summary>
    public double LearningRateAt(int step) => StartLearningRate * Math.Pow(EndLearningRate / StartLearningRate, (double)step / Steps);

    /// <summary>Checks the settings; throws with a message saying what to change.</summary>
    public void Validate()
    {
        if (StartLearningRate <= 0 || EndLearningRate <= StartLearningRate)
            throw new ArgumentException($"the sweep needs 0 < start < end, got {StartLearningRate} to {EndLearningRate}");
        if (Steps < 2) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "sweep at least 2 steps");
        if (SmoothingBeta is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(SmoothingBeta), SmoothingBeta, "must be in [0, 1)");
        if (DivergenceFactor <= 1) throw new ArgumentOutOfRangeException(nameof(DivergenceFactor), DivergenceFactor, "must be > 1");
    }
}

/// <summary>One point of the sweep: the top group's rate used at a step, that batch's loss and the smoothed loss.</summary>
public sealed record LearningRatePoint(double LearningRate, double Loss, double SmoothedLoss);

/// <summary>The sweep's curve and its suggestions.</summary>
/// <param name="Points">Every step of the sweep in order.</param>
/// <param name="SuggestedLearningRate">fastai 2.7's default "valley" point of the smoothed curve: inside the longest
/// stretch of falling loss, half-way into its middle third. (The steepest-slope point, fastai's "steep", is noise on
/// the nearly flat curve of a pretrained model.)</param>
/// <param name="MinimumLossLearningRateOverTen">The rate at the smoothed minimum, divided by 10 (fastai's older
/// "min/10" suggestion), for comparison.</param>
/// <param name="Diverged">True when the sweep stopped early because the loss exploded.</param>
public sealed record LearningRateFinderResult(IReadOnlyList<LearningRatePoint> Points, double SuggestedLearningRate,
    double MinimumLossLearningRateOverTen, bool Diverged);

/// <summary>
/// The learning-rate range test (Smith 2017, as fastai's <c>lr_find</c>): trains for a short exponential sweep of
/// rates and records the loss, so a good maximum rate can be read off the curve. The model's weights, train/eval
/// mode, which groups train and libtorch's random state are put back afterwards.
/// </summary>
public static class LearningRateFinder
{
    /// <summary>Sweeps on <paramref name="documents"/> with the batching, layer-group factor, freezing, optimizer,
    /// loss and clipping of <paramref name="training"/> (its schedule and epochs are ignored).</summary>
    public static Task<LearningRateFinderResult> FindAsync(ILanguageModel model, ITokenDocuments documents,
        LanguageModelTrainerOptions training, LearningRateSweep? sweep = null,
        IProgress<LearningRatePoint>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(training);
        training.Validate();
        sweep ??= new LearningRateSweep();
        sweep.Validate();
        int threads = TorchRuntime.Threads;
        return Task.Factory.StartNew(() =>
        {
            TorchRuntime.Initialise(threads);
            return Sweep(model, documents, training, sweep, progress, cancellationToken);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    static LearningRateFinderResult Sweep(ILanguageModel model, ITokenDocuments documents, LanguageModelTrainerOptions training,
        LearningRateSweep sweep, IProgress<LearningRatePoint>? progress, CancellationToken token)
    {
        var groups = model.LayerGroups;
        bool[] trainableBefore = [.. groups.Select(g => g.Parameters.All(p => p.requires_grad))];
        bool wasTraining = model.Module.training;
        using var weights = WeightSnapshot.Take(model.Module);
        using var randomState = torch.random.get_rng_state();
        var points = new List<LearningRatePoint>(sweep.Steps);
        bool diverged = false;
        try
        {
            var freezer = new LayerGroupFreezer(groups);
            if (training.TrainableGroups is int trainable) freezer.FreezeAllButLast(trainable);
            else freezer.UnfreezeAll();
            using var optimizer = new LayerGroupOptimizer(groups, training.Optimizer, training.GroupLearningRateFactor);
            var step = new LanguageModelStep(model, optimizer, training.Loss, training.GradientClip);
            var batcher = new LanguageModelBatcher(documents, training.Batching);
            var smoothed = new SmoothedLoss(sweep.SmoothingBeta);
            double best = double.PositiveInfinity;

            model.Module.train();
            model.ResetState();
            for (int i = 0; i < sweep.Steps; i++)
            {
                token.ThrowIfCancellationRequested();
                double lr = sweep.LearningRateAt(i), loss;
                using (var scope = NewDisposeScope())
                {
                    var batch = batcher.NextBatch();
                    if (batch is null)
                    {
                        // A small corpus: go round again, as a training run's next epoch would.
                        batcher.StartNextEpoch();
                        model.ResetState();
                        batch = batcher.NextBatch()!;
                    }
                    loss = step.Run(batch, new ScheduleValues(lr, null));
                }
                double value = smoothed.Add(loss);
                var point = new LearningRatePoint(lr, loss, value);
                points.Add(point);
                progress?.Report(point);
                if (double.IsNaN(value) || value > sweep.DivergenceFactor * best) { diverged = true; break; }
                best = Math.Min(best, value);
            }
        }
        finally
        {
            weights.Restore(model.Module);
            torch.random.set_rng_state(randomState);
            var freezer = new LayerGroupFreezer(groups);
            for (int g = 0; g < groups.Count; g++) freezer.SetTrainable(g, trainableBefore[g]);
            model.ResetState();
            model.Module.train(wasTraining);
        }
        return new LearningRateFinderResult(points, Valley(points), MinimumOverTen(points), diverged);
    }

    /// <summary>The rate at which the smoothed loss has its most negative slope against log(rate).</summary>
    internal static double Steepest(IReadOnlyList<LearningRatePoint> points)
    {
        if (points.Count < 2) return points.Count == 1 ? points[0].LearningRate : double.NaN;
        // fastai leaves out the first tenth (still settling) and the last five points (already diverging).
        int skipStart = points.Count / 10, skipEnd = 5;
        var window = points.Count - skipStart - skipEnd >= 3 ? points.Skip(skipStart).Take(points.Count - skipStart - skipEnd).ToList() : [.. points];
        int steepest = 0;
        double mostNegative = double.PositiveInfinity;
        for (int i = 0; i + 1 < window.Count; i++)
        {
            double slope = (window[i + 1].SmoothedLoss - window[i].SmoothedLoss)
                / (Math.Log(window[i + 1].LearningRate) - Math.Log(window[i].LearningRate));
            if (slope < mostNegative) (mostNegative, steepest) = (slope, i);
        }
        return window[steepest].LearningRate;
    }

    /// <summary>
    /// fastai 2.7's default suggestion ("valley"): the longest stretch over which the smoothed loss keeps falling
    /// (the longest decreasing subsequence of the curve), and within it a point a half of the way into its middle
    /// third. Robust where a nearly flat curve makes the steepest slope a matter of noise (a pretrained model).
    /// </summary>
    internal static double Valley(IReadOnlyList<LearningRatePoint> points)
    {
        int n = points.Count;
        if (n < 3) return Steepest(points);
        var run = new int[n];   // run[i]: length of the longest decreasing subsequence ending at i
        int bestEnd = 0;
        for (int i = 0; i < n; i++)
        {
            run[i] = 1;
            for (int j = 0; j < i; j++)
                if (points[i].SmoothedLoss < points[j].SmoothedLoss && run[j] + 1 > run[i]) run[i] = run[j] + 1;
            if (run[i] > run[bestEnd]) bestEnd = i;
        }
        int start = bestEnd - run[bestEnd] + 1;
        double third = (bestEnd - start) / 3.0;
        int index = Math.Clamp(start + (int)third + (int)(third / 2), 0, n - 1);
        return points[index].LearningRate;
    }

    internal static double MinimumOverTen(IReadOnlyList<LearningRatePoint> points) =>
        points.Count == 0 ? double.NaN : points.MinBy(p => p.SmoothedLoss)!.LearningRate / 10;
}
