namespace Ulmfit.Training;

/// <summary>AdamW's constants (Loshchilov &amp; Hutter 2019: weight decay decoupled from the gradient update).</summary>
/// <param name="Beta1">First-moment decay; replaced at every step by the schedule's momentum when it cycles one.</param>
/// <param name="Beta2">Second-moment decay.</param>
/// <param name="Epsilon">Added to the denominator.</param>
/// <param name="WeightDecay">Decoupled decay: each step multiplies a weight by (1 − lr · decay).</param>
public sealed record AdamWSettings(double Beta1, double Beta2, double Epsilon, double WeightDecay)
{
    /// <summary>ULMFiT's choice: β1 0.7, β2 0.99 (paper, section 4, after Dozat &amp; Manning), ε 1e-5 and weight
    /// decay 0.01 (fastai's defaults for its Adam).</summary>
    public static AdamWSettings Ulmfit { get; } = new(0.7, 0.99, 1e-5, 0.01);

    /// <summary>Checks the settings; throws with a message saying what to change.</summary>
    public void Validate()
    {
        if (Beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "must be in [0, 1)");
        if (Beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "must be in [0, 1)");
        if (Epsilon < 0) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "must be >= 0");
        if (WeightDecay < 0) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "must be >= 0");
    }
}
