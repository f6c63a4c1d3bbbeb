using TorchSharp;
using TorchSharp.Modules;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

public class AwdLstmLanguageModelTests
{
    public AwdLstmLanguageModelTests() => TorchRuntime.Initialise(2);

    static List<Parameter> DistinctParameters(nn.Module module)
    {
        var distinct = new List<Parameter>();
        foreach (var (_, p) in module.named_parameters())
            if (!distinct.Any(d => ReferenceEquals(d, p))) distinct.Add(p);
        return distinct;
    }

    [Fact]
    public void Forward_scores_every_position_and_returns_the_last_layer_before_and_after_output_dropout()
    {
        using var scope = NewDisposeScope();
        using var model = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny(AwdLstmDropouts.None with { Output = 0.5 }));
        model.train();
        var output = model.Forward(randint(0, 50, [2, 7], dtype: ScalarType.Int64));
        Assert.Equal([2L, 7, 50], output.Logits.shape);
        Assert.Equal([2L, 7, 8], output.LastLayerRaw.shape);
        var kept = output.LastLayerDropped.ne(0);
        Assert.True(output.LastLayerDropped.eq(0).any().item<bool>());
        Assert.True(LstmReference.MaxAbsDifference(output.LastLayerDropped[kept], output.LastLayerRaw[kept] * 2) < 1e-6f);
    }

    [Fact]
    public void The_decoder_weight_is_the_embedding_parameter_itself()
    {
        using var scope = NewDisposeScope();
        using var model = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny());
        Assert.True(model.Encoder.Embedding.Weight.abs().max().item<float>() <= 0.1f, "fastai initialises uniform in ±0.1");
        Assert.Equal(0f, model.Decoder.Bias.abs().sum().item<float>());
        Assert.Same(model.Encoder.Embedding.Weight, model.Decoder.Weight);
        using (no_grad()) model.Encoder.Embedding.Weight[5].fill_(0.25f);
        Assert.Equal(0.25f, model.Decoder.Weight[5, 3].item<float>());
    }

    [Fact]
    public void Layer_groups_follow_fastai_and_cover_every_parameter_exactly_once()
    {
        using var model = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny());
        Assert.Equal(["lstm0", "lstm1", "lstm2", "embedding+decoder"], model.LayerGroups.Select(g => g.Name));
        var grouped = model.LayerGroups.SelectMany(g => g.Parameters).ToList();
        var all = DistinctParameters(model);
        Assert.Equal(all.Count, grouped.Count);
        foreach (var p in all) Assert.Single(grouped, g => ReferenceEquals(g, p));
        Assert.Contains(model.LayerGroups[^1].Parameters, p => ReferenceEquals(p, model.Decoder.Bias));
    }

    [Fact]
    public void State_dict_keys_are_the_documented_stable_names()
    {
        using var model = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny());
        var expected = new List<string> { AwdLstmLanguageModel.EmbeddingKey };
        for (int l = 0; l < 3; l++)
            expected.AddRange(new[] { "weight_ih_l0", "weight_hh_l0_raw", "bias_ih_l0", "bias_hh_l0" }.Select(n => $"encoder.rnns.{l}.{n}"));
        expected.Add(AwdLstmLanguageModel.DecoderBiasKey);
        Assert.Equal(expected.Order(), model.state_dict().Keys.Order());
    }

    [Fact]
    public void Saved_weights_load_into_a_fresh_model_that_then_predicts_the_same()
    {
        using var scope = NewDisposeScope();
        using var original = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny());
        using var restored = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny());
        var saved = new MemoryStream();
        original.save(saved);                               // closes the stream; its bytes stay readable
        using var reader = new MemoryStream(saved.ToArray());
        restored.load(reader);
        original.eval();
        restored.eval();
        var tokens = randint(0, 50, [2, 4], dtype: ScalarType.Int64);
        Assert.Equal(0f, LstmReference.MaxAbsDifference(original.Forward(tokens).Logits, restored.Forward(tokens).Logits));
        Assert.Same(restored.Encoder.Embedding.Weight, restored.Decoder.Weight);
    }

    [Fact]
    public void Full_size_parameter_count_matches_the_formula()
    {
        var config = AwdLstmConfig.ForLanguageModel(60000);
        using var model = new AwdLstmLanguageModel(config);
        long expected = (long)config.VocabSize * config.EmbeddingSize + config.VocabSize; // tied matrix once, decoder bias
        for (int l = 0; l < config.Layers; l++)
        {
            long h = config.LayerOutputSize(l), i = config.LayerInputSize(l);
            expected += 4 * h * i + 4 * h * h + 2 * 4 * h; // W_ih, W_hh, b_ih, b_hh
        }
        Assert.Equal(expected, DistinctParameters(model).Sum(p => p.numel()));
        Assert.Equal(expected, model.LayerGroups.SelectMany(g => g.Parameters).Sum(p => p.numel()));
    }

    [Fact]
    public void Eval_output_is_deterministic_and_equals_the_forward_without_dropout()
    {
        using var scope = NewDisposeScope();
        using var withDropout = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny(AwdLstmDropouts.LanguageModel with { Weight = 0.5 }));
        using var withoutDropout = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny(AwdLstmDropouts.None));
        withoutDropout.load_state_dict(withDropout.state_dict());
        var tokens = randint(0, 50, [3, 6], dtype: ScalarType.Int64);

        withDropout.train();
        var training = withDropout.Forward(tokens).Logits;
        withDropout.eval();
        withDropout.ResetState();
        var first = withDropout.Forward(tokens).Logits;
        withDropout.ResetState();
        var second = withDropout.Forward(tokens).Logits;
        withoutDropout.train();
        var plain = withoutDropout.Forward(tokens).Logits;

        Assert.Equal(0f, LstmReference.MaxAbsDifference(first, second));
        Assert.True(LstmReference.MaxAbsDifference(first, plain) < 1e-6f);
        Assert.True(LstmReference.MaxAbsDifference(first, training) > 1e-4f, "dropout must be active in training");
    }

    [Fact]
    public void Moving_the_model_to_double_precision_keeps_it_tied_and_trainable()
    {
        using var model = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny());
        model.to(ScalarType.Float64);
        Assert.Same(model.Encoder.Embedding.Weight, model.Decoder.Weight);
        Assert.Equal(ScalarType.Float64, ((AwdLstmEncoder)model.Encoder).Layers[2].RawHiddenWeight.dtype);
        Assert.Contains(model.LayerGroups[0].Parameters, p => ReferenceEquals(p, ((AwdLstmEncoder)model.Encoder).Layers[0].RawHiddenWeight));
        using var scope = NewDisposeScope();
        var output = model.Forward(randint(0, 50, [2, 3], dtype: ScalarType.Int64));
        Assert.Equal(ScalarType.Float64, output.Logits.dtype);
        output.Logits.sum().backward();
        Assert.NotNull(((AwdLstmEncoder)model.Encoder).Layers[0].RawHiddenWeight.grad);
    }

    [Fact]
    public void Throughput_measurement_reports_positive_speed()
    {
        using var model = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny());
        var result = LanguageModelThroughput.Measure(model, batchSize: 2, bptt: 5, warmupSteps: 1, timedSteps: 2);
        Assert.True(result.TokensPerSecond > 0);
        Assert.Equal(2, result.TimedSteps);
        Assert.Null(model.Encoder.StateBatchSize);
    }
}
