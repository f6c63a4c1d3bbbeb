using System.Text;
using System.Text.Json.Nodes;
using TorchSharp;
using Ulmfit.Data;
using Ulmfit.IO;
using Ulmfit.Tests.Data;
using Ulmfit.Text;
using static TorchSharp.torch;

namespace Ulmfit.Tests.IO;

public sealed class ModelPackageTests : IDisposable
{
    readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    static Vocabulary TinyVocabulary(int size = 16) =>
        Vocabulary.FromTokens(SpecialTokens.All.Concat(Enumerable.Range(0, size - SpecialTokens.All.Count).Select(i => $"w{i}")));

    static ModelManifest LanguageModelManifest(ArchitectureSpec spec) => new()
    {
        Kind = ModelKind.LanguageModel,
        Architecture = spec,
        Tokenizer = TokenizerSpec.From(UlmfitTokenizer.Default),
        Training = new Dictionary<string, System.Text.Json.JsonElement> { ["epochs"] = ModelManifest.Option(2), ["corpus"] = ModelManifest.Option("tiny") },
        Metrics = new Dictionary<string, double> { ["valid_loss"] = 2.5 },
    };

    /// <summary>A saved tiny language-model package; returns its folder.</summary>
    string SavedPackage(string name = "lm")
    {
        using var module = new AwdLstmShapedModule(AwdLstmShapedModule.TinySpec(), seed: 1);
        string folder = _temp.PathOf(name);
        ModelPackage.Save(folder, LanguageModelManifest(module.Spec), TinyVocabulary(), module.state_dict());
        return folder;
    }

    static Tensor Tokens() => tensor(new long[] { 2, 9, 10, 11, 3, 12, 13, 14, 15, 0 }, [2, 5]);

    [Fact]
    public void Train_save_load_gives_identical_predictions()
    {
        var spec = AwdLstmShapedModule.TinySpec();
        using var trained = new AwdLstmShapedModule(spec, seed: 1);
        using var optimizer = optim.SGD(trained.parameters(), 0.1);
        using var inputs = Tokens();
        for (int step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor logits = trained.forward(inputs);
            Tensor loss = nn.functional.cross_entropy(logits.reshape(-1, spec.VocabSize), inputs.roll(-1, 1).reshape(-1));
            loss.backward();
            optimizer.step();
        }
        string folder = _temp.PathOf("trained");
        ModelPackage.Save(folder, LanguageModelManifest(spec), TinyVocabulary(), trained.state_dict());

        using var package = ModelPackage.Load(folder);
        using var restored = new AwdLstmShapedModule(package.Manifest.Architecture, seed: 99);
        using var before = restored.forward(inputs);
        ModuleWeights.CopyInto(restored, package.Weights, folder);
        using var expected = trained.forward(inputs);
        using var actual = restored.forward(inputs);
        Assert.False(TestTensors.Identical(expected, before)); // the fresh model really differed
        Assert.True(TestTensors.Identical(expected, actual));
    }

    [Fact]
    public void The_manifest_is_snake_case_json_with_every_section_and_survives_a_round_trip()
    {
        string folder = SavedPackage();
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "model.json")))!.AsObject();
        Assert.Equal(1, (int)json["format_version"]!);
        Assert.Equal("language-model", (string)json["kind"]!);
        Assert.Equal(16, (int)json["architecture"]!["vocab_size"]!);
        Assert.Equal("awd-lstm", (string)json["architecture"]!["name"]!);
        Assert.Equal(0.25, (double)json["architecture"]!["dropouts"]!["input"]!);
        Assert.Equal("ulmfit-rules-1", (string)json["tokenizer"]!["rules_version"]!);
        Assert.True((bool)json["tokenizer"]!["options"]!["mark_case"]!);
        Assert.Equal("vocab.json", (string)json["vocabulary"]!["file"]!);
        Assert.Equal("weights.safetensors", (string)json["weights"]!["file"]!);
        Assert.Equal(14, (int)json["weights"]!["tensors"]!);
        Assert.Equal(2, (int)json["training"]!["epochs"]!);
        Assert.Equal(2.5, (double)json["metrics"]!["valid_loss"]!);
        Assert.Equal(ModelManifest.ThisLibraryVersion, (string)json["library_version"]!);
        Assert.EndsWith("Z", (string)json["created_utc"]!);
        // Optional sections are omitted, computed properties never written.
        Assert.False(json.ContainsKey("labels"));
        Assert.False(json["architecture"]!.AsObject().ContainsKey("head"));
        Assert.Equal(8, json["tokenizer"]!["options"]!.AsObject().Count);
        Assert.Equal(["options", "rules_version"], json["tokenizer"]!.AsObject().Select(kv => kv.Key).Order());

        ModelManifest read = ModelPackage.ReadManifest(folder);
        Assert.Equal(read.ToJson(), ModelManifest.Parse(read.ToJson(), "again").ToJson());
    }

    static string ManifestError(string folder, Action<JsonObject> edit)
    {
        string path = Path.Combine(folder, "model.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
        return Assert.Throws<ModelFileException>(() => ModelPackage.Load(folder)).Message;
    }

    [Fact]
    public void Unknown_missing_and_out_of_range_manifest_fields_are_named()
    {
        Assert.Contains("unknown field 'colour' in $.architecture", ManifestError(SavedPackage("a"), j => j["architecture"]!["colour"] = "red"));
        Assert.Contains("unknown field 'pickle' in $", ManifestError(SavedPackage("b"), j => j["pickle"] = "x"));
        Assert.Contains("'hidden_size'", ManifestError(SavedPackage("c"), j => j["architecture"]!.AsObject().Remove("hidden_size")));
        Assert.Contains("'tokenizer'", ManifestError(SavedPackage("d"), j => j.Remove("tokenizer")));
        Assert.Contains("architecture.layers must be in [1, 32], got 0", ManifestError(SavedPackage("e"), j => j["architecture"]!["layers"] = 0));
        Assert.Contains("dropouts.weight must be in [0, 1)", ManifestError(SavedPackage("f"), j => j["architecture"]!["dropouts"]!["weight"] = 3.0));
        Assert.Contains("newer than this library reads", ManifestError(SavedPackage("g"), j => j["format_version"] = 2));
        Assert.Contains("a classifier needs 'labels'", ManifestError(SavedPackage("h"), j => j["kind"] = "classifier"));
        Assert.Contains("$.kind has the wrong type or value (expected one of language-model, encoder, classifier)", ManifestError(SavedPackage("i"), j => j["kind"] = "regressor"));
        Assert.Contains("$.architecture.vocab_size has the wrong type or value (expected an integer)", ManifestError(SavedPackage("j"), j => j["architecture"]!["vocab_size"] = "16"));
        Assert.Contains("training.nested must be a string, number or boolean", ManifestError(SavedPackage("k"), j => j["training"]!["nested"] = new JsonArray(1, 2)));
        Assert.Contains("vocabulary.file must be 'vocab.json'", ManifestError(SavedPackage("l"), j => j["vocabulary"]!["file"] = "../../etc/passwd"));
        Assert.Contains("$.architecture must not be null", ManifestError(SavedPackage("m"), j => j["architecture"] = null));
    }

    [Fact]
    public void Duplicate_manifest_fields_are_refused()
    {
        string folder = SavedPackage();
        string path = Path.Combine(folder, "model.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"kind\": \"language-model\"", "\"kind\": \"language-model\", \"kind\": \"encoder\""));
        Assert.Contains("model.json", Assert.Throws<ModelFileException>(() => ModelPackage.Load(folder)).Message);
    }

    [Fact]
    public void Tampered_weights_or_vocabulary_or_a_missing_manifest_are_clear_errors()
    {
        string folder = SavedPackage("w");
        string weights = Path.Combine(folder, "weights.safetensors");
        byte[] bytes = File.ReadAllBytes(weights);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(weights, bytes);
        Assert.Contains("does not match the manifest's sha256", Assert.Throws<ModelFileException>(() => ModelPackage.Load(folder)).Message);
        File.WriteAllBytes(weights, bytes[..^4]);
        Assert.Contains("truncated or replaced", Assert.Throws<ModelFileException>(() => ModelPackage.Load(folder)).Message);

        string other = SavedPackage("v");
        TinyVocabulary().Save(Path.Combine(other, "vocab.json"));
        Vocabulary.FromTokens(SpecialTokens.All.Concat(Enumerable.Range(0, 7).Select(i => $"x{i}"))).Save(Path.Combine(other, "vocab.json"));
        Assert.Contains("vocab.json", Assert.Throws<ModelFileException>(() => ModelPackage.Load(other)).Message);

        File.Delete(Path.Combine(other, "model.json"));
        Assert.Contains("not a model package", Assert.Throws<ModelFileException>(() => ModelPackage.Load(other)).Message);
        Assert.Contains("no such model package", Assert.Throws<ModelFileException>(() => ModelPackage.Load(_temp.PathOf("nothing"))).Message);
    }

    [Theory]
    [InlineData("\"size\": 16", "\"size\": \"16\"", "malformed")]
    [InlineData("\"tokens\": [", "\"tokens\": 5, \"x\": [", "tokens")]
    public void A_malformed_vocabulary_file_is_a_model_file_error(string from, string to, string expected)
    {
        string folder = SavedPackage();
        string path = Path.Combine(folder, "vocab.json");
        string text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to));
        Assert.Contains(expected, Assert.Throws<ModelFileException>(() => ModelPackage.Load(folder)).Message);
    }

    [Fact]
    public void A_vocabulary_file_with_invalid_utf8_is_refused_at_the_bad_byte()
    {
        string folder = SavedPackage();
        string path = Path.Combine(folder, "vocab.json");
        byte[] bytes = File.ReadAllBytes(path);
        int at = bytes.AsSpan().IndexOf("\"w3\""u8) + 2;
        bytes[at] = 0xc3; // a lead byte followed by '"': not UTF-8
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelFileException>(() => ModelPackage.Load(folder));
        Assert.Contains("not valid UTF-8", e.Message);
        Assert.Equal(at, e.Offset);
    }

    [Fact]
    public void Weights_that_do_not_fit_the_architecture_are_listed_on_load()
    {
        string folder = SavedPackage();
        string weights = Path.Combine(folder, "weights.safetensors");
        // Replace the weights by a self-consistent file with a wrong shape and an extra key, and fix up the checksums.
        var bad = new AwdLstmShapedModule(AwdLstmShapedModule.TinySpec() with { HiddenSize = 11 }, 3).state_dict();
        bad.Remove(AwdLstmWeightNames.DecoderBias);
        bad["surprise"] = zeros(2);
        SafetensorsWriter.Write(weights, bad);
        string path = Path.Combine(folder, "model.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["weights"]!["sha256"] = BoundedFile.Sha256(weights);
        json["weights"]!["bytes"] = new FileInfo(weights).Length;
        File.WriteAllText(path, json.ToJsonString());

        string message = Assert.Throws<ModelFileException>(() => ModelPackage.Load(folder)).Message;
        Assert.Contains("missing weights: decoder.bias", message);
        Assert.Contains("unexpected weights: surprise", message);
        Assert.Contains("encoder.rnns.0.weight_hh_l0_raw is [44, 11], expected [40, 10]", message);
    }

    [Fact]
    public void Saving_refuses_weights_or_a_vocabulary_that_do_not_fit_and_writes_nothing()
    {
        using var module = new AwdLstmShapedModule(AwdLstmShapedModule.TinySpec(), 1);
        string folder = _temp.PathOf("refused");
        var manifest = LanguageModelManifest(module.Spec with { Layers = 2 });
        Assert.Contains("unexpected weights: encoder.rnns.2", Assert.Throws<ArgumentException>(() => ModelPackage.Save(folder, manifest, TinyVocabulary(), module.state_dict())).Message);
        Assert.Contains("17 entries", Assert.Throws<ArgumentException>(() => ModelPackage.Save(folder, LanguageModelManifest(module.Spec), TinyVocabulary(17), module.state_dict())).Message);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void Copying_into_a_module_lists_missing_unexpected_and_mismatched_keys_together()
    {
        using var module = new AwdLstmShapedModule(AwdLstmShapedModule.TinySpec(), 1);
        var weights = new AwdLstmShapedModule(AwdLstmShapedModule.TinySpec(20), 2).state_dict();
        weights.Remove(AwdLstmWeightNames.HiddenBias(1));
        weights["extra.weight"] = zeros(1);
        string message = Assert.Throws<ModelFileException>(() => ModuleWeights.CopyInto(module, weights, "w.safetensors")).Message;
        Assert.Contains("missing keys: encoder.rnns.1.bias_hh_l0", message);
        Assert.Contains("unexpected keys: extra.weight", message);
        Assert.Contains("decoder.bias is [20] in the file, [16] in the model", message);
        Assert.Contains("encoder.embedding.weight is [20, 6] in the file, [16, 6] in the model", message);
    }

    [Fact]
    public void Loaded_weights_outlive_the_callers_dispose_scope()
    {
        string folder = SavedPackage();
        ModelPackage package;
        using (NewDisposeScope()) package = ModelPackage.Load(folder);
        using (package)
        {
            Assert.All(package.Weights.Values, t => Assert.False(t.IsInvalid));
            Assert.Equal(16 * 6, TestTensors.Values(package.Weights[AwdLstmWeightNames.Embedding]).Length);
        }
        Assert.Throws<ObjectDisposedException>(() => package.Weights);
    }

    [Fact]
    public void A_package_round_trips_through_a_ulmfit_archive()
    {
        string folder = SavedPackage();
        string archive = _temp.PathOf("model.ulmfit");
        ModelPackageArchive.Pack(folder, archive);
        Assert.Equal(ModelKind.LanguageModel, ModelPackage.ReadManifest(archive).Kind);
        using var fromFolder = ModelPackage.Load(folder);
        using var fromArchive = ModelPackage.Load(archive);
        foreach ((string key, Tensor t) in fromFolder.Weights) Assert.True(TestTensors.Identical(t, fromArchive.Weights[key]), key);
        Assert.Equal(archive, fromArchive.Source);
    }

    string Archive(params (string Name, byte[] Data, System.IO.Compression.CompressionLevel Level)[] entries)
    {
        string path = _temp.PathOf($"{Guid.NewGuid():N}.ulmfit");
        using var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create);
        foreach (var (name, data, level) in entries)
        {
            using var stream = zip.CreateEntry(name, level).Open();
            stream.Write(data);
        }
        return path;
    }

    [Fact]
    public void Hostile_archives_are_refused_before_anything_is_written()
    {
        string folder = SavedPackage();
        byte[] Read(string name) => File.ReadAllBytes(Path.Combine(folder, name));
        var store = System.IO.Compression.CompressionLevel.NoCompression;
        var good = new[] { ("model.json", Read("model.json"), store), ("vocab.json", Read("vocab.json"), store), ("weights.safetensors", Read("weights.safetensors"), store) };
        string Error(string archive) => Assert.Throws<ModelFileException>(() => ModelPackage.Load(archive)).Message;

        Assert.Contains("unexpected archive entry '../evil.sh'", Error(Archive([.. good, ("../evil.sh", "rm -rf /"u8.ToArray(), store)])));
        Assert.Contains("unexpected archive entry '/etc/cron.d/x'", Error(Archive([.. good, ("/etc/cron.d/x", [1], store)])));
        Assert.Contains("unexpected archive entry 'sub/model.json'", Error(Archive(("sub/model.json", Read("model.json"), store))));
        Assert.Contains("archive has no 'weights.safetensors'", Error(Archive(good[0], good[1])));
        var bomb = ("vocab.json", new byte[50 << 20], System.IO.Compression.CompressionLevel.SmallestSize);
        Assert.Contains("zip bomb", Error(Archive(good[0], bomb, good[2])));
        Assert.Contains("not a model archive", Error(_temp.WriteBytes("junk.ulmfit", Encoding.ASCII.GetBytes("not a zip at all"))));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_temp.Root)!, "evil.sh")));
    }

    [Fact]
    public void Saving_over_an_existing_package_replaces_it_and_keeps_other_files()
    {
        string folder = SavedPackage();
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        using var module = new AwdLstmShapedModule(AwdLstmShapedModule.TinySpec(), seed: 5);
        ModelPackage.Save(folder, LanguageModelManifest(module.Spec), TinyVocabulary(), module.state_dict());
        using var loaded = ModelPackage.Load(folder);
        Assert.True(TestTensors.Identical(module.state_dict()[AwdLstmWeightNames.Embedding], loaded.Weights[AwdLstmWeightNames.Embedding]));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(folder, "notes.txt")));
        Assert.DoesNotContain(TempDirectory.FilesIn(folder), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void A_save_that_fails_while_writing_leaves_the_old_package_whole()
    {
        string folder = SavedPackage();
        using var before = ModelPackage.Load(folder);
        using var module = new AwdLstmShapedModule(AwdLstmShapedModule.TinySpec(), seed: 5);
        var weights = module.state_dict();
        using (no_grad()) weights[AwdLstmWeightNames.Embedding][0, 0] = float.NaN;   // the writer refuses it mid-save

        Assert.ThrowsAny<Exception>(() => ModelPackage.Save(folder, LanguageModelManifest(module.Spec), TinyVocabulary(), weights));

        using var after = ModelPackage.Load(folder);
        Assert.True(TestTensors.Identical(before.Weights[AwdLstmWeightNames.Embedding], after.Weights[AwdLstmWeightNames.Embedding]));
        Assert.DoesNotContain(TempDirectory.FilesIn(folder), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void A_classifier_package_keeps_its_labels_and_head_weights()
    {
        var spec = AwdLstmShapedModule.TinySpec() with
        {
            Dropouts = DropoutSpec.Classifier,
            Head = new ClassifierHeadSpec { HiddenSizes = [5], Dropouts = [0.2, 0.1] },
        };
        using var module = new AwdLstmShapedModule(spec, 1);
        var weights = module.state_dict();
        weights.Remove(AwdLstmWeightNames.DecoderBias);
        weights["head.layers.0.weight"] = TestTensors.Random(7, 5, 18);
        var manifest = new ModelManifest
        {
            Kind = ModelKind.Classifier,
            Architecture = spec,
            Tokenizer = TokenizerSpec.From(UlmfitTokenizer.Default),
            Labels = new LabelsSpec(["billing", "bug", "praise"], MultiLabel: false),
        };
        string folder = _temp.PathOf("clf");
        ModelPackage.Save(folder, manifest, TinyVocabulary(), weights);
        using var loaded = ModelPackage.Load(folder);
        Assert.Equal(["billing", "bug", "praise"], loaded.Manifest.Labels!.Classes);
        Assert.Equal([5], loaded.Manifest.Architecture.Head!.HiddenSizes);
        Assert.True(TestTensors.Identical(weights["head.layers.0.weight"], loaded.Weights["head.layers.0.weight"]));
    }
}
