namespace Ulmfit.Training;

/// <summary>
/// fastai's one-cycle policy (Smith 2018, as in fastai's <c>fit_one_cycle</c>): over the first
/// <see cref="WarmupFraction"/> of the steps the rate rises on a half cosine from maxLr/<see cref="Div"/> to maxLr,
/// then falls on a half cosine to maxLr/<see cref="FinalDiv"/>; the momentum (Adam's β1) moves the opposite way,
/// from <see cref="Momentums"/>.Start to .Middle and back to .End. The position of step t is t / T.
/// </summary>
public sealed record OneCycleSchedule(
    long TotalSteps,
    double MaxLearningRate,
    double WarmupFraction = 0.25,
    double Div = 25,
    double FinalDiv = 1e5,
    MomentumCycle? Momentums = null) : ITrainingSchedule
{
    /// <summary>The momentum cycle in use (fastai's default 0.95 → 0.85 → 0.95 when none is given).</summary>
    public MomentumCycle Cycle => Momentums ?? MomentumCycle.FastaiDefault;

    public ScheduleValues At(long step)
    {
        double position = TotalSteps <= 0 ? 1 : Math.Clamp((double)step / TotalSteps, 0, 1);
        double lr = Combined(position, MaxLearningRate / Div, MaxLearningRate, MaxLearningRate / FinalDiv);
        double momentum = Combined(position, Cycle.Start, Cycle.Middle, Cycle.End);
        return new(lr, momentum);
    }

    /// <summary>Two half-cosine segments joined at <see cref="WarmupFraction"/>: start → middle → end.</summary>
    double Combined(double position, double start, double middle, double end)
    {
        if (position < WarmupFraction) return HalfCosine(start, middle, position / WarmupFraction);
        return WarmupFraction >= 1 ? middle : HalfCosine(middle, end, (position - WarmupFraction) / (1 - WarmupFraction));
    }

    /// <summary>From <paramref name="from"/> at 0 to <paramref name="to"/> at 1 along half a cosine wave.</summary>
    static double HalfCosine(double from, double to, double position) =>
        from + (1 + Math.Cos(Math.PI * (1 - position))) * (to - from) / 2;
}

/// <summary>The three points of a momentum cycle.</summary>
public sealed record MomentumCycle(double Start, double Middle, double End)
{
    /// <summary>fastai's default for every learner: 0.95 → 0.85 → 0.95.</summary>
    public static MomentumCycle FastaiDefault { get; } = new(0.95, 0.85, 0.95);

    /// <summary>What fastai's text learners (ULMFiT) use: 0.8 → 0.7 → 0.8.</summary>
    public static MomentumCycle Text { get; } = new(0.8, 0.7, 0.8);
}
