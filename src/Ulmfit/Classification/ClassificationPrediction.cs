namespace Ulmfit.Classification;

/// <summary>What a classifier says about one document.</summary>
/// <param name="Label">The most probable class.</param>
/// <param name="ClassIndex">Index of <paramref name="Label"/> in the classifier's classes.</param>
/// <param name="Labels">The predicted classes: <paramref name="Label"/> alone for a single-label classifier; every
/// class at or above its threshold for a multi-label one (possibly none), in class order.</param>
/// <param name="Probabilities">One probability per class, in the classifier's class order (softmax, summing to 1;
/// or per-class sigmoids for a multi-label classifier).</param>
public sealed record ClassificationPrediction(string Label, int ClassIndex, IReadOnlyList<string> Labels, float[] Probabilities)
{
    /// <summary>The prediction for <paramref name="probabilities"/> over <paramref name="classes"/>; multi-label
    /// when <paramref name="thresholds"/> is given.</summary>
    public static ClassificationPrediction From(float[] probabilities, IReadOnlyList<string> classes, float[]? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(classes);
        if (probabilities.Length != classes.Count)
            throw new ArgumentException($"{probabilities.Length} probabilities for {classes.Count} classes.", nameof(probabilities));
        int top = ClassifierEvaluation.ArgMax(probabilities);
        IReadOnlyList<string> labels = thresholds is null
            ? [classes[top]]
            : [.. MultiLabelThresholds.Apply(probabilities, thresholds).Select(c => classes[c])];
        return new ClassificationPrediction(classes[top], top, labels, probabilities);
    }
}
