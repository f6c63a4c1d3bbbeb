namespace Ulmfit.Training;

/// <summary>
/// Slanted triangular learning rates (Howard &amp; Ruder 2018, eq. 3): a short linear rise over the first
/// <c>cut = ⌊T·cut_frac⌋</c> steps from maxLr/ratio to maxLr, then a long linear decay back to maxLr/ratio:
/// <c>p = t &lt; cut ? t/cut : 1 − (t − cut)/(cut·(1/cut_frac − 1))</c>, <c>lr = maxLr·(1 + p·(ratio − 1))/ratio</c>.
/// The paper's values: cut_frac 0.1, ratio 32, maxLr 0.01.
/// </summary>
/// <remarks>For runs shorter than 1/cut_frac steps ⌊T·cut_frac⌋ is 0; the cut is then taken as 1 step so the
/// formula stays defined (the rise is a single step). p is kept at or above 0.</remarks>
public sealed record SlantedTriangularSchedule(long TotalSteps, double MaxLearningRate, double CutFraction = 0.1, double Ratio = 32)
    : ITrainingSchedule
{
    /// <summary>The step at which the rate peaks.</summary>
    public long Cut => Math.Max(1, (long)Math.Floor(TotalSteps * CutFraction));

    public ScheduleValues At(long step)
    {
        if (CutFraction is <= 0 or >= 1) throw new InvalidOperationException($"cut fraction must be in (0, 1), got {CutFraction}");
        long t = Math.Clamp(step, 0, Math.Max(0, TotalSteps));
        double cut = Cut;
        double p = t < cut ? t / cut : 1 - (t - cut) / (cut * (1 / CutFraction - 1));
        p = Math.Max(0, p);
        return new(MaxLearningRate * (1 + p * (Ratio - 1)) / Ratio, null);
    }
}
