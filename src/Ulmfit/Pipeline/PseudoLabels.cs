using Ulmfit.Classification;
using Ulmfit.Data;

namespace Ulmfit.Pipeline;

/// <summary>
/// Self-training's choice of unlabelled documents: the classifier's most confident predictions, the same number for
/// every class, so that the pseudo-labelled set does not tilt the next classifier towards the class the first one
/// over-predicts (with 100 IMDb reviews, the first classifier can call most reviews one way).
/// </summary>
public static class PseudoLabels
{
    /// <summary>
    /// Up to <paramref name="perClass"/> documents per predicted class, most confident first; every class gets as many
    /// as the scarcest class can fill. Returns the documents labelled with their predicted class, in candidate order.
    /// </summary>
    public static IReadOnlyList<TextDocument> Pick(IReadOnlyList<TextDocument> candidates, IReadOnlyList<ClassificationPrediction> predictions,
        IReadOnlyList<string> classes, int perClass)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(predictions);
        if (candidates.Count != predictions.Count) throw new ArgumentException($"{candidates.Count} candidates but {predictions.Count} predictions");
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 0);
        var byClass = Enumerable.Range(0, classes.Count)
            .Select(c => Enumerable.Range(0, predictions.Count)
                .Where(i => predictions[i].ClassIndex == c)
                .OrderByDescending(i => predictions[i].Probabilities[c]).ThenBy(i => i)
                .ToList())
            .ToList();
        int take = Math.Min(perClass, byClass.Min(list => list.Count));
        return byClass.SelectMany(list => list.Take(take)).Order()
            .Select(i => candidates[i] with { Label = classes[predictions[i].ClassIndex] })
            .ToList();
    }
}
