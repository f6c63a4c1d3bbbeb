using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

public class AwdLstmEncoderTests
{
    const float Tolerance = 1e-5f;

    public AwdLstmEncoderTests() => TorchRuntime.Initialise(2);

    internal static AwdLstmConfig Tiny(AwdLstmDropouts? dropouts = null) =>
        new(VocabSize: 50) { EmbeddingSize = 8, HiddenSize = 12, Layers = 3, Dropouts = dropouts ?? AwdLstmDropouts.LanguageModel };

    static Tensor Tokens(long batch, long seq, long low = 0, long high = 50) =>
        randint(low, high, [batch, seq], dtype: ScalarType.Int64);

    [Fact]
    public void Outputs_have_one_entry_per_layer_with_that_layers_width()
    {
        using var scope = NewDisposeScope();
        using var encoder = new AwdLstmEncoder(Tiny());
        var output = encoder.Forward(Tokens(2, 5));
        Assert.Equal([[2L, 5, 12], [2L, 5, 12], [2L, 5, 8]], output.RawOutputs.Select(t => t.shape));
        Assert.Equal([[2L, 5, 12], [2L, 5, 12], [2L, 5, 8]], output.DroppedOutputs.Select(t => t.shape));
        var lastOnly = encoder.Forward(Tokens(2, 5), allLayers: false);
        Assert.Equal([2L, 5, 8], Assert.Single(lastOnly.RawOutputs).shape);
        Assert.Single(lastOnly.DroppedOutputs);
    }

    [Fact]
    public void Two_calls_on_consecutive_halves_equal_one_call_on_the_whole_sequence()
    {
        using var scope = NewDisposeScope();
        using var encoder = new AwdLstmEncoder(Tiny());
        encoder.eval();
        var tokens = Tokens(3, 10);
        var whole = encoder.Forward(tokens);
        encoder.ResetState();
        var first = encoder.Forward(tokens.narrow(1, 0, 6));
        var second = encoder.Forward(tokens.narrow(1, 6, 4));
        for (int l = 0; l < 3; l++)
        {
            var joined = cat([first.RawOutputs[l], second.RawOutputs[l]], 1);
            Assert.True(LstmReference.MaxAbsDifference(joined, whole.RawOutputs[l]) < Tolerance, $"layer {l}");
        }
    }

    [Fact]
    public void The_carried_state_is_cut_from_the_graph_between_calls()
    {
        using var scope = NewDisposeScope();
        using var encoder = new AwdLstmEncoder(Tiny(AwdLstmDropouts.None));
        encoder.train();
        var early = Tokens(2, 4, low: 10, high: 20);   // words only in the first call
        var late = Tokens(2, 4, low: 30, high: 40);    // words only in the second call
        var weight = encoder.Embedding.Weight;

        encoder.Forward(early);
        encoder.Forward(late).LastRaw.sum().backward();
        var grad = weight.grad!;
        Assert.Equal(0f, grad.narrow(0, 10, 10).abs().sum().item<float>());
        Assert.True(grad.narrow(0, 30, 10).abs().sum().item<float>() > 0);

        // Control: within one call the late outputs do depend on the early words, so a leak would have shown.
        weight.grad!.zero_();
        encoder.ResetState();
        encoder.Forward(cat([early, late], 1)).LastRaw.narrow(1, 4, 4).sum().backward();
        Assert.True(weight.grad!.narrow(0, 10, 10).abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Reset_makes_the_next_call_start_from_zeros()
    {
        using var scope = NewDisposeScope();
        using var encoder = new AwdLstmEncoder(Tiny());
        encoder.eval();
        var tokens = Tokens(2, 5);
        var fresh = encoder.Forward(tokens).LastRaw;
        var carried = encoder.Forward(tokens).LastRaw;
        Assert.True(LstmReference.MaxAbsDifference(fresh, carried) > 1e-4f, "the state must carry over without a reset");
        encoder.ResetState();
        Assert.Null(encoder.StateBatchSize);
        Assert.Equal(0f, LstmReference.MaxAbsDifference(fresh, encoder.Forward(tokens).LastRaw));
    }

    [Fact]
    public void A_new_batch_size_resets_the_state()
    {
        using var scope = NewDisposeScope();
        using var encoder = new AwdLstmEncoder(Tiny());
        encoder.eval();
        var three = Tokens(3, 5);
        var fresh = encoder.Forward(three).LastRaw;
        encoder.Forward(Tokens(2, 5));
        Assert.Equal(2, encoder.StateBatchSize);
        Assert.Equal(0f, LstmReference.MaxAbsDifference(fresh, encoder.Forward(three).LastRaw));
        Assert.Equal(3, encoder.StateBatchSize);
    }

    [Fact]
    public void Hidden_dropout_acts_between_layers_and_not_after_the_last()
    {
        using var scope = NewDisposeScope();
        using var encoder = new AwdLstmEncoder(Tiny(AwdLstmDropouts.None with { Hidden = 0.5 }));
        encoder.train();
        var output = encoder.Forward(Tokens(4, 6));
        for (int l = 0; l < 2; l++)
        {
            var raw = output.RawOutputs[l];
            var dropped = output.DroppedOutputs[l];
            var kept = dropped.ne(0);
            Assert.True(dropped.eq(0).any().item<bool>(), $"layer {l} output must be dropped in places");
            Assert.True(LstmReference.MaxAbsDifference(dropped[kept], raw[kept] * 2) < Tolerance);
        }
        Assert.Same(output.RawOutputs[2], output.DroppedOutputs[2]);
    }

    [Fact]
    public void Tokens_outside_the_vocabulary_are_rejected_with_the_range()
    {
        using var encoder = new AwdLstmEncoder(Tiny());
        using var bad = tensor(new long[] { 3, 50 }).reshape(1, 2);
        var e = Assert.Throws<ArgumentException>(() => encoder.Forward(bad));
        Assert.Contains("[0, 50)", e.Message);
        using var floats = zeros(1, 2);
        Assert.Throws<ArgumentException>(() => encoder.Forward(floats));
    }
}
