using TorchSharp;
using Ulmfit.Classification;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

/// <summary>bf16 compute on float32 master weights: where the casts happen and what stays float32.</summary>
public class ComputePrecisionTests
{
    public ComputePrecisionTests() => TorchRuntime.Initialise(2);

    static readonly string[] Classes = ["a", "b", "c"];

    static AwdLstmLanguageModel Model(long seed)
    {
        torch.manual_seed(seed);
        // A wider model than AwdLstmEncoderTests.Tiny so the products have realistic rounding (sums over 32+ terms).
        return new AwdLstmLanguageModel(new AwdLstmConfig(VocabSize: 60) { EmbeddingSize = 32, HiddenSize = 48, Layers = 3 });
    }

    static TextClassifier Classifier(long seed)
    {
        torch.manual_seed(seed);
        var encoder = new AwdLstmConfig(VocabSize: 60) { EmbeddingSize = 32, HiddenSize = 48, Layers = 2, Dropouts = AwdLstmDropouts.Classifier };
        return new TextClassifier(new TextClassifierConfig(encoder, Classes) { Bptt = 6, MaxLength = 20, HeadHiddenSize = 10 });
    }

    [Fact]
    public void Setting_the_precision_reaches_every_layer_of_the_language_model_and_the_classifier()
    {
        using var model = Model(1);
        Assert.Equal(ComputePrecision.Fp32, model.GetComputePrecision());
        model.SetComputePrecision(ComputePrecision.BFloat16);
        Assert.Equal(ComputePrecision.BFloat16, model.Encoder.Embedding.Precision);
        Assert.All(((AwdLstmEncoder)model.Encoder).Layers, l => Assert.Equal(ComputePrecision.BFloat16, l.Precision));
        Assert.Equal(ComputePrecision.BFloat16, model.Decoder.Precision);
        Assert.Equal(ComputePrecision.BFloat16, model.GetComputePrecision());

        using var classifier = Classifier(1).SetComputePrecision(ComputePrecision.BFloat16);
        Assert.Equal(ComputePrecision.BFloat16, classifier.Encoder.Embedding.Precision);
        Assert.All(((AwdLstmEncoder)classifier.Encoder).Layers, l => Assert.Equal(ComputePrecision.BFloat16, l.Precision));
    }

    [Fact]
    public void A_bf16_forward_computes_in_bf16_but_returns_float32_logits_close_to_the_fp32_ones()
    {
        using var model = Model(2);
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = Bf16Checks.Tokens(3, 12, seed: 2);
        var reference = model.Forward(tokens).Logits;                           // (3, 12, 60)
        model.ResetState();
        var output = model.SetComputePrecision(ComputePrecision.BFloat16).Forward(tokens);

        Assert.Equal(ScalarType.BFloat16, output.LastLayerRaw.dtype);          // the LSTMs ran in bf16
        Assert.Equal(ScalarType.Float32, output.Logits.dtype);                 // the loss sees float32
        Bf16Checks.AssertCloseButNotIdentical(output.Logits, reference);
        var probabilities = softmax(output.Logits, -1);
        var referenceProbabilities = softmax(reference, -1);
        Assert.True((probabilities - referenceProbabilities).abs().max().item<float>() < 5e-3);
    }

    [Fact]
    public void Switching_back_to_fp32_gives_exactly_the_fp32_result()
    {
        using var model = Model(3);
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = Bf16Checks.Tokens(2, 7, seed: 3);
        var reference = model.Forward(tokens).Logits.clone();
        model.ResetState();
        model.SetComputePrecision(ComputePrecision.BFloat16).Forward(tokens);
        model.ResetState();
        var again = model.SetComputePrecision(ComputePrecision.Fp32).Forward(tokens).Logits;
        Assert.True(again.eq(reference).all().item<bool>());
    }

    [Fact]
    public void A_state_carried_from_a_bf16_call_continues_in_an_fp32_call()
    {
        using var model = Model(4);
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.SetComputePrecision(ComputePrecision.BFloat16).Forward(Bf16Checks.Tokens(2, 5, seed: 4));
        Assert.Equal(ScalarType.BFloat16, ((AwdLstmEncoder)model.Encoder).State![0].Hidden.dtype);
        var logits = model.SetComputePrecision(ComputePrecision.Fp32).Forward(Bf16Checks.Tokens(2, 5, seed: 5)).Logits;
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.Equal(ScalarType.Float32, ((AwdLstmEncoder)model.Encoder).State![0].Hidden.dtype);
    }

    [Fact]
    public void Bf16_training_steps_leave_weights_gradients_and_adam_state_in_float32()
    {
        using var model = Model(5).SetComputePrecision(ComputePrecision.BFloat16);
        model.train();
        using var optimizer = new LayerGroupOptimizer(model.LayerGroups, AdamWSettings.Ulmfit, groupFactor: 1);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        var loss = new LanguageModelLoss();
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.Apply(new ScheduleValues(1e-2, null));
            var stream = Bf16Checks.Tokens(4, 11, seed: 10 + step);
            var output = model.Forward(stream.narrow(1, 0, 10));
            var total = LanguageModelLoss.CrossEntropy(output.Logits, stream.narrow(1, 1, 10)) + loss.Regularisation(output);
            Assert.Equal(ScalarType.Float32, total.dtype);
            total.backward();
            Bf16Checks.AssertFloat32GradientsEverywhere(model.parameters());
            optimizer.Step();
            optimizer.ClearGradients();
        }
        var parameters = model.parameters().ToList();
        Assert.All(parameters, p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.All(parameters.Zip(before), pair => Assert.False(pair.First.eq(pair.Second).all().item<bool>(), "a weight did not move"));
        foreach (var p in parameters)
        {
            var moments = optimizer.MomentsOf(p);
            Assert.NotNull(moments);
            Assert.Equal(ScalarType.Float32, moments!.Value.ExpAvg.dtype);
            Assert.Equal(ScalarType.Float32, moments.Value.ExpAvgSq.dtype);
        }
        foreach (var t in before) t.Dispose();
    }

    [Fact]
    public void Weight_dropout_in_bf16_sends_no_gradient_to_dropped_hidden_weights()
    {
        torch.manual_seed(6);
        using var layer = new WeightDropLstm(8, 16, weightDropout: 0.5) { Precision = ComputePrecision.BFloat16 };
        layer.train();
        using var scope = NewDisposeScope();
        using var mask = (rand(64, 16) > 0.5).to(ScalarType.Float32) * 2;       // scaled keep-mask of the raw matrix
        var input = randn(2, 5, 8).requires_grad_(true);
        var (output, _) = layer.Forward(input, null, mask);
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        output.to(ScalarType.Float32).sum().backward();
        Assert.Equal(ScalarType.Float32, input.grad!.dtype);
        var grad = layer.RawHiddenWeight.grad!;
        Assert.Equal(ScalarType.Float32, grad.dtype);
        Assert.Equal(0f, grad.masked_select(mask.eq(0)).abs().sum().item<float>());
        Assert.True(grad.masked_select(mask.ne(0)).abs().sum().item<float>() > 0);
    }

    [Fact]
    public void A_bf16_classifier_gives_probabilities_close_to_the_fp32_ones()
    {
        using var classifier = Classifier(7);
        classifier.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = Bf16Checks.Tokens(4, 15, seed: 7);
        long[] lengths = [15, 9, 3, 12];
        var reference = classifier.Probabilities(classifier.Forward(tokens, lengths));
        var logits = classifier.SetComputePrecision(ComputePrecision.BFloat16).Forward(tokens, lengths);
        Assert.Equal(ScalarType.Float32, logits.dtype);
        var probabilities = classifier.Probabilities(logits);
        double maxDiff = (probabilities - reference).abs().max().item<float>();
        Assert.True(maxDiff > 0, "bf16 gave bit-identical probabilities: it did not run");
        Assert.True(maxDiff < 1e-2, $"bf16 probabilities differ by {maxDiff}");
    }

    [Fact]
    public void A_bf16_classifier_trains_with_float32_gradients()
    {
        using var classifier = Classifier(8).SetComputePrecision(ComputePrecision.BFloat16);
        classifier.train();
        using var scope = NewDisposeScope();
        var logits = classifier.Forward(Bf16Checks.Tokens(4, 15, seed: 8), [15, 15, 10, 4]);
        var loss = nn.functional.cross_entropy(logits, tensor(new long[] { 0, 1, 2, 1 }));
        loss.backward();
        Assert.All(classifier.parameters(), p => Assert.Equal(ScalarType.Float32, p.grad!.dtype));
        Assert.True(classifier.Encoder.Embedding.Weight.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Casting_for_fp32_returns_an_alias_whose_disposal_leaves_the_original_alive()
    {
        using var original = randn(3, 4);
        var alias = original.CastTo(ComputePrecision.Fp32);
        Assert.Equal(ScalarType.Float32, alias.dtype);
        alias.Dispose();
        Assert.Equal(12, original.numel());
        Assert.True(float.IsFinite(original.sum().item<float>()));
        using var cast = original.CastTo(ComputePrecision.BFloat16);
        Assert.Equal(ScalarType.BFloat16, cast.dtype);
    }
}
