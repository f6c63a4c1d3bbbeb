using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

/// <summary>
/// A deliberately plain LSTM: the cell equations step by step, gates in PyTorch's order i, f, g, o. Tests compare the
/// fast implementation against it, outputs and gradients alike.
/// </summary>
static class LstmReference
{
    /// <summary>x (batch, seq, in); weights (4H, in), (4H, H); biases (4H); h0, c0 (batch, H).
    /// Returns output (batch, seq, H) and the final h, c (batch, H).</summary>
    public static (Tensor Output, Tensor Hidden, Tensor Cell) Run(Tensor x, Tensor inputWeight, Tensor hiddenWeight,
        Tensor inputBias, Tensor hiddenBias, Tensor h0, Tensor c0)
    {
        var h = h0;
        var c = c0;
        var steps = new List<Tensor>();
        for (long t = 0; t < x.shape[1]; t++)
        {
            var gates = x.select(1, t).matmul(inputWeight.t()) + inputBias + h.matmul(hiddenWeight.t()) + hiddenBias;
            var chunks = gates.chunk(4, 1);
            var i = chunks[0].sigmoid();
            var f = chunks[1].sigmoid();
            var g = chunks[2].tanh();
            var o = chunks[3].sigmoid();
            c = f * c + i * g;
            h = o * c.tanh();
            steps.Add(h);
        }
        return (stack(steps, 1), h, c);
    }

    public static float MaxAbsDifference(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        using var d = (a - b).abs().max();
        return d.item<float>();
    }
}
