using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// AWD-LSTM's activation regularisers (Merity et al. 2017), added to the language-model loss. fastai applies both
/// to the last LSTM layer with alpha = 2 and beta = 1.
/// </summary>
public static class ActivationRegularization
{
    /// <summary>
    /// AR: <paramref name="alpha"/> · mean(h²) over the last layer's output after output dropout,
    /// <paramref name="droppedLast"/> (batch, seq, hidden). Penalises large activations. Returns a scalar.
    /// </summary>
    public static Tensor Ar(Tensor droppedLast, double alpha = 2.0)
    {
        ArgumentNullException.ThrowIfNull(droppedLast);
        using var squared = droppedLast.pow(2);
        using var mean = squared.mean();
        return mean * alpha;
    }

    /// <summary>
    /// TAR: <paramref name="beta"/> · mean((h_t − h_{t−1})²) over the last layer's raw output (before dropout),
    /// <paramref name="rawLast"/> (batch, seq, hidden), differences taken along time. Penalises fast-changing hidden
    /// states. A single time step has no difference: the result is then 0. Returns a scalar.
    /// </summary>
    public static Tensor Tar(Tensor rawLast, double beta = 1.0)
    {
        ArgumentNullException.ThrowIfNull(rawLast);
        if (rawLast.dim() != 3)
            throw new ArgumentException($"TAR expects (batch, seq, hidden), got shape [{string.Join(", ", rawLast.shape)}].", nameof(rawLast));
        long steps = rawLast.shape[1];
        if (steps < 2) return zeros(Array.Empty<long>(), dtype: rawLast.dtype, device: rawLast.device);
        using var later = rawLast.narrow(1, 1, steps - 1);    // h_1 .. h_{T-1}
        using var earlier = rawLast.narrow(1, 0, steps - 1);  // h_0 .. h_{T-2}
        using var diff = later - earlier;                     // (batch, seq-1, hidden)
        using var squared = diff.pow(2);
        using var mean = squared.mean();
        return mean * beta;
    }
}
