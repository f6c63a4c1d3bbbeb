using System.Globalization;

namespace Ulmfit.Modeling;

/// <summary>
/// The five dropout probabilities of an AWD-LSTM (Merity et al. 2017, as used by ULMFiT). Each is the probability of
/// zeroing a unit; survivors are scaled by 1/(1-p) so expectations are unchanged.
/// </summary>
/// <param name="Embedding">Drops whole rows of the embedding matrix: a dropped word is zero at every position.</param>
/// <param name="Input">Locked dropout on the embedding output (one mask per sequence, shared over time).</param>
/// <param name="Hidden">Locked dropout on the output of every LSTM layer except the last.</param>
/// <param name="Weight">DropConnect on each LSTM's hidden-to-hidden matrix, a fresh mask per forward call.</param>
/// <param name="Output">Locked dropout on the last LSTM layer's output, before the decoder or classifier head.</param>
public sealed record AwdLstmDropouts(double Embedding, double Input, double Hidden, double Weight, double Output)
{
    /// <summary>fastai's <c>awd_lstm_lm_config</c>: the values for language-model pretraining and fine-tuning.</summary>
    public static AwdLstmDropouts LanguageModel { get; } = new(Embedding: 0.02, Input: 0.25, Hidden: 0.15, Weight: 0.2, Output: 0.1);

    /// <summary>fastai's <c>awd_lstm_clas_config</c>: stronger regularisation for the classifier's small data sets.</summary>
    public static AwdLstmDropouts Classifier { get; } = new(Embedding: 0.05, Input: 0.4, Hidden: 0.3, Weight: 0.5, Output: 0.4);

    /// <summary>No dropout anywhere (useful for tests and for inspecting a deterministic network).</summary>
    public static AwdLstmDropouts None { get; } = new(0, 0, 0, 0, 0);

    /// <summary>Every probability multiplied by <paramref name="dropMult"/> (ULMFiT's single regularisation knob).</summary>
    public AwdLstmDropouts Scale(double dropMult)
    {
        if (!double.IsFinite(dropMult) || dropMult < 0)
            throw new ArgumentOutOfRangeException(nameof(dropMult), dropMult, "DropMult must be a finite number >= 0.");
        return new(Embedding * dropMult, Input * dropMult, Hidden * dropMult, Weight * dropMult, Output * dropMult);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first probability outside [0, 1).</summary>
    public void Validate()
    {
        Check(nameof(Embedding), Embedding);
        Check(nameof(Input), Input);
        Check(nameof(Hidden), Hidden);
        Check(nameof(Weight), Weight);
        Check(nameof(Output), Output);
    }

    static void Check(string name, double p)
    {
        // p = 1 would divide by zero in the 1/(1-p) scaling, so the interval is half-open.
        if (!double.IsFinite(p) || p < 0 || p >= 1)
            throw new ArgumentException(string.Format(CultureInfo.InvariantCulture,
                "Dropout '{0}' must be in [0, 1) after DropMult scaling, got {1}.", name, p));
    }
}
