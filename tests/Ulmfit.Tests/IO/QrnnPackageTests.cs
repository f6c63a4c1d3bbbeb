using System.Text.Json;
using System.Text.Json.Nodes;
using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.IO;
using Ulmfit.Modeling;
using Ulmfit.Pipeline;
using Ulmfit.Tests.Data;
using Ulmfit.Text;
using static TorchSharp.torch;

namespace Ulmfit.Tests.IO;

/// <summary>Packages holding MultiFiT's QRNN encoder (manifest <c>architecture.name</c> "qrnn").</summary>
[Collection(Training.TorchRandomCollection.Name)]
public sealed class QrnnPackageTests : IDisposable
{
    readonly TempDirectory _temp = new();

    public QrnnPackageTests() => Ulmfit.Engine.TorchRuntime.Initialise(2);

    public void Dispose() => _temp.Dispose();

    static AwdLstmConfig TinyConfig => new(16)
    {
        Architecture = EncoderArchitecture.Qrnn, EmbeddingSize = 6, HiddenSize = 10, Layers = 3, Dropouts = AwdLstmDropouts.LanguageModel, DropMult = 0.5,
    };

    static Vocabulary TinyVocabulary() => Vocabulary.FromTokens(SpecialTokens.All.Concat(Enumerable.Range(0, 7).Select(i => $"w{i}")));

    static Tensor Batch() => tensor(new long[] { 2, 9, 10, 11, 3, 12, 13, 14, 15, 9, 2, 15, 14, 13, 12, 11, 10, 9 }, [2, 9]);

    static AwdLstmLanguageModel TrainedModel()
    {
        manual_seed(5);
        var model = new AwdLstmLanguageModel(TinyConfig);
        using var optimizer = optim.Adam(model.parameters(), 0.01);
        using var tokens = Batch();
        model.train();
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var logits = model.Forward(tokens).Logits;                                   // (batch, seq, vocab)
            nn.functional.cross_entropy(logits.reshape(-1, 16), tokens.roll(-1, 1).reshape(-1)).backward();
            optimizer.step();
        }
        return model;
    }

    static Tensor Predict(AwdLstmLanguageModel model, Tensor tokens)
    {
        model.eval();
        model.ResetState();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return model.Forward(tokens).Logits.MoveToOuterDisposeScope();
    }

    [Fact]
    public void The_documented_qrnn_weight_names_are_exactly_the_models_state_dict()
    {
        using var model = new AwdLstmLanguageModel(TinyConfig);
        var actual = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var expected = AwdLstmWeightNames.ExpectedShapes(ModelKind.LanguageModel, ArchitectureSpec.From(TinyConfig));
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach ((string key, long[] shape) in expected) Assert.Equal(shape, actual[key]);
        Assert.Equal(TinyConfig, ArchitectureSpec.From(TinyConfig).ToConfig());
    }

    [Fact]
    public void A_trained_qrnn_language_model_saved_and_loaded_predicts_identically_and_says_qrnn_in_its_manifest()
    {
        using var model = TrainedModel();
        string folder = _temp.PathOf("lm");
        LanguageModelFolder.Save(folder, model, TinyVocabulary(), backwards: false, new Dictionary<string, double>(), new Dictionary<string, JsonElement>());
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "model.json")))!;
        Assert.Equal("qrnn", (string)json["architecture"]!["name"]!);

        var (restored, _, manifest) = LanguageModelFolder.Load(folder, AwdLstmDropouts.None);
        using (restored)
        {
            Assert.Equal(EncoderArchitecture.Qrnn, manifest.Architecture.Architecture);
            Assert.IsType<QrnnEncoder>(restored.Encoder);
            using var tokens = Batch();
            using var expected = Predict(model, tokens);
            using var actual = Predict(restored, tokens);
            Assert.True(TestTensors.Identical(expected, actual));
            Assert.Same(restored.Encoder.Embedding.Weight, restored.Decoder.Weight);
        }
    }

    [Fact]
    public void A_qrnn_classifier_built_on_the_language_model_saved_and_loaded_scores_identically()
    {
        using var lm = TrainedModel();
        var config = TextClassifierConfig.ForLanguageModel(lm.Config, ["billing", "bug", "praise"]) with { Bptt = 4, MaxLength = 8, HeadHiddenSize = 5 };
        using var classifier = new TextClassifier(config);
        classifier.LoadEncoderWeights(lm);
        Assert.IsType<QrnnEncoder>(classifier.Encoder);
        Assert.Equal(["embedding", "qrnn0", "qrnn1", "qrnn2", "head"], classifier.LayerGroups.Select(g => g.Name));

        string folder = _temp.PathOf("clf");
        ClassifierFolder.Save(folder, classifier, TinyVocabulary(), new Dictionary<string, double>(), new Dictionary<string, JsonElement>());
        var (loaded, _, manifest) = ClassifierFolder.Load(folder);
        using (loaded)
        {
            Assert.Equal("qrnn", manifest.Architecture.Name);
            using var tokens = Batch();
            long[] lengths = [9, 6];   // BPT3C over three chunks, the second row padded
            classifier.eval();
            loaded.eval();
            using var noGrad = no_grad();
            using var expected = classifier.Forward(tokens, lengths);
            using var actual = loaded.Forward(tokens, lengths);
            Assert.Equal([2L, 3], actual.shape);
            Assert.True(TestTensors.Identical(expected, actual));
        }
    }

    [Fact]
    public void An_unknown_architecture_name_is_refused_naming_the_known_ones()
    {
        using var model = new AwdLstmLanguageModel(TinyConfig);
        string folder = _temp.PathOf("lm");
        LanguageModelFolder.Save(folder, model, TinyVocabulary(), backwards: false, new Dictionary<string, double>(), new Dictionary<string, JsonElement>());
        string path = Path.Combine(folder, "model.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["architecture"]!["name"] = "transformer";
        File.WriteAllText(path, json.ToJsonString());
        string message = Assert.Throws<ModelFileException>(() => ModelPackage.Load(folder)).Message;
        Assert.Contains("architecture.name 'transformer' is not known (this version reads 'awd-lstm', 'qrnn')", message);
    }

    [Fact]
    public void Qrnn_weights_under_an_awd_lstm_manifest_are_listed_as_missing_and_unexpected()
    {
        using var model = new AwdLstmLanguageModel(TinyConfig);
        var manifest = new ModelManifest
        {
            Kind = ModelKind.LanguageModel,
            Architecture = ArchitectureSpec.From(TinyConfig) with { Name = ArchitectureSpec.AwdLstm },
            Tokenizer = TokenizerSpec.From(UlmfitTokenizer.Default),
        };
        var e = Assert.ThrowsAny<Exception>(() => ModelPackage.Save(_temp.PathOf("x"), manifest, TinyVocabulary(), model.state_dict()));
        Assert.Contains("missing weights: encoder.rnns.0.weight_ih_l0", e.Message);
        Assert.Contains("unexpected weights: encoder.rnns.0.gate_weight_raw", e.Message);
        Assert.False(Directory.Exists(_temp.PathOf("x")) && Directory.EnumerateFileSystemEntries(_temp.PathOf("x")).Any());
    }

    [Fact]
    public void An_awd_lstm_language_model_cannot_seed_a_qrnn_classifier()
    {
        using var lm = new AwdLstmLanguageModel(TinyConfig with { Architecture = EncoderArchitecture.AwdLstm });
        using var classifier = new TextClassifier(new TextClassifierConfig(TinyConfig, ["a", "b"]));
        var e = Assert.Throws<ArgumentException>(() => classifier.LoadEncoderWeights(lm));
        Assert.Contains("awd-lstm", e.Message);
        Assert.Contains("qrnn", e.Message);
    }
}
