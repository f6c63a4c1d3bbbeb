using TorchSharp;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

public class QrnnEncoderTests
{
    const float Tolerance = 1e-5f;

    public QrnnEncoderTests() => TorchRuntime.Initialise(2);

    internal static AwdLstmConfig Tiny(AwdLstmDropouts? dropouts = null) =>
        new(VocabSize: 50) { Architecture = EncoderArchitecture.Qrnn, EmbeddingSize = 8, HiddenSize = 12, Layers = 3, Dropouts = dropouts ?? AwdLstmDropouts.LanguageModel };

    static Tensor Tokens(long batch, long seq) => randint(0, 50, [batch, seq], dtype: ScalarType.Int64);

    [Fact]
    public void A_layer_equals_the_step_by_step_reference_from_a_given_state_and_its_gradients_do_too()
    {
        using var scope = NewDisposeScope();
        using var layer = new QrnnLayer(5, 4, weightDropout: 0.3);
        layer.to(ScalarType.Float64);
        layer.eval(); // no DropConnect: the reference uses the raw weight
        var x = randn(2, 6, 5, dtype: ScalarType.Float64).requires_grad_(true);
        var lastInput = randn(2, 1, 5, dtype: ScalarType.Float64);
        var cell = randn(2, 4, dtype: ScalarType.Float64).requires_grad_(true);

        var (fast, state) = layer.Forward(x, new QrnnState(lastInput, cell));
        var reference = QrnnReference.Layer(x, layer.RawGateWeight, layer.GateBias, lastInput, cell);
        Assert.True(LstmReference.MaxAbsDifference(fast.to(ScalarType.Float32), reference.to(ScalarType.Float32)) < 1e-6f);
        Assert.Equal([2L, 1, 5], state.LastInput.shape);
        Assert.Equal([2L, 4], state.Cell.shape);

        var upstream = randn(2, 6, 4, dtype: ScalarType.Float64);
        Tensor[] wrt = [x, cell, layer.RawGateWeight, layer.GateBias];
        var fastGrads = autograd.grad([fast], wrt, [upstream]);
        var referenceGrads = autograd.grad([reference], wrt, [upstream]);
        for (int i = 0; i < wrt.Length; i++)
        {
            using var d = (fastGrads[i] - referenceGrads[i]).abs().max();
            Assert.True(d.item<double>() < 1e-10, $"gradient {i} differs by {d.item<double>()}");
        }
    }

    [Fact]
    public void Outputs_have_one_entry_per_layer_with_that_layers_width()
    {
        using var scope = NewDisposeScope();
        using var encoder = new QrnnEncoder(Tiny());
        var output = encoder.Forward(Tokens(2, 5));
        Assert.Equal([[2L, 5, 12], [2L, 5, 12], [2L, 5, 8]], output.RawOutputs.Select(t => t.shape));
        Assert.Equal([[2L, 5, 12], [2L, 5, 12], [2L, 5, 8]], output.DroppedOutputs.Select(t => t.shape));
        var lastOnly = encoder.Forward(Tokens(2, 5), allLayers: false);
        Assert.Equal([2L, 5, 8], Assert.Single(lastOnly.RawOutputs).shape);
        Assert.Equal(2, encoder.StateBatchSize);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(1)]
    public void Two_calls_on_consecutive_halves_equal_one_call_on_the_whole_sequence(int firstLength)
    {
        using var scope = NewDisposeScope();
        using var encoder = new QrnnEncoder(Tiny());
        encoder.eval();
        var tokens = Tokens(3, 10);
        var whole = encoder.Forward(tokens);
        encoder.ResetState();
        var first = encoder.Forward(tokens.narrow(1, 0, firstLength));
        var second = encoder.Forward(tokens.narrow(1, firstLength, 10 - firstLength));
        for (int l = 0; l < 3; l++)
        {
            var joined = cat([first.RawOutputs[l], second.RawOutputs[l]], 1);
            Assert.True(LstmReference.MaxAbsDifference(joined, whole.RawOutputs[l]) < Tolerance, $"layer {l}");
        }
    }

    [Fact]
    public void A_captured_state_restored_continues_exactly_and_a_reset_forgets_it()
    {
        using var scope = NewDisposeScope();
        using var encoder = new QrnnEncoder(Tiny());
        encoder.eval();
        var tokens = Tokens(2, 8);
        encoder.Forward(tokens.narrow(1, 0, 4));
        var captured = encoder.CaptureState()!;
        Assert.Equal(6, captured.Count);
        Assert.Equal([2L, 1, 8], captured[0].shape);   // layer 0's last input step (emb wide)
        Assert.Equal([2L, 12], captured[1].shape);     // layer 0's cell
        var continued = encoder.Forward(tokens.narrow(1, 4, 4)).LastRaw;

        encoder.RestoreState(captured);
        var again = encoder.Forward(tokens.narrow(1, 4, 4)).LastRaw;
        Assert.Equal(0f, LstmReference.MaxAbsDifference(continued, again));

        encoder.ResetState();
        Assert.Null(encoder.StateBatchSize);
        var fresh = encoder.Forward(tokens.narrow(1, 4, 4)).LastRaw;
        Assert.True(LstmReference.MaxAbsDifference(continued, fresh) > 1e-4f);
    }

    [Fact]
    public void A_state_of_the_wrong_shape_is_refused()
    {
        using var scope = NewDisposeScope();
        using var encoder = new QrnnEncoder(Tiny());
        var bad = Enumerable.Range(0, 6).Select(_ => zeros(2, 3)).ToArray();
        Assert.Throws<ArgumentException>(() => encoder.RestoreState(bad));
        Assert.Throws<ArgumentException>(() => encoder.RestoreState([zeros(2, 1, 8)]));
    }

    [Fact]
    public void The_carried_state_is_cut_from_the_graph_between_calls()
    {
        using var scope = NewDisposeScope();
        using var encoder = new QrnnEncoder(Tiny(AwdLstmDropouts.None));
        encoder.train();
        encoder.Forward(Tokens(2, 4));
        var second = encoder.Forward(Tokens(2, 4)).LastRaw;
        second.sum().backward();
        // Gradients reach the weights through the second call only; the first call's graph is gone, so backward
        // through it (which would fail: the forget-mult node of the first call was never kept) did not happen.
        Assert.NotNull(encoder.Layers[0].RawGateWeight.grad);
    }

    [Fact]
    public void Gate_weight_dropout_makes_training_calls_random_and_eval_calls_deterministic()
    {
        using var scope = NewDisposeScope();
        using var encoder = new QrnnEncoder(Tiny(AwdLstmDropouts.None with { Weight = 0.5 }));
        var tokens = Tokens(2, 6);
        Tensor Run()
        {
            encoder.ResetState();
            return encoder.Forward(tokens).LastRaw;
        }
        encoder.train();
        Assert.True(LstmReference.MaxAbsDifference(Run(), Run()) > 1e-4f);
        encoder.eval();
        Assert.Equal(0f, LstmReference.MaxAbsDifference(Run(), Run()));
    }

    [Fact]
    public void The_multifit_preset_is_four_qrnn_layers_of_1552_over_400_dim_embeddings()
    {
        var config = AwdLstmConfig.ForMultiFit(60000);
        Assert.Equal(EncoderArchitecture.Qrnn, config.Architecture);
        Assert.Equal((400, 1552, 4), (config.EmbeddingSize, config.HiddenSize, config.Layers));
        Assert.Equal(400, config.LayerOutputSize(3));
        Assert.Equal(AwdLstmDropouts.LanguageModel, config.Dropouts);
    }
}
