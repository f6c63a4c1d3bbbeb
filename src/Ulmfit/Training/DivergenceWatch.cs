using System.Globalization;

namespace Ulmfit.Training;

/// <summary>
/// A training run whose smoothed loss climbed well above the best it had reached.
/// </summary>
/// <param name="BestStep">Step at which the smoothed loss was lowest so far.</param>
/// <param name="BestLoss">That lowest smoothed loss.</param>
/// <param name="Step">Step at which the rise passed the threshold.</param>
/// <param name="Loss">The smoothed loss there.</param>
/// <param name="LearningRate">The top group's learning rate at that step.</param>
public sealed record DivergenceWarning(long BestStep, double BestLoss, long Step, double Loss, double LearningRate)
{
    /// <summary>One line for a log or a console.</summary>
    public string Message => string.Create(CultureInfo.InvariantCulture,
        $"training loss rose from {BestLoss:F3} (step {BestStep:N0}) to {Loss:F3} (step {Step:N0}) at learning rate {LearningRate:G3}: {Advice}");

    const string Advice = "the run is probably diverging; a lower learning rate usually fixes it";
}

/// <summary>
/// Watches the smoothed training loss and reports, once, when it has risen a fixed margin above its lowest value.
/// </summary>
/// <remarks>
/// Why: a language model trained at too high a peak rate can leave its basin without any non-finite loss — the
/// QRNN 128/512/3 at batch 128 and one-cycle peak 8e-3 fell to a smoothed loss of 8.19 by step 29 and then climbed
/// back to 9.2 (ln 20,000 = 9.9) at the peak rate and never recovered, and the run's only visible result was a
/// perplexity of 9,993 at the end. A climb of 0.5 nats in a smoothed loss (β 0.98, debiased: an average over about
/// 50 batches) is far larger than its wobble in a healthy run, where batch-to-batch noise is averaged away; the
/// first <c>warmupSteps</c> are ignored because the debiased average is still settling there.
/// </remarks>
public sealed class DivergenceWatch(double rise = 0.5, int warmupSteps = 10)
{
    /// <summary>
    /// A watch for a classifier: the rise is 0.4 of the loss at chance (ln of the class count; ln 2 per label for
    /// multi-label) when that is below 0.5 nats. Why: a binary classifier's loss lives between 0 and about 0.69, so a
    /// fixed 0.5 hardly ever fires — the from-scratch IMDb run on 10,000 labels fell to a training loss of 0.36 at
    /// the peak rate and climbed back to 0.69 (chance) for good without a warning.
    /// </summary>
    public static DivergenceWatch ForClassifier(int classCount, bool multiLabel)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, multiLabel ? 1 : 2);
        double chance = multiLabel ? Math.Log(2) : Math.Log(classCount);
        return new DivergenceWatch(rise: Math.Min(0.5, 0.4 * chance));
    }

    /// <summary>How far above its lowest value the smoothed loss must climb to be reported.</summary>
    public double Rise => rise;

    double _bestLoss = double.PositiveInfinity;
    long _bestStep;
    int _observed;
    bool _reported;

    /// <summary>The warning, the first time the smoothed loss is <c>rise</c> above its minimum; null otherwise.</summary>
    public DivergenceWarning? Observe(long step, double smoothedLoss, double learningRate)
    {
        if (_reported || !double.IsFinite(smoothedLoss) || ++_observed <= warmupSteps) return null;
        if (smoothedLoss < _bestLoss)
        {
            (_bestLoss, _bestStep) = (smoothedLoss, step);
            return null;
        }
        if (smoothedLoss < _bestLoss + rise) return null;
        _reported = true;
        return new DivergenceWarning(_bestStep, _bestLoss, step, smoothedLoss, learningRate);
    }
}
