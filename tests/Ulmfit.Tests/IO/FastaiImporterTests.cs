using Ulmfit.IO;
using Ulmfit.Tests.Data;
using Ulmfit.Text;

namespace Ulmfit.Tests.IO;

public sealed class FastaiImporterTests : IDisposable
{
    readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Our key → the fastai key whose values it must carry.</summary>
    static IEnumerable<(string Ours, string Theirs)> KeyMap(int layers)
    {
        yield return (AwdLstmWeightNames.Embedding, "0.encoder.weight");
        for (int l = 0; l < layers; l++)
        {
            yield return (AwdLstmWeightNames.InputWeight(l), $"0.rnns.{l}.module.weight_ih_l0");
            yield return (AwdLstmWeightNames.HiddenWeight(l), $"0.rnns.{l}.weight_hh_l0_raw");
            yield return (AwdLstmWeightNames.InputBias(l), $"0.rnns.{l}.module.bias_ih_l0");
            yield return (AwdLstmWeightNames.HiddenBias(l), $"0.rnns.{l}.module.bias_hh_l0");
        }
        yield return (AwdLstmWeightNames.DecoderBias, "1.decoder.bias");
    }

    public static TheoryData<string, string> Fixtures()
    {
        var data = new TheoryData<string, string>();
        foreach (string weights in FastaiFixtures.WeightFiles)
            foreach (string vocab in new[] { "itos.pkl", "itos_protocol2.pkl" })
                data.Add(weights, vocab);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Fixtures))]
    public void Every_fixture_imports_with_exact_tensors(string weights, string vocab)
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        using ImportedLanguageModel model = FastaiImporter.Import(FastaiFixtures.PathOf(weights), FastaiFixtures.PathOf(vocab));

        Assert.Equal(FastaiFixtures.Values.Vocab, model.Vocabulary.Tokens);
        Assert.Equal(1 + 4 * 3 + 1, model.StateDict.Count);
        foreach ((string ours, string theirs) in KeyMap(3))
        {
            var (shape, values) = FastaiFixtures.Values.Tensors[theirs];
            Assert.Equal(shape, model.StateDict[ours].shape);
            Assert.Equal(values, TestTensors.Values(model.StateDict[ours]));
        }
        Assert.Equal(weights.Contains("zip") ? "zip" : "legacy", model.SourceFormat);
        Assert.Equal(weights.Contains("wrapped"), model.WasWrapped);
        Assert.Contains("0.encoder_dp.emb.weight", model.IgnoredKeys);
        Assert.Contains("1.decoder.weight", model.IgnoredKeys);
        Assert.Equal(weights.Contains("module_hh") ? 3 : 0, model.IgnoredKeys.Count(k => k.EndsWith("module.weight_hh_l0", StringComparison.Ordinal)));
        Assert.Empty(model.VocabularyChanges);
    }

    [SkippableFact]
    public void The_architecture_is_read_off_the_shapes()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        using var model = FastaiImporter.Import(FastaiFixtures.PathOf("lm_zip.pth"), FastaiFixtures.PathOf("itos.pkl"));
        ArchitectureSpec a = model.Architecture;
        Assert.Equal((24, 8, 12, 3, 1), (a.VocabSize, a.EmbeddingSize, a.HiddenSize, a.Layers, a.PadId));
        Assert.Equal(DropoutSpec.LanguageModel, a.Dropouts);
    }

    [SkippableFact]
    public void The_tied_matrices_of_a_fastai_save_share_one_storage_and_it_is_read_once()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        foreach (string file in new[] { "lm_legacy.pth", "lm_zip.pth" })
        {
            TorchStateDict sd = TorchStateDictReader.Read(FastaiFixtures.PathOf(file));
            Assert.True(sd.Tensors["0.encoder.weight"].SharesStorageWith(sd.Tensors["1.decoder.weight"]));
            Assert.True(sd.Tensors["0.encoder.weight"].SharesStorageWith(sd.Tensors["0.encoder_dp.emb.weight"]));
            Assert.Equal(14, sd.Tensors.Values.Select(t => t.Storage).Distinct().Count());
        }
    }

    [SkippableFact]
    public void An_imported_model_saved_as_a_package_loads_back_identical()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        string folder = _temp.PathOf("lm");
        using var model = FastaiImporter.Import(FastaiFixtures.PathOf("lm_wrapped_zip.pth"), FastaiFixtures.PathOf("itos.pkl"));
        ModelManifest written = model.SaveAsPackage(folder);

        using var package = ModelPackage.Load(folder);
        Assert.Equal(ModelKind.LanguageModel, package.Manifest.Kind);
        Assert.Equal(model.Architecture, package.Manifest.Architecture);
        Assert.Equal("fastai", package.Manifest.Training["imported_from"].GetString());
        Assert.Equal(written.Weights, package.Manifest.Weights);
        Assert.Equal(model.Vocabulary.Tokens, package.Vocabulary.Tokens);
        foreach ((string key, var tensor) in model.StateDict) Assert.True(TestTensors.Identical(tensor, package.Weights[key]), key);
    }

    [SkippableFact]
    public void A_fastai_1_vocabulary_order_is_put_into_ours_and_the_rows_move_with_their_tokens()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        // fastai 1 order: xxunk xxpad xxbos xxeos xxfld xxmaj xxup xxrep xxwrep. Rename fixture ids 5..8 accordingly.
        string[] v1 = [.. FastaiFixtures.Values.Vocab];
        (v1[5], v1[6], v1[7], v1[8]) = ("xxmaj", "xxup", "xxrep", "xxwrep");
        string vocab = _temp.WriteBytes("itos_v1.pkl", PickleBuilder.StringList(v1));

        using var model = FastaiImporter.Import(FastaiFixtures.PathOf("lm_zip.pth"), vocab);
        Assert.Equal(SpecialTokens.All, model.Vocabulary.Tokens.Take(9));
        Assert.Contains("moved 'xxmaj' from id 5 to 8", model.VocabularyChanges);
        float[] embedding = TestTensors.Values(model.StateDict[AwdLstmWeightNames.Embedding]);
        float[] original = FastaiFixtures.Values.Tensors["0.encoder.weight"].Values;
        // Our id 8 (xxmaj) carries fastai's row 5; word rows stay where they were.
        Assert.Equal(original.AsSpan(5 * 8, 8).ToArray(), embedding.AsSpan(8 * 8, 8).ToArray());
        Assert.Equal(original.AsSpan(9 * 8, 15 * 8).ToArray(), embedding.AsSpan(9 * 8, 15 * 8).ToArray());
    }

    [SkippableFact]
    public void A_vocabulary_without_xxeos_gets_a_mean_row_for_it()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        string[] tokens = [.. FastaiFixtures.Values.Vocab];
        tokens[3] = "zzz-word";
        string vocab = _temp.WriteBytes("itos_noeos.pkl", PickleBuilder.StringList(tokens));

        using var model = FastaiImporter.Import(FastaiFixtures.PathOf("lm_legacy.pth"), vocab);
        Assert.Equal(25, model.Vocabulary.Count);
        Assert.Equal(25, model.Architecture.VocabSize);
        Assert.Contains("added 'xxeos' as id 3 with the mean embedding", model.VocabularyChanges);
        float[] original = FastaiFixtures.Values.Tensors["0.encoder.weight"].Values;
        float[] embedding = TestTensors.Values(model.StateDict[AwdLstmWeightNames.Embedding]);
        for (int c = 0; c < 8; c++)
            Assert.Equal(Enumerable.Range(0, 24).Average(r => (double)original[r * 8 + c]), embedding[3 * 8 + c], 5);
    }

    [SkippableFact]
    public void Vocabulary_and_weights_of_different_sizes_are_refused()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        string vocab = _temp.WriteBytes("short.pkl", PickleBuilder.StringList(FastaiFixtures.Values.Vocab.Take(20)));
        var e = Assert.Throws<ModelFileException>(() => FastaiImporter.Import(FastaiFixtures.PathOf("lm_zip.pth"), vocab));
        Assert.Contains("20 tokens but the weights have 24 rows", e.Message);
    }

    [SkippableFact]
    public void The_hostile_pickle_is_refused_as_a_vocabulary_and_as_weights()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        string hostile = FastaiFixtures.PathOf("hostile.pkl");
        Assert.Contains("os.system", Assert.Throws<ModelFileException>(() => FastaiImporter.Import(FastaiFixtures.PathOf("lm_zip.pth"), hostile)).Message);
        // As weights it is a plain pickle, not a PyTorch file: refused before its GLOBAL is even reached.
        Assert.Throws<ModelFileException>(() => FastaiImporter.Import(hostile, FastaiFixtures.PathOf("itos.pkl")));
    }

    [SkippableFact]
    public void A_state_dict_pickle_with_a_dangerous_global_is_refused_by_name()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        // Replace the legacy file's 'collections OrderedDict' global (same length) with 'posix\nsystem'-style code.
        byte[] bytes = File.ReadAllBytes(FastaiFixtures.PathOf("lm_legacy.pth"));
        byte[] from = "collections\nOrderedDict"u8.ToArray(), to = "subprocess\ncheck_output"u8.ToArray();
        int at = bytes.AsSpan().IndexOf(from);
        Assert.True(at > 0);
        to.CopyTo(bytes, at);
        string path = _temp.WriteBytes("evil.pth", bytes);
        var e = Assert.Throws<ModelFileException>(() => TorchStateDictReader.Read(path));
        Assert.Contains("refusing global 'subprocess.check_output'", e.Message);
        Assert.Equal(at - 1, e.Offset);
    }

    [SkippableTheory]
    [InlineData("lm_legacy.pth")]
    [InlineData("lm_zip.pth")]
    public void Every_truncation_of_a_weights_file_is_a_clear_error(string file)
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        byte[] bytes = File.ReadAllBytes(FastaiFixtures.PathOf(file));
        for (int length = 0; length < bytes.Length; length += 7)
        {
            using var stream = new MemoryStream(bytes, 0, length);
            var e = Assert.Throws<ModelFileException>(() => TorchStateDictReader.Read(stream, file));
            Assert.StartsWith(file, e.Message);
        }
    }

    [SkippableFact]
    public void A_state_dict_that_is_not_an_awd_lstm_is_refused_with_its_keys()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        // The fixture with one layer key renamed, as a classifier or a QRNN would differ.
        byte[] bytes = File.ReadAllBytes(FastaiFixtures.PathOf("lm_legacy.pth"));
        byte[] from = "1.decoder.bias"u8.ToArray(), to = "1.layers.bias0"u8.ToArray();
        to.CopyTo(bytes, bytes.AsSpan().IndexOf(from));
        string path = _temp.WriteBytes("odd.pth", bytes);
        var e = Assert.Throws<ModelFileException>(() => FastaiImporter.Import(path, FastaiFixtures.PathOf("itos.pkl")));
        Assert.Contains("unexpected keys", e.Message);
        Assert.Contains("1.layers.bias0", e.Message);
    }
}
