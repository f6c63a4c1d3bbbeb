using TorchSharp;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Training;

/// <summary>
/// The language-model objective: next-token cross-entropy plus AWD-LSTM's two activation penalties (Merity et al.
/// 2017, section 4.6): activation regularisation (AR) <c>α · mean(h_dropped²)</c> keeps the last layer's outputs small,
/// temporal activation regularisation (TAR) <c>β · mean((h_t − h_{t−1})²)</c> on the outputs before dropout keeps
/// them from jumping between time steps. ULMFiT (fastai) uses α = 2, β = 1.
/// </summary>
public sealed record LanguageModelLoss(double Alpha = 2, double Beta = 1)
{
    /// <summary>Mean next-token cross-entropy of <paramref name="logits"/> (batch, seq, vocab) against
    /// <paramref name="targets"/> (batch, seq) int64: a scalar.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets)
    {
        long vocab = logits.shape[^1];
        return nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1)); // over (batch*seq, vocab)
    }

    /// <summary>AR + TAR for one forward pass (a scalar; zero when both weights are zero).</summary>
    public Tensor Regularisation(LanguageModelOutput output)
    {
        Tensor total = zeros(1, dtype: float32).squeeze();
        if (Alpha != 0) total = total + Alpha * output.LastLayerDropped.to(float32).pow(2).mean();
        long steps = output.LastLayerRaw.shape[1];
        if (Beta != 0 && steps > 1)
        {
            // (batch, seq-1, hidden): the change of each unit from one time step to the next.
            var raw = output.LastLayerRaw.to(float32);
            var change = raw.narrow(1, 1, steps - 1) - raw.narrow(1, 0, steps - 1);
            total = total + Beta * change.pow(2).mean();
        }
        return total;
    }
}
