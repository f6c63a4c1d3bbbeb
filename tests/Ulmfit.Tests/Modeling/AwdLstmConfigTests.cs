using Ulmfit.Modeling;

namespace Ulmfit.Tests.Modeling;

public class AwdLstmConfigTests
{
    [Fact]
    public void Defaults_are_ulmfits_architecture()
    {
        var config = new AwdLstmConfig(60000);
        Assert.Equal(400, config.EmbeddingSize);
        Assert.Equal(1152, config.HiddenSize);
        Assert.Equal(3, config.Layers);
        Assert.Equal(1, config.PadId);
        Assert.Equal(AwdLstmDropouts.LanguageModel, config.Dropouts);
        Assert.Equal([400, 1152, 1152], Enumerable.Range(0, 3).Select(config.LayerInputSize));
        Assert.Equal([1152, 1152, 400], Enumerable.Range(0, 3).Select(config.LayerOutputSize));
    }

    [Fact]
    public void Presets_carry_fastais_dropouts()
    {
        Assert.Equal(new AwdLstmDropouts(Embedding: 0.02, Input: 0.25, Hidden: 0.15, Weight: 0.2, Output: 0.1), AwdLstmDropouts.LanguageModel);
        Assert.Equal(new AwdLstmDropouts(Embedding: 0.05, Input: 0.4, Hidden: 0.3, Weight: 0.5, Output: 0.4), AwdLstmDropouts.Classifier);
        Assert.Equal(AwdLstmDropouts.Classifier, AwdLstmConfig.ForClassifier(10).Dropouts);
    }

    [Fact]
    public void Drop_mult_scales_every_dropout()
    {
        var p = AwdLstmConfig.ForClassifier(10, dropMult: 0.5).EffectiveDropouts;
        Assert.Equal(0.025, p.Embedding, 12);
        Assert.Equal(0.2, p.Input, 12);
        Assert.Equal(0.15, p.Hidden, 12);
        Assert.Equal(0.25, p.Weight, 12);
        Assert.Equal(0.2, p.Output, 12);
    }

    [Fact]
    public void A_drop_mult_that_pushes_a_probability_to_one_is_rejected_naming_it()
    {
        var config = AwdLstmConfig.ForClassifier(10, dropMult: 2.0); // weight 0.5 → 1.0
        var e = Assert.Throws<ArgumentException>(config.Validate);
        Assert.Contains("'Weight'", e.Message);
        Assert.Contains("[0, 1)", e.Message);
    }

    [Theory]
    [InlineData(0, 400, 1152, 3, 1, "VocabSize")]
    [InlineData(10, 0, 1152, 3, 1, "EmbeddingSize")]
    [InlineData(10, 400, -1, 3, 1, "HiddenSize")]
    [InlineData(10, 400, 1152, 0, 1, "Layers")]
    [InlineData(10, 400, 1152, 3, 10, "PadId")]
    public void Invalid_shapes_are_rejected_naming_the_setting(int vocab, int emb, int hidden, int layers, int pad, string named)
    {
        var config = new AwdLstmConfig(vocab) { EmbeddingSize = emb, HiddenSize = hidden, Layers = layers, PadId = pad };
        var e = Assert.Throws<ArgumentException>(config.Validate);
        Assert.StartsWith(named, e.Message);
    }
}
