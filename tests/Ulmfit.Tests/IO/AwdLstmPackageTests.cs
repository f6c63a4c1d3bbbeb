using System.Text.Json;
using TorchSharp;
using Ulmfit.Data;
using Ulmfit.IO;
using Ulmfit.Modeling;
using Ulmfit.Tests.Data;
using Ulmfit.Text;
using static TorchSharp.torch;

namespace Ulmfit.Tests.IO;

/// <summary>Packages with the real <see cref="AwdLstmLanguageModel"/>.</summary>
public sealed class AwdLstmPackageTests : IDisposable
{
    readonly TempDirectory _temp = new();

    public AwdLstmPackageTests() => Ulmfit.Engine.TorchRuntime.Initialise(2);

    public void Dispose() => _temp.Dispose();

    static AwdLstmConfig TinyConfig => new(16) { EmbeddingSize = 6, HiddenSize = 10, Layers = 3, Dropouts = AwdLstmDropouts.LanguageModel, DropMult = 0.5 };

    static Vocabulary TinyVocabulary() => Vocabulary.FromTokens(SpecialTokens.All.Concat(Enumerable.Range(0, 7).Select(i => $"w{i}")));

    [Fact]
    public void The_documented_weight_names_are_exactly_the_models_state_dict()
    {
        using var model = new AwdLstmLanguageModel(TinyConfig);
        var actual = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var expected = AwdLstmWeightNames.ExpectedShapes(ModelKind.LanguageModel, ArchitectureSpec.From(TinyConfig));
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach ((string key, long[] shape) in expected) Assert.Equal(shape, actual[key]);
    }

    [Fact]
    public void The_architecture_spec_and_the_engine_config_convert_both_ways()
    {
        ArchitectureSpec spec = ArchitectureSpec.From(TinyConfig, backwards: true);
        Assert.True(spec.Backwards);
        Assert.Equal(TinyConfig, spec.ToConfig());
        Assert.Equal(AwdLstmDropouts.Classifier, spec.ToConfig(AwdLstmDropouts.Classifier).Dropouts);
    }

    static Tensor Batch() => tensor(new long[] { 2, 9, 10, 11, 3, 12, 13, 14, 15, 9, 2, 15, 14, 13, 12, 11, 10, 9 }, [2, 9]);

    static Tensor Predict(AwdLstmLanguageModel model, Tensor tokens)
    {
        model.eval();
        model.ResetState();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return model.Forward(tokens).Logits.MoveToOuterDisposeScope();
    }

    [Fact]
    public void A_trained_awd_lstm_saved_and_loaded_predicts_identically()
    {
        using var model = new AwdLstmLanguageModel(TinyConfig);
        using var optimizer = optim.Adam(model.parameters(), 0.01);
        using var tokens = Batch();
        model.train();
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor logits = model.Forward(tokens).Logits;                   // (batch, seq, vocab)
            Tensor loss = nn.functional.cross_entropy(logits.reshape(-1, 16), tokens.roll(-1, 1).reshape(-1));
            loss.backward();
            optimizer.step();
        }
        string folder = _temp.PathOf("lm");
        var manifest = new ModelManifest
        {
            Kind = ModelKind.LanguageModel,
            Architecture = ArchitectureSpec.From(model.Config),
            Tokenizer = TokenizerSpec.From(UlmfitTokenizer.Default),
        };
        ModelPackage.Save(folder, manifest, TinyVocabulary(), model.state_dict());

        using var package = ModelPackage.Load(folder);
        using var restored = new AwdLstmLanguageModel(package.Manifest.Architecture.ToConfig());
        ModuleWeights.CopyInto(restored, package.Weights, folder);
        using var expected = Predict(model, tokens);
        using var actual = Predict(restored, tokens);
        Assert.True(TestTensors.Identical(expected, actual));
        // Still tied after loading: the decoder reads the embedding it was copied into.
        Assert.Same(restored.Encoder.Embedding.Weight, restored.Decoder.Weight);
    }

    // fastai's forward pass in plain PyTorch: embedding, then the LSTMs with the raw hidden-to-hidden weights (no
    // dropout at inference), then the tied decoder. Prints the logits of the tokens given.
    const string FastaiReference = """
import json, sys, torch
sd = torch.load(sys.argv[1])
sd = sd.get("model", sd)
tokens = torch.tensor(json.loads(sys.argv[2]))
x = torch.nn.functional.embedding(tokens, sd["0.encoder.weight"])
l = 0
while f"0.rnns.{l}.weight_hh_l0_raw" in sd:
    w_hh = sd[f"0.rnns.{l}.weight_hh_l0_raw"]
    lstm = torch.nn.LSTM(x.shape[-1], w_hh.shape[1], batch_first=True)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(sd[f"0.rnns.{l}.module.weight_ih_l0"]); lstm.weight_hh_l0.copy_(w_hh)
        lstm.bias_ih_l0.copy_(sd[f"0.rnns.{l}.module.bias_ih_l0"]); lstm.bias_hh_l0.copy_(sd[f"0.rnns.{l}.module.bias_hh_l0"])
        x, _ = lstm(x)
    l += 1
logits = x @ sd["1.decoder.weight"].t() + sd["1.decoder.bias"]
print(json.dumps(logits.flatten().tolist()))
""";

    [SkippableFact]
    public void An_imported_fastai_model_predicts_what_pytorch_computes_from_the_same_file()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        Skip.If(!PythonTorch.Available, PythonTorch.SkipReason);
        string weights = FastaiFixtures.PathOf("lm_wrapped_zip.pth");
        using var imported = FastaiImporter.Import(weights, FastaiFixtures.PathOf("itos.pkl"));
        using var model = new AwdLstmLanguageModel(imported.Architecture.ToConfig());
        ModuleWeights.CopyInto(model, imported.StateDict, weights);

        long[][] rows = [[2, 9, 10, 11, 12, 23, 0], [2, 17, 18, 19, 20, 21, 22]];
        using var tokens = tensor(rows.SelectMany(r => r).ToArray(), [2, 7]);
        using var logits = Predict(model, tokens);
        string reference = PythonTorch.RunChecked(FastaiReference, weights, JsonSerializer.Serialize(rows));
        double[] expected = JsonSerializer.Deserialize<double[]>(reference)!;
        float[] actual = TestTensors.Values(logits);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++) Assert.Equal(expected[i], actual[i], 4);
    }
}
