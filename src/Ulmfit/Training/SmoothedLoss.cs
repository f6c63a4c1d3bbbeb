namespace Ulmfit.Training;

/// <summary>
/// An exponential moving average of batch losses with bias correction (as fastai's smoothed loss):
/// <c>avg = β·avg + (1 − β)·loss</c>, reported as <c>avg / (1 − β^n)</c> so early values are not pulled towards 0.
/// </summary>
public sealed class SmoothedLoss(double beta = 0.98)
{
    /// <summary>The raw (uncorrected) average, for checkpoints.</summary>
    public double Average { get; private set; }

    /// <summary>Losses added so far.</summary>
    public long Count { get; private set; }

    /// <summary>The bias-corrected average (NaN before the first loss).</summary>
    public double Value => Count == 0 ? double.NaN : Average / (1 - Math.Pow(beta, Count));

    /// <summary>Adds one loss and returns the new smoothed value.</summary>
    public double Add(double loss)
    {
        Average = beta * Average + (1 - beta) * loss;
        Count++;
        return Value;
    }

    /// <summary>Continues from a saved <see cref="Average"/> and <see cref="Count"/>.</summary>
    public void Restore(double average, long count)
    {
        Average = average;
        Count = count;
    }
}
