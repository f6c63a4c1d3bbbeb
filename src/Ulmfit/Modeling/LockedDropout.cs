using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// Variational ("locked") dropout: one Bernoulli mask per sequence and feature, shared by every time step, so a
/// dropped unit stays dropped for the whole sequence. Survivors are scaled by 1/(1-p). Identity in eval mode.
/// </summary>
public sealed class LockedDropout : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module; <paramref name="probability"/> must be in [0, 1).</summary>
    public LockedDropout(double probability, string name = nameof(LockedDropout)) : base(name)
    {
        if (!double.IsFinite(probability) || probability < 0 || probability >= 1)
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout probability must be in [0, 1).");
        Probability = probability;
    }

    /// <summary>Probability of dropping a unit.</summary>
    public double Probability { get; }

    /// <summary>Applies the dropout to <paramref name="input"/>, (batch, seq, features).</summary>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 3)
            throw new ArgumentException($"LockedDropout expects (batch, seq, features), got shape [{string.Join(", ", input.shape)}].");
        if (!training || Probability == 0) return input;
        using var mask = SampleMask(input, Probability); // (batch, 1, features)
        return input * mask;
    }

    /// <summary>The scaled keep-mask for <paramref name="input"/>: values 0 or 1/(1-p), shape (batch, 1, features).</summary>
    internal static Tensor SampleMask(Tensor input, double probability)
    {
        using var _ = no_grad();
        return empty(input.shape[0], 1, input.shape[2], dtype: input.dtype, device: input.device)
            .bernoulli_(1 - probability)
            .div_(1 - probability);
    }
}
