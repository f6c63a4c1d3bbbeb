namespace Ulmfit.Training;

/// <summary>
/// Discriminative fine-tuning (Howard &amp; Ruder 2018, section 3.2): each layer group gets its own learning rate,
/// falling by a constant factor per group towards the input, because lower layers hold more general features that
/// should change less. The paper's factor is 2.6: <c>η(l−1) = η(l) / 2.6</c>.
/// </summary>
public static class DiscriminativeLearningRates
{
    /// <summary>The paper's factor between neighbouring groups.</summary>
    public const double PaperFactor = 2.6;

    /// <summary>Rates for <paramref name="groupCount"/> groups ordered input side first: group i gets
    /// <c>topLearningRate / factor^(last − i)</c>, so the last (output-side) group gets the top rate.</summary>
    public static double[] ForGroups(int groupCount, double topLearningRate, double factor = PaperFactor)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groupCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(factor);
        var rates = new double[groupCount];
        for (int i = 0; i < groupCount; i++) rates[i] = topLearningRate / Math.Pow(factor, groupCount - 1 - i);
        return rates;
    }
}
