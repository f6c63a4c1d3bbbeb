namespace Ulmfit.Training;

/// <summary>
/// Draws the length of each back-propagation-through-time window: AWD-LSTM's variable-length BPTT (Merity et al.
/// 2017, section 4.1), as fastai v1's language-model loader does it: the base length is <c>bptt</c> with probability
/// 0.95, else <c>bptt / 2</c>; the length is a normal draw around it (standard deviation 5), truncated towards zero
/// like Python's <c>int()</c>, at least 5 and at most <c>bptt + 25</c>. Varying the window means every token is, over
/// the epochs, seen at many distances from a window start, which regularises the model.
/// </summary>
/// <remarks>fastai also makes its very first batch <c>bptt + 25</c> long to pre-allocate GPU memory; that is a device
/// detail and is not reproduced. The AWD-LSTM code also rescales the learning rate by length / bptt; fastai does not,
/// and neither does this library.</remarks>
public sealed record SequenceLengthSampler(
    int Bptt,
    double FullLengthProbability = 0.95,
    double StandardDeviation = 5,
    int MinimumLength = 5,
    int MaximumExtra = 25)
{
    /// <summary>The longest window the sampler can return.</summary>
    public int MaximumLength => Math.Max(MinimumLength, Bptt + MaximumExtra);

    /// <summary>Draws the next window length using <paramref name="random"/> (two to three draws from it).</summary>
    public int Next(Xoshiro256StarStar random)
    {
        double centre = random.NextDouble() < FullLengthProbability ? Bptt : Bptt / 2.0;
        double drawn = centre + StandardDeviation * random.NextGaussian();
        int length = (int)Math.Clamp(Math.Truncate(drawn), int.MinValue, int.MaxValue);
        return Math.Min(Math.Max(MinimumLength, length), MaximumLength);
    }

    /// <summary>Checks the settings; throws with a message saying what to change.</summary>
    public void Validate()
    {
        if (Bptt < 1) throw new ArgumentOutOfRangeException(nameof(Bptt), Bptt, "bptt must be at least 1");
        if (FullLengthProbability is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(FullLengthProbability), FullLengthProbability, "must be in [0, 1]");
        if (StandardDeviation < 0) throw new ArgumentOutOfRangeException(nameof(StandardDeviation), StandardDeviation, "must be >= 0");
        if (MinimumLength < 1) throw new ArgumentOutOfRangeException(nameof(MinimumLength), MinimumLength, "must be at least 1");
    }
}
