namespace Ulmfit.Classification;

/// <summary>Model selection and early stopping: remembers the best validation value and counts the epochs since.</summary>
/// <param name="metric">What is measured; <see cref="ClassifierMetric.Loss"/> is better when lower, the rest when higher.</param>
/// <param name="patience">Stop after this many epochs without a strictly better value; null never stops.</param>
internal sealed class BestEpochTracker(ClassifierMetric metric, int? patience)
{
    int _sinceBest;

    /// <summary>The epoch with the best value so far, or null before the first.</summary>
    public int? BestEpoch { get; private set; }

    /// <summary>The best value so far.</summary>
    public double? BestValue { get; private set; }

    /// <summary>Whether the patience has run out.</summary>
    public bool ShouldStop => patience is int p && BestEpoch is not null && _sinceBest >= p;

    /// <summary>Records epoch <paramref name="epoch"/>'s value; true when it is a new best (ties are not).</summary>
    public bool Record(int epoch, double value)
    {
        if (double.IsNaN(value)) { _sinceBest++; return false; }
        bool better = BestValue is not double best || (metric == ClassifierMetric.Loss ? value < best : value > best);
        if (better)
        {
            (BestEpoch, BestValue, _sinceBest) = (epoch, value, 0);
            return true;
        }
        _sinceBest++;
        return false;
    }
}
