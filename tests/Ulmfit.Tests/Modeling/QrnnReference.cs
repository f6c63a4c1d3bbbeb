using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

/// <summary>
/// A deliberately plain QRNN: the equations step by step with ordinary autograd ops (several graph nodes per step).
/// Tests compare the fast implementation against it, outputs and gradients alike.
/// </summary>
static class QrnnReference
{
    /// <summary>c_t = f_t·z_t + (1 − f_t)·c_{t−1} for f, z (batch, seq, hidden) and c0 (batch, hidden): c (batch, seq, hidden).</summary>
    public static Tensor ForgetMult(Tensor forget, Tensor candidate, Tensor initial)
    {
        var c = initial;
        var steps = new List<Tensor>();
        for (long t = 0; t < forget.shape[1]; t++)
        {
            var f = forget.select(1, t);
            c = f * candidate.select(1, t) + (1 - f) * c;
            steps.Add(c);
        }
        return stack(steps, 1);
    }

    /// <summary>One QRNN layer over x (batch, seq, in) from the previous input step (batch, 1, in) and cell (batch, H),
    /// with gate weight (3H, 2·in) and bias (3H): output h (batch, seq, H).</summary>
    public static Tensor Layer(Tensor x, Tensor weight, Tensor bias, Tensor lastInput, Tensor initialCell)
    {
        long hidden = bias.shape[0] / 3;
        var previous = lastInput.select(1, 0);
        var c = initialCell;
        var outputs = new List<Tensor>();
        for (long t = 0; t < x.shape[1]; t++)
        {
            var current = x.select(1, t);
            var gates = cat([previous, current], 1).matmul(weight.t()) + bias;     // (batch, 3H)
            var z = gates.narrow(1, 0, hidden).tanh();
            var f = gates.narrow(1, hidden, hidden).sigmoid();
            var o = gates.narrow(1, 2 * hidden, hidden).sigmoid();
            c = f * z + (1 - f) * c;
            outputs.Add(o * c);
            previous = current;
        }
        return stack(outputs, 1);
    }
}
