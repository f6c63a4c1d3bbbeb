using Ulmfit.Benchmarking;
using Ulmfit.Modeling;

namespace Ulmfit.Tests.Engine;

public class ModelFlopsTests
{
    [Fact]
    public void A_full_size_awd_lstm_costs_what_the_brief_says_per_token()
    {
        // 400/1152/3: layer MACs 4·1152·(400+1152) + 4·1152·(1152+1152) + 4·400·(1152+400) = 20.25 M; the 60k decoder
        // 24 M more. The brief quotes "about 40 MFLOP per token" for the encoder forward.
        var config = new AwdLstmConfig(60_000);
        Assert.Equal(2 * 20_251_648.0, ModelFlops.EncoderForwardPerToken(config));
        Assert.Equal(3 * (2 * 20_251_648.0 + 2 * 400.0 * 60_000), ModelFlops.LanguageModelTrainingPerToken(config));
    }

    [Fact]
    public void A_qrnn_layer_counts_its_three_gates_over_a_two_step_window()
    {
        var config = new AwdLstmConfig(1_000) { Architecture = EncoderArchitecture.Qrnn, EmbeddingSize = 8, HiddenSize = 16, Layers = 2 };
        // layer 0: 8 → 16, layer 1: 16 → 8 (the last layer returns to the embedding size)
        Assert.Equal(2.0 * (3 * 16 * 2 * 8 + 3 * 8 * 2 * 16), ModelFlops.EncoderForwardPerToken(config));
    }

    [Fact]
    public void Classifier_training_costs_three_forwards()
    {
        var config = new AwdLstmConfig(1_000) { EmbeddingSize = 8, HiddenSize = 16, Layers = 2 };
        double forward = ModelFlops.ClassifierPerDocument(config, tokens: 10, classes: 3, training: false);
        Assert.Equal(10 * ModelFlops.EncoderForwardPerToken(config) + 2.0 * (3 * 8 * 50 + 50 * 3), forward);
        Assert.Equal(3 * forward, ModelFlops.ClassifierPerDocument(config, tokens: 10, classes: 3, training: true));
    }
}
