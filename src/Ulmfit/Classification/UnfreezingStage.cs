using System.Globalization;

namespace Ulmfit.Classification;

/// <summary>
/// One stage of gradual unfreezing (paper, section 3.3): train the last <see cref="TrainableGroups"/> layer groups for
/// <see cref="Epochs"/> epochs with <see cref="LearningRate"/> as the top (head) group's peak rate; lower groups get
/// it divided by the discriminative factor once per group.
/// </summary>
/// <param name="TrainableGroups">Layer groups that train, counted from the output side; null trains all of them.</param>
/// <param name="Epochs">Passes over the training documents in this stage.</param>
/// <param name="LearningRate">Peak learning rate of the head group (the schedule's maximum).</param>
public sealed record UnfreezingStage(int? TrainableGroups, int Epochs, double LearningRate)
{
    /// <summary>
    /// fastai's ULMFiT classifier recipe (the text tutorial), for a model with any number of groups:
    /// <c>fit_one_cycle(1, 2e-2)</c> with only the head training; <c>freeze_to(-2)</c>,
    /// <c>fit_one_cycle(1, slice(1e-2/2.6⁴, 1e-2))</c>; <c>freeze_to(-3)</c>,
    /// <c>fit_one_cycle(1, slice(5e-3/2.6⁴, 5e-3))</c>; <c>unfreeze()</c>, <c>fit_one_cycle(2, slice(1e-3/2.6⁴, 1e-3))</c>.
    /// </summary>
    public static IReadOnlyList<UnfreezingStage> FastaiRecipe { get; } =
    [
        new(1, 1, 2e-2),
        new(2, 1, 1e-2),
        new(3, 1, 5e-3),
        new(null, 2, 1e-3),
    ];

    /// <summary>Everything trains from the first step: <paramref name="epochs"/> epochs at <paramref name="learningRate"/>
    /// (a classifier trained from scratch, with nothing pretrained to protect).</summary>
    public static IReadOnlyList<UnfreezingStage> AllAtOnce(int epochs, double learningRate) => [new(null, epochs, learningRate)];

    /// <summary>Gradual unfreezing with one more group per stage until all train, one epoch per stage except
    /// <paramref name="finalEpochs"/> for the last, the rate halving from stage to stage (the paper's scheme, with
    /// fastai's halving).</summary>
    public static IReadOnlyList<UnfreezingStage> Gradual(int groupCount, double firstLearningRate, int finalEpochs = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(groupCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(finalEpochs, 1);
        return [.. Enumerable.Range(1, groupCount).Select(g =>
            new UnfreezingStage(g == groupCount ? null : g, g == groupCount ? finalEpochs : 1, firstLearningRate / Math.Pow(2, g - 1)))];
    }

    /// <summary>Throws <see cref="ArgumentException"/> with a message that says what to fix.</summary>
    public void Validate(int groupCount)
    {
        if (TrainableGroups is int g && (g < 1 || g > groupCount))
            throw new ArgumentException(Invariant($"a stage trains {g} layer groups, but the classifier has {groupCount} (use 1..{groupCount}, or null for all)."));
        if (Epochs < 1) throw new ArgumentException(Invariant($"a stage needs at least one epoch, got {Epochs}."));
        if (!double.IsFinite(LearningRate) || LearningRate <= 0)
            throw new ArgumentException(Invariant($"a stage's learning rate must be positive, got {LearningRate}."));
    }

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
