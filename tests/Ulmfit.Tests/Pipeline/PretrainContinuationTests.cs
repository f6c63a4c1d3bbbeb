using Ulmfit.Data;
using Ulmfit.IO;
using Ulmfit.Pipeline;
using Ulmfit.Tests.Cli;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Pipeline;

[Collection(Training.TorchRandomCollection.Name)]
public class PretrainContinuationTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-continue-").FullName;

    static string Sample(string file) => Path.Combine(RepositoryPaths.Samples, "support-tickets", file);

    PretrainOptions Tiny(string name) => new()
    {
        Inputs = [Sample("unlabeled.csv")], OutputDirectory = Path.Combine(_dir, name),
        EmbeddingSize = 16, HiddenSize = 32, Layers = 2, Bptt = 12, BatchSize = 8, Epochs = 1, MaxTokensPerEpoch = 4_000,
        Vocabulary = new VocabularySettings(800, 2), LearningRate = 3e-2, Schedule = ScheduleKind.OneCycle, Threads = 1,
    };

    [Fact]
    public async Task Continuing_a_package_keeps_its_weights_vocabulary_and_shape_and_adds_up_the_tokens()
    {
        var first = await LanguageModelPipeline.PretrainAsync(Tiny("first"));
        // Continue with a rate so small that the weights cannot move measurably, and sizes that differ from the package's:
        // the package's shape wins, its weights are the starting point.
        var second = await LanguageModelPipeline.PretrainAsync(Tiny("second") with
        {
            ContinueFrom = first.ModelDirectory, LearningRate = 1e-12, EmbeddingSize = 24, HiddenSize = 40,
        });

        using var a = ModelPackage.Load(first.ModelDirectory);
        using var b = ModelPackage.Load(second.ModelDirectory);
        Assert.Equal(a.Vocabulary.Tokens, b.Vocabulary.Tokens);
        Assert.Equal(a.Manifest.Architecture, b.Manifest.Architecture);
        Assert.Equal(a.Weights.Keys.Order(), b.Weights.Keys.Order());
        foreach (var (key, weight) in a.Weights)
        {
            using var diff = (weight - b.Weights[key]).abs().max();
            Assert.True(diff.item<float>() < 1e-6f, $"{key} moved by {diff.item<float>()}");
        }
        long tokens = a.Manifest.Training[LanguageModelPipeline.PretrainTokensKey].GetInt64();
        Assert.Equal(first.TrainingTokens > 4_000 ? 4_000 : first.TrainingTokens, tokens);
        Assert.Equal(2 * tokens, b.Manifest.Training[LanguageModelPipeline.PretrainTokensKey].GetInt64());
        Assert.Equal("first", b.Manifest.Training["continued_from"].GetString());
    }

    [Fact]
    public async Task Continuing_in_the_other_direction_is_refused_before_anything_is_written()
    {
        var forward = await LanguageModelPipeline.PretrainAsync(Tiny("fwd"));
        var error = await Assert.ThrowsAsync<InvalidInputException>(() =>
            LanguageModelPipeline.PretrainAsync(Tiny("bwd") with { ContinueFrom = forward.ModelDirectory, Backwards = true }));
        Assert.Contains("forward language model", error.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bwd")));
    }

    [Fact]
    public async Task Runs_sharing_a_token_cache_tokenize_the_corpus_once()
    {
        string cache = Path.Combine(_dir, "cache");
        await LanguageModelPipeline.PretrainAsync(Tiny("one") with { TokenCache = cache });
        var files = Directory.GetFiles(cache).Select(f => (f, File.GetLastWriteTimeUtc(f))).ToArray();
        Assert.NotEmpty(files);
        await LanguageModelPipeline.PretrainAsync(Tiny("two") with { TokenCache = cache, Backwards = true });
        Assert.Equal(files, Directory.GetFiles(cache).Select(f => (f, File.GetLastWriteTimeUtc(f))).ToArray());
        Assert.False(Directory.Exists(Path.Combine(_dir, "two", "token-cache")));
    }

    [Fact]
    public void Shipped_models_are_found_in_the_first_folder_that_holds_a_package()
    {
        string empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        string full = Path.Combine(_dir, "full");
        Directory.CreateDirectory(Path.Combine(full, ShippedLanguageModels.ForwardName));
        File.WriteAllText(Path.Combine(full, ShippedLanguageModels.ForwardName, ModelManifest.FileName), "{}");

        Assert.Equal(Path.Combine(full, ShippedLanguageModels.ForwardName), ShippedLanguageModels.Find(ShippedLanguageModels.ForwardName, [empty, full]));
        Assert.Null(ShippedLanguageModels.Find(ShippedLanguageModels.BackwardName, [empty, full]));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
