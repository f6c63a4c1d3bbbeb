using TorchSharp.Modules;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

public class WeightDropLstmTests
{
    const float Tolerance = 1e-5f;
    const long Batch = 3, Steps = 5, In = 4, Hidden = 6;

    public WeightDropLstmTests() => TorchRuntime.Initialise(2);

    static Tensor KeepMask(double p) => (rand(4 * Hidden, Hidden) > p).to(ScalarType.Float32) / (1 - p);

    static Tensor[] GradTargets(WeightDropLstm lstm, Tensor x, Tensor h0, Tensor c0) =>
        [x, lstm.RawHiddenWeight, lstm.InputWeight, lstm.InputBias, lstm.HiddenBias, h0, c0];

    static Tensor[] TakeGrads(Tensor[] targets)
    {
        var grads = targets.Select(t => t.grad!.clone()).ToArray();
        foreach (var t in targets) t.grad!.zero_();
        return grads;
    }

    [Fact]
    public void Weight_dropped_lstm_matches_a_per_step_reference_in_outputs_and_gradients()
    {
        using var scope = NewDisposeScope();
        using var lstm = new WeightDropLstm(In, Hidden, weightDropout: 0.5);
        lstm.train();
        var mask = KeepMask(0.5);
        var x = randn(Batch, Steps, In).requires_grad_(true);
        var h0 = (randn(1, Batch, Hidden) * 0.5).requires_grad_(true);
        var c0 = (randn(1, Batch, Hidden) * 0.5).requires_grad_(true);
        // Random output weightings make every output element (and the final state) matter to the loss.
        var wy = randn(Batch, Steps, Hidden);
        var wh = randn(1, Batch, Hidden);
        var wc = randn(1, Batch, Hidden);
        var targets = GradTargets(lstm, x, h0, c0);

        var (y, state) = lstm.Forward(x, new LstmState(h0, c0), mask);
        ((y * wy).sum() + (state.Hidden * wh).sum() + (state.Cell * wc).sum()).backward();
        var fast = TakeGrads(targets);

        var (ry, rh, rc) = LstmReference.Run(x, lstm.InputWeight, lstm.RawHiddenWeight * mask, lstm.InputBias,
            lstm.HiddenBias, h0[0], c0[0]);
        ((ry * wy).sum() + (rh.unsqueeze(0) * wh).sum() + (rc.unsqueeze(0) * wc).sum()).backward();
        var reference = TakeGrads(targets);

        Assert.True(LstmReference.MaxAbsDifference(y, ry) < Tolerance);
        Assert.True(LstmReference.MaxAbsDifference(state.Hidden, rh.unsqueeze(0)) < Tolerance);
        Assert.True(LstmReference.MaxAbsDifference(state.Cell, rc.unsqueeze(0)) < Tolerance);
        string[] names = ["input", "weight_hh_l0_raw", "weight_ih_l0", "bias_ih_l0", "bias_hh_l0", "h0", "c0"];
        for (int k = 0; k < names.Length; k++)
        {
            float diff = LstmReference.MaxAbsDifference(fast[k], reference[k]);
            Assert.True(diff < Tolerance, $"gradient w.r.t. {names[k]} differs by {diff}");
        }
        // The dropped entries of the raw matrix get exactly no gradient.
        using var dropped = mask.eq(0);
        Assert.Equal(0f, fast[1].masked_select(dropped).abs().sum().item<float>());
    }

    [Fact]
    public void In_eval_mode_the_raw_matrix_is_used_and_the_output_is_deterministic()
    {
        using var scope = NewDisposeScope();
        using var lstm = new WeightDropLstm(In, Hidden, weightDropout: 0.9);
        lstm.eval();
        var x = randn(Batch, Steps, In);
        var (first, _) = lstm.Forward(x);
        var (second, _) = lstm.Forward(x);
        using var zero = zeros(Batch, Hidden);
        var (expected, _, _) = LstmReference.Run(x, lstm.InputWeight, lstm.RawHiddenWeight, lstm.InputBias, lstm.HiddenBias, zero, zero);
        Assert.Equal(0f, LstmReference.MaxAbsDifference(first, second));
        Assert.True(LstmReference.MaxAbsDifference(first, expected) < Tolerance);
    }

    [Fact]
    public void Training_samples_a_fresh_mask_for_every_forward_call()
    {
        using var scope = NewDisposeScope();
        using var lstm = new WeightDropLstm(In, Hidden, weightDropout: 0.5);
        lstm.train();
        var x = randn(Batch, Steps, In);
        using var _ = no_grad();
        var (first, _) = lstm.Forward(x);
        var (second, _) = lstm.Forward(x);
        Assert.True(LstmReference.MaxAbsDifference(first, second) > 1e-4f);
    }

    [Fact]
    public void Two_forward_passes_with_different_masks_can_be_back_propagated_together()
    {
        // A classifier runs several BPTT chunks before one backward; each chunk keeps its own mask.
        using var scope = NewDisposeScope();
        using var lstm = new WeightDropLstm(In, Hidden, weightDropout: 0.5);
        lstm.train();
        Tensor m1 = KeepMask(0.5), m2 = KeepMask(0.5);
        var x1 = randn(Batch, Steps, In).requires_grad_(true);
        var x2 = randn(Batch, Steps, In).requires_grad_(true);
        var zero = zeros(1, Batch, Hidden);
        Tensor[] targets = [x1, x2, lstm.RawHiddenWeight, lstm.InputWeight, lstm.InputBias, lstm.HiddenBias];

        var (y1, s1) = lstm.Forward(x1, new LstmState(zero, zero), m1);
        var (y2, _) = lstm.Forward(x2, s1, m2); // the second chunk starts from the first one's state, in-graph
        (y1.sum() + (y2 * 2).sum()).backward();
        var fast = TakeGrads(targets);
        Assert.Equal(2, lstm.WorkspaceCount);

        var (r1, rh, rc) = LstmReference.Run(x1, lstm.InputWeight, lstm.RawHiddenWeight * m1, lstm.InputBias, lstm.HiddenBias, zero[0], zero[0]);
        var (r2, _, _) = LstmReference.Run(x2, lstm.InputWeight, lstm.RawHiddenWeight * m2, lstm.InputBias, lstm.HiddenBias, rh, rc);
        (r1.sum() + (r2 * 2).sum()).backward();
        var reference = TakeGrads(targets);

        Assert.True(LstmReference.MaxAbsDifference(y2, r2) < Tolerance);
        for (int k = 0; k < targets.Length; k++)
            Assert.True(LstmReference.MaxAbsDifference(fast[k], reference[k]) < Tolerance, $"gradient {k} differs");

        // Once back-propagated, the workspaces are free again: a further step reuses them.
        var (y3, _) = lstm.Forward(x1, null, m1);
        y3.sum().backward();
        Assert.Equal(2, lstm.WorkspaceCount);
    }

    [Fact]
    public void A_frozen_layer_passes_the_gradient_to_its_input_and_computes_none_for_its_weights()
    {
        // LM fine-tuning with frozen LSTMs still trains the embedding through them.
        using var scope = NewDisposeScope();
        using var lstm = new WeightDropLstm(In, Hidden, weightDropout: 0.5);
        lstm.train();
        foreach (var p in lstm.Weights) p.requires_grad_(false);
        var mask = KeepMask(0.5);
        var x = randn(Batch, Steps, In).requires_grad_(true);
        var (y, _) = lstm.Forward(x, null, mask);
        y.sum().backward();
        var fast = x.grad!.clone();
        Assert.All(lstm.Weights, p => Assert.Null(p.grad));

        x.grad!.zero_();
        var zero = zeros(Batch, Hidden);
        LstmReference.Run(x, lstm.InputWeight, lstm.RawHiddenWeight * mask, lstm.InputBias, lstm.HiddenBias, zero, zero).Output.sum().backward();
        Assert.True(LstmReference.MaxAbsDifference(fast, x.grad!) < Tolerance);
    }

    [Fact]
    public void Without_gradients_the_layer_runs_without_a_graph()
    {
        using var scope = NewDisposeScope();
        using var lstm = new WeightDropLstm(In, Hidden, weightDropout: 0.3);
        var x = randn(Batch, Steps, In);
        using var _ = no_grad();
        var (y, state) = lstm.Forward(x);
        Assert.False(y.requires_grad);
        Assert.Equal([1L, Batch, Hidden], state.Hidden.shape);
        Assert.Equal([Batch, Steps, Hidden], y.shape);
    }

    [Fact]
    public void Backward_after_the_forward_dispose_scope_ended_fails_catchably_with_the_reason_recorded()
    {
        using var lstm = new WeightDropLstm(In, Hidden, weightDropout: 0.5);
        lstm.train();
        Tensor loss;
        using (NewDisposeScope())
        {
            var (y, _) = lstm.Forward(randn(Batch, Steps, In));
            loss = y.sum().MoveToOuterDisposeScope();
        }
        using (loss)
        {
            Assert.ThrowsAny<Exception>(() => loss.backward());
        }
        Assert.IsType<InvalidOperationException>(WeightDropLstm.LastBackwardFailure);
        Assert.Contains("dispose scope", WeightDropLstm.LastBackwardFailure!.Message);
    }

    [Fact]
    public void Parameters_keep_pytorch_names_and_shapes()
    {
        using var lstm = new WeightDropLstm(In, Hidden, weightDropout: 0.2);
        var shapes = lstm.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0_raw", "bias_ih_l0", "bias_hh_l0"], shapes.Keys);
        Assert.Equal([4 * Hidden, In], shapes["weight_ih_l0"]);
        Assert.Equal([4 * Hidden, Hidden], shapes["weight_hh_l0_raw"]);
        Assert.Equal([4 * Hidden], shapes["bias_ih_l0"]);
        Assert.Equal([4 * Hidden], shapes["bias_hh_l0"]);
        double bound = 1 / Math.Sqrt(Hidden);
        foreach (Parameter p in lstm.Weights)
            Assert.True(p.abs().max().item<float>() <= bound + 1e-7, "PyTorch initialisation is uniform in ±1/sqrt(hidden)");
    }

    [Fact]
    public void Wrong_input_width_is_rejected_with_the_expected_shape()
    {
        using var lstm = new WeightDropLstm(In, Hidden, weightDropout: 0.2);
        using var x = randn(Batch, Steps, In + 1);
        var e = Assert.Throws<ArgumentException>(() => lstm.Forward(x));
        Assert.Contains($"(batch, seq > 0, {In})", e.Message);
    }
}
