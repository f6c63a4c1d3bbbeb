using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Ulmfit.Data;
using Ulmfit.IO;
using Ulmfit.Modeling;
using Ulmfit.Text;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Pipeline;

/// <summary>Progress of a language-model run: tokenizing first, then training (one of the two is set).</summary>
public sealed record LanguageModelRunProgress(string Stage, TokenizeProgress? Tokenizing, LanguageModelProgress? Training);

/// <summary>The outcome of a pretraining or fine-tuning run.</summary>
/// <param name="ModelDirectory">Where the trained language model was saved.</param>
/// <param name="Epochs">Every epoch's result, stage after stage.</param>
/// <param name="TokensPerSecond">Training throughput of the last stage.</param>
/// <param name="Elapsed">Wall time of the whole run.</param>
/// <param name="VocabSize">Tokens in the model's vocabulary.</param>
/// <param name="TrainingTokens">Training tokens per full epoch (before any cap).</param>
/// <param name="Parameters">Trainable values in the model.</param>
/// <param name="StageSeconds">Wall time per stage (tokenize, and each training stage).</param>
/// <param name="Transfer">Fine-tuning only: how many vocabulary rows were kept from the pretrained model.</param>
public sealed record LanguageModelRunResult(
    string ModelDirectory, IReadOnlyList<EpochResult> Epochs, double TokensPerSecond, TimeSpan Elapsed,
    int VocabSize, long TrainingTokens, long Parameters, IReadOnlyDictionary<string, double> StageSeconds,
    VocabularyTransferReport? Transfer)
{
    /// <summary>The last epoch's held-out measurement, if any.</summary>
    public ValidationResult? FinalValidation => Epochs.LastOrDefault(e => e.Validation != null)?.Validation;
}

/// <summary>
/// ULMFiT stages 1 and 2 from files to a saved language model: tokenize (cached), build or load the model, train with
/// discriminative rates and slanted triangular (or one-cycle) schedules, checkpoint, save.
/// </summary>
public static class LanguageModelPipeline
{
    const string VocabularyFile = "vocab.json";

    /// <summary>Manifest training option: tokens the language model has been pretrained on, over all continued runs.</summary>
    public const string PretrainTokensKey = "pretrain_tokens";

    /// <summary>Whether <paramref name="outputDirectory"/> holds the checkpoints of a <c>pretrain</c> or
    /// <c>finetune-lm</c> run, the run that <see cref="LanguageModelRunOptions.Resume"/> continues.</summary>
    public static bool HasRun(string outputDirectory)
    {
        string root = LanguageModelRunOptions.CheckpointRootOf(outputDirectory);
        return Directory.Exists(root) && Directory.EnumerateDirectories(root).Any(LanguageModelTrainer.HasCheckpoint);
    }

    /// <summary>Stage 1: trains a new language model (AWD-LSTM or QRNN) on <see cref="LanguageModelRunOptions.Inputs"/>.</summary>
    public static async Task<LanguageModelRunResult> PretrainAsync(PretrainOptions options, IProgress<LanguageModelRunProgress>? progress = null,
        ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        var stages = new Dictionary<string, double>();
        var (continued, startVocabulary, backwards, tokensBefore) = options.ContinueFrom == null
            ? (null, null, options.Backwards, 0L)
            : LoadForContinuation(options);
        TokenizedCorpus corpus;
        try
        {
            corpus = Prepare(options, progress, cancellationToken, startVocabulary);
        }
        catch
        {
            continued?.Dispose();
            throw;
        }
        using var corpusScope = corpus;
        stages["tokenize"] = clock.Elapsed.TotalSeconds;

        manual_seed((long)options.Seed);
        using var model = continued ?? NewModel(options, corpus.Vocabulary.Count);
        model.SetComputePrecision(options.Precision);
        var trainer = Trainer(options, model, corpus, "pretrain", options.LearningRate, options.Epochs, trainableGroups: null, backwards, logger);
        var stageClock = Stopwatch.StartNew();
        var result = await Run(trainer, options, "pretrain", progress, cancellationToken);
        stages["pretrain"] = stageClock.Elapsed.TotalSeconds;

        // Tokens seen over the model's whole life (continued runs add up), for model cards.
        long tokens = tokensBefore + Math.Min(corpus.Training.TokenCount, options.MaxTokensPerEpoch ?? long.MaxValue) * result.Epochs.Count;
        var lineage = new Dictionary<string, JsonElement> { [PretrainTokensKey] = ModelManifest.Option(tokens) };
        if (options.ContinueFrom != null) lineage["continued_from"] = ModelManifest.Option(Path.GetFileName(Path.GetFullPath(options.ContinueFrom).TrimEnd('/')));
        Save(options, model, corpus.Vocabulary, backwards, result.Epochs, "pretrain", extraTraining: lineage);
        return new LanguageModelRunResult(options.OutputDirectory, result.Epochs, result.TokensPerSecond, clock.Elapsed,
            corpus.Vocabulary.Count, corpus.Training.TokenCount, ParameterCount(model), stages, null);
    }

    /// <summary>Stage 2: adapts a pretrained language model to new text: vocabulary transfer, then the embedding/decoder
    /// group alone for <see cref="FineTuneOptions.FrozenEpochs"/>, then every group.</summary>
    public static async Task<LanguageModelRunResult> FineTuneAsync(FineTuneOptions options, IProgress<LanguageModelRunProgress>? progress = null,
        ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        var stages = new Dictionary<string, double>();
        var (pretrained, oldVocabulary, manifest) = LanguageModelFolder.Load(options.PretrainedModel, AwdLstmDropouts.None);
        using var corpus = Prepare(options, progress, cancellationToken, extend: options.ExtendPretrainedVocabulary ? oldVocabulary : null);
        stages["tokenize"] = clock.Elapsed.TotalSeconds;

        manual_seed((long)options.Seed);
        var config = manifest.Architecture.ToConfig(AwdLstmDropouts.LanguageModel, options.DropMult) with { VocabSize = corpus.Vocabulary.Count };
        using var model = new AwdLstmLanguageModel(config);
        VocabularyTransferReport transfer;
        using (pretrained)
            transfer = VocabularyTransfer.Apply(oldVocabulary.Tokens, corpus.Vocabulary.Tokens, pretrained, model);
        model.SetComputePrecision(options.Precision);
        logger?.LogInformation("Vocabulary transfer: {Kept} tokens kept their rows, {New} new", transfer.KeptTokens, transfer.NewTokens);

        var epochs = new List<EpochResult>();
        double tokensPerSecond = 0;
        if (options.FrozenEpochs > 0)
        {
            var stageClock = Stopwatch.StartNew();
            var frozen = Trainer(options, model, corpus, "finetune-frozen", options.FrozenLearningRate, options.FrozenEpochs, trainableGroups: 1, manifest.Architecture.Backwards, logger);
            var r = await Run(frozen, options, "finetune-frozen", progress, cancellationToken, resumeIfPresent: true);
            epochs.AddRange(r.Epochs);
            tokensPerSecond = r.TokensPerSecond;
            stages["finetune_frozen"] = stageClock.Elapsed.TotalSeconds;
        }
        var allClock = Stopwatch.StartNew();
        var all = Trainer(options, model, corpus, "finetune-all", options.LearningRate, options.Epochs, trainableGroups: null, manifest.Architecture.Backwards, logger);
        var result = await Run(all, options, "finetune-all", progress, cancellationToken, resumeIfPresent: options.FrozenEpochs > 0 && options.Resume);
        epochs.AddRange(result.Epochs);
        stages["finetune_all"] = allClock.Elapsed.TotalSeconds;

        Save(options, model, corpus.Vocabulary, manifest.Architecture.Backwards, epochs, "finetune", options.PretrainedModel);
        return new LanguageModelRunResult(options.OutputDirectory, epochs, result.TokensPerSecond > 0 ? result.TokensPerSecond : tokensPerSecond,
            clock.Elapsed, corpus.Vocabulary.Count, corpus.Training.TokenCount, ParameterCount(model), stages, transfer);
    }

    static AwdLstmLanguageModel NewModel(PretrainOptions options, int vocabSize)
    {
        var config = new AwdLstmConfig(vocabSize)
        {
            Architecture = options.Architecture,
            EmbeddingSize = options.EmbeddingSize, HiddenSize = options.HiddenSize, Layers = options.Layers,
            Dropouts = AwdLstmDropouts.LanguageModel, DropMult = options.DropMult,
        };
        config.Validate();
        return new AwdLstmLanguageModel(config);
    }

    // Continuing a package: the model keeps its own architecture, shape, vocabulary and direction, so options that say otherwise
    // are a mistake worth stopping for rather than silently ignoring.
    static (AwdLstmLanguageModel?, Vocabulary?, bool, long) LoadForContinuation(PretrainOptions options)
    {
        string path = options.ContinueFrom!;
        var (model, vocabulary, manifest) = LanguageModelFolder.Load(path, AwdLstmDropouts.LanguageModel, options.DropMult);
        var a = manifest.Architecture;
        if (a.Backwards != options.Backwards)
        {
            model.Dispose();
            throw new InvalidInputException(path, null, null,
                $"is a {(a.Backwards ? "backward" : "forward")} language model; {(a.Backwards ? "add" : "drop")} --backwards to continue it");
        }
        long tokens = manifest.Training.TryGetValue(PretrainTokensKey, out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt64() : 0;
        return (model, vocabulary, a.Backwards, tokens);
    }

    // Tokenizes the inputs. A resumed run must see the very same vocabulary, so the first run's is kept beside its
    // checkpoints and reused; a continued package brings its own.
    static TokenizedCorpus Prepare(LanguageModelRunOptions options, IProgress<LanguageModelRunProgress>? progress,
        CancellationToken cancellationToken, Vocabulary? given = null, Vocabulary? extend = null)
    {
        string saved = Path.Combine(options.CheckpointRoot, VocabularyFile);
        if (HasRun(options.OutputDirectory) && !options.Resume)
            throw new InvalidInputException(options.OutputDirectory, null, null, "already holds a training run: pass --resume to continue it, or choose another output folder");
        Vocabulary? fixedVocabulary = given ?? (options.Resume && File.Exists(saved) ? Vocabulary.Load(saved) : null);
        var corpus = TokenizedCorpus.Prepare(new CorpusOptions
        {
            Inputs = options.Inputs,
            ValidationInput = options.ValidationInput,
            ValidationFraction = options.ValidationFraction,
            Reader = options.Reader,
            VocabularySettings = options.Vocabulary,
            Vocabulary = fixedVocabulary,
            BaseVocabulary = extend,
            CacheDirectory = options.CacheDirectory,
            Threads = options.Threads,
            Seed = options.Seed,
            Progress = progress == null ? null : new InlineProgress<TokenizeProgress>(p => progress.Report(new("tokenize", p, null))),
        }, UlmfitTokenizer.Default, cancellationToken);
        if (corpus.Training.TokenCount < 2L * options.BatchSize)
        {
            corpus.Dispose();
            throw new InvalidInputException(string.Join(", ", options.Inputs), null, null,
                $"only {corpus.Training.TokenCount} training tokens: too few for batch size {options.BatchSize}");
        }
        Directory.CreateDirectory(options.CheckpointRoot);
        if (!File.Exists(saved)) corpus.Vocabulary.Save(saved);
        return corpus;
    }

    static LanguageModelTrainer Trainer(LanguageModelRunOptions options, AwdLstmLanguageModel model, TokenizedCorpus corpus, string stage,
        double learningRate, int epochs, int? trainableGroups, bool backwards, ILogger? logger)
    {
        var trainerOptions = new LanguageModelTrainerOptions
        {
            Epochs = epochs,
            MaxValidationTokens = options.MaxValidationTokens,
            Batching = new LanguageModelBatcherOptions
            {
                BatchSize = options.BatchSize, Bptt = options.Bptt, Backwards = backwards,
                MaxTokens = options.MaxTokensPerEpoch, Seed = options.Seed,
            },
            Schedule = LanguageModelRunOptions.MakeSchedule(options.Schedule, learningRate),
            GroupLearningRateFactor = options.GroupFactor,
            TrainableGroups = trainableGroups,
            Optimizer = options.Optimizer,
            GradientClip = options.GradientClip,
            TorchSeed = (long)options.Seed,
            CheckpointDirectory = Path.Combine(options.CheckpointRoot, stage),
            CheckpointInterval = options.CheckpointInterval,
        };
        return new LanguageModelTrainer(model, corpus.Training, corpus.Validation, trainerOptions, logger);
    }

    static Task<LanguageModelTrainingResult> Run(LanguageModelTrainer trainer, LanguageModelRunOptions options, string stage,
        IProgress<LanguageModelRunProgress>? progress, CancellationToken cancellationToken, bool resumeIfPresent = false)
    {
        var relay = progress == null ? null : new InlineProgress<LanguageModelProgress>(p => progress.Report(new(stage, null, p)));
        string directory = Path.Combine(options.CheckpointRoot, stage);
        bool resume = (options.Resume || resumeIfPresent) && LanguageModelTrainer.HasCheckpoint(directory);
        return resume ? trainer.ResumeAsync(relay, cancellationToken) : trainer.TrainAsync(relay, cancellationToken);
    }

    static void Save(LanguageModelRunOptions options, AwdLstmLanguageModel model, Vocabulary vocabulary, bool backwards,
        IReadOnlyList<EpochResult> epochs, string how, string? pretrained = null, IReadOnlyDictionary<string, JsonElement>? extraTraining = null)
    {
        var last = epochs.LastOrDefault(e => e.Validation != null)?.Validation;
        var metrics = new Dictionary<string, double> { ["train_loss"] = epochs.Count > 0 ? epochs[^1].TrainLoss : double.NaN };
        if (last != null)
        {
            metrics["valid_loss"] = last.Loss;
            metrics["valid_perplexity"] = last.Perplexity;
            metrics["valid_accuracy"] = last.Accuracy;
        }
        var training = new Dictionary<string, JsonElement>
        {
            ["stage"] = ModelManifest.Option(how), ["epochs"] = ModelManifest.Option(epochs.Count), ["bptt"] = ModelManifest.Option(options.Bptt),
            ["batch_size"] = ModelManifest.Option(options.BatchSize), ["schedule"] = ModelManifest.Option(options.Schedule.ToString()),
            ["learning_rate"] = ModelManifest.Option(options.LearningRate), ["seed"] = ModelManifest.Option(options.Seed),
            ["tokenizer_version"] = ModelManifest.Option(UlmfitTokenizer.Default.Version),
        };
        if (pretrained != null) training["pretrained_from"] = ModelManifest.Option(Path.GetFullPath(pretrained));
        foreach (var (key, value) in extraTraining ?? new Dictionary<string, JsonElement>()) training[key] = value;
        model.Module.eval();
        LanguageModelFolder.Save(options.OutputDirectory, model, vocabulary, backwards, metrics, training);
    }

    static long ParameterCount(AwdLstmLanguageModel model) => model.parameters().Sum(p => p.numel());

}
