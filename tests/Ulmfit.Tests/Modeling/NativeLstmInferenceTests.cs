using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

/// <summary>
/// WeightDropLstm's inference path (eval, under no_grad: what evaluate, predict, serve and validation run) against a
/// plain LSTM written out in tensor operations, on the CPU the tests run on. libtorch's inference-only oneDNN LSTM
/// computed wrong outputs for some of these sizes on an AMD EPYC Zen 5 (AVX-512), which this path must not use.
/// </summary>
public class NativeLstmInferenceTests
{
    public NativeLstmInferenceTests() => TorchRuntime.Initialise(1);

    [Theory]
    [InlineData(16L, 16L)]      // wrong from oneDNN's inference LSTM on Zen 5
    [InlineData(48L, 48L)]      // wrong there too
    [InlineData(1152L, 400L)]   // the full-size AWD-LSTM's last layer: wrong there
    [InlineData(128L, 512L)]    // the shipped LMs' first layer: right there
    public void Eval_under_no_grad_matches_a_plain_lstm_and_records_nothing(long input, long hidden)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var layer = new WeightDropLstm(input, hidden, weightDropout: 0.3);
        layer.eval();
        foreach (long batch in new[] { 1L, 5L })
            foreach (long steps in new[] { 1L, 7L })
            {
                var x = randn(batch, steps, input);
                var state = new LstmState(randn(1, batch, hidden) * 0.1, randn(1, batch, hidden) * 0.1);
                Tensor output, cell;
                using (no_grad())
                {
                    var (y, s) = layer.Forward(x, state);
                    output = y;
                    cell = s.Cell;
                }
                Assert.False(output.requires_grad);
                var (expected, _, expectedCell) = LstmReference.Run(x, layer.InputWeight.detach(), layer.RawHiddenWeight.detach(),
                    layer.InputBias.detach(), layer.HiddenBias.detach(), state.Hidden[0], state.Cell[0]);
                Assert.True(LstmReference.MaxAbsDifference(output, expected) < 1e-5f, $"batch {batch}, {steps} steps: output");
                Assert.True(LstmReference.MaxAbsDifference(cell[0], expectedCell) < 1e-5f, $"batch {batch}, {steps} steps: cell");
            }
        // The model's own parameters still require gradients: the path only borrowed the workspace copies.
        Assert.All(layer.Weights, p => Assert.True(p.requires_grad));
    }
}
