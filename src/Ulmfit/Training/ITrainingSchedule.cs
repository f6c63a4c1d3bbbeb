namespace Ulmfit.Training;

/// <summary>The hyper-parameters a schedule sets for one step: the learning rate of the top (output-side) layer
/// group and, for schedules that cycle it, Adam's β1 (the momentum).</summary>
public readonly record struct ScheduleValues(double LearningRate, double? Momentum);

/// <summary>A learning-rate (and momentum) schedule: a pure function of the zero-based optimisation step.</summary>
public interface ITrainingSchedule
{
    /// <summary>Steps the schedule spans; later steps get the final values.</summary>
    long TotalSteps { get; }

    /// <summary>The values for step <paramref name="step"/> (0 ≤ step; clamped to the last step).</summary>
    ScheduleValues At(long step);
}

/// <summary>The same learning rate at every step (and no momentum change).</summary>
public sealed record ConstantSchedule(long TotalSteps, double LearningRate) : ITrainingSchedule
{
    public ScheduleValues At(long step) => new(LearningRate, null);
}
