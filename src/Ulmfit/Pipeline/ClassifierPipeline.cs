using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.IO;
using Ulmfit.Modeling;
using Ulmfit.Text;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Pipeline;

/// <summary>Progress of a fit: which direction and stage, and the underlying LM or classifier progress; or, with
/// neither, a <paramref name="Warning"/> about the input (empty rows skipped), reported before any training.</summary>
public sealed record FitProgress(string Direction, string Stage, LanguageModelRunProgress? LanguageModel, ClassifierProgress? Classifier,
    string? Warning = null);

/// <summary>One direction's (forward or backward) outcome.</summary>
/// <param name="Direction">"forward" or "backward".</param>
/// <param name="ModelDirectory">Where the classifier package was saved.</param>
/// <param name="Training">The classifier run: epochs, stages, best validation measurement.</param>
/// <param name="LanguageModel">The LM fine-tuning run, when there was one.</param>
/// <param name="ValidationLabels">Single-label runs with a validation file: the true class of every validation document.</param>
public sealed record FitDirectionResult(string Direction, string ModelDirectory, ClassifierTrainingResult Training,
    LanguageModelRunResult? LanguageModel, int[]? ValidationLabels);

/// <summary>The outcome of <see cref="ClassifierPipeline.FitAsync"/>.</summary>
/// <param name="ModelDirectory">The folder <c>predict</c> and <c>evaluate</c> take (forward/ and optionally backward/).</param>
/// <param name="Directions">Forward first.</param>
/// <param name="ValidAccuracy">Validation accuracy of the forward model, or of the ensemble when there are two.</param>
/// <param name="StageSeconds">Wall time per stage.</param>
/// <param name="Elapsed">Wall time of the whole fit.</param>
/// <param name="Recipe">What the recipe chose for this data, and why.</param>
/// <param name="SelfTraining">The self-training round, when there was one (<see cref="Directions"/> are then its classifiers).</param>
public sealed record FitResult(string ModelDirectory, IReadOnlyList<FitDirectionResult> Directions, double? ValidAccuracy,
    IReadOnlyDictionary<string, double> StageSeconds, TimeSpan Elapsed, FitRecipe Recipe, SelfTrainingResult? SelfTraining = null);

/// <summary>A self-training round: how many unlabelled documents were scored and how many joined the labelled ones.</summary>
/// <param name="Candidates">Unlabelled documents the first model labelled.</param>
/// <param name="PseudoLabelled">Of those, the confident ones trained on (the same number per class).</param>
/// <param name="Recipe">The second classifier's recipe (sized for the labelled plus pseudo-labelled documents).</param>
/// <param name="FirstRound">The classifiers before self-training.</param>
public sealed record SelfTrainingResult(int Candidates, int PseudoLabelled, FitRecipe Recipe, IReadOnlyList<FitDirectionResult> FirstRound);

/// <summary>
/// The whole ULMFiT job from files: fine-tune the pretrained LM on every bit of the task's text (stage 2), then train
/// the classifier on its encoder with gradual unfreezing, discriminative rates and per-stage schedules (stage 3);
/// the same again backward when a backward LM is given. Without an LM, the classifier trains from scratch.
/// </summary>
public static class ClassifierPipeline
{
    public const string ForwardFolder = "forward";
    public const string BackwardFolder = "backward";
    public const string SampleFile = "train-sample.csv";
    public const string SelfTrainingFile = "train-self-training.csv";

    public static async Task<FitResult> FitAsync(FitOptions options, IProgress<FitProgress>? progress = null, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        var stages = new Dictionary<string, double>();
        RequireTwoClasses(options, progress, logger ?? NullLogger.Instance);
        DataProfile? profile = null;
        if (options.TrainSample is int sample)
        {
            // Materialised once, before either direction: both LMs fine-tune on, and both classifiers learn from, the
            // very same labelled documents.
            string path = Path.Combine(options.OutputDirectory, SampleFile);
            var all = DocumentReader.Read(options.Train, options.Reader).ToList();
            if (sample > all.Count)
                throw new InvalidInputException(options.Train, null, null, $"holds {all.Count:N0} labelled documents, fewer than the training sample of {sample:N0} asked for");
            var picked = LabelledSample.Pick(all, sample, Xoshiro256StarStar.DeriveSeed(options.Seed, 7));
            LabelledSample.WriteCsv(picked, options.Reader, path);
            profile = DataProfile.Of(picked, options.MultiLabel, options.Valid != null);
            options = options with { Train = path };
        }
        profile ??= DataProfile.Read(options.Train, options.Reader, options.MultiLabel, options.Valid != null);
        var recipe = FitRecipe.Choose(profile, options);
        logger?.LogInformation("{Recipe}", recipe.Describe());
        var directions = new List<FitDirectionResult>();
        if (!options.BackwardOnly)
            directions.Add(await FitDirection(options, recipe, ForwardFolder, options.LanguageModel, backwards: false, stages, progress, logger, cancellationToken));
        if (options.BackwardLanguageModel != null)
            directions.Add(await FitDirection(options, recipe, BackwardFolder, options.BackwardLanguageModel, backwards: true, stages, progress, logger, cancellationToken));

        // A forward-only run into a folder that held a forward + backward model must not leave the old backward
        // classifier there: evaluate and predict would average it in. (A backward-only run keeps a forward/ beside
        // it: that is how the two directions are trained one per core and then ensembled.)
        string staleBackward = Path.Combine(options.OutputDirectory, BackwardFolder);
        if (!options.BackwardOnly && options.BackwardLanguageModel == null && LanguageModelFolder.Exists(staleBackward))
        {
            logger?.LogWarning("removed the backward classifier of an earlier run from {Folder}: this run trained the forward direction only", staleBackward);
            Directory.Delete(staleBackward, recursive: true);
        }

        SelfTrainingResult? selfTraining = null;
        if (recipe.PseudoLabelsPerClass > 0)
            (directions, selfTraining) = await SelfTrain(options, recipe, directions, stages, progress, logger, cancellationToken);

        double? accuracy = directions[0].Training.Validation?.Accuracy;
        if (directions.Count == 2 && directions.All(d => d.Training.Validation != null) && directions[0].ValidationLabels is { } labels)
        {
            // Both directions measured the same validation documents in file order: average their probabilities.
            var averaged = ClassifierEnsemble.Average([.. directions.Select(d => d.Training.Validation!.Probabilities)]);
            accuracy = EnsembleAccuracy(averaged, labels);
        }
        return new FitResult(options.OutputDirectory, directions, accuracy, stages, clock.Elapsed, recipe, selfTraining);
    }

    // Self-training: the fitted model (the ensemble when there are two directions) labels a seeded sample of the
    // unlabelled documents; its most confident predictions, balanced per class, join the labelled documents, and each
    // direction's classifier trains again on them from its fine-tuned LM (no second LM fine-tuning).
    static async Task<(List<FitDirectionResult>, SelfTrainingResult)> SelfTrain(FitOptions o, FitRecipe recipe, List<FitDirectionResult> first,
        Dictionary<string, double> stages, IProgress<FitProgress>? progress, ILogger? logger, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        var unlabelledReader = o.Reader with { LabelRequired = false };
        var pool = o.Unlabeled.SelectMany(f => DocumentReader.Read(f, unlabelledReader)).Where(d => d.Fields.Any(f => !string.IsNullOrWhiteSpace(f))).ToList();
        var candidates = LabelledSample.Pick(pool, Math.Min(pool.Count, recipe.PseudoLabelCandidates), Xoshiro256StarStar.DeriveSeed(o.Seed, 11));
        IReadOnlyList<TextDocument> pseudo;
        using (var fitted = FittedModel.Load(o.OutputDirectory))
            pseudo = PseudoLabels.Pick(candidates, fitted.Predict(candidates, token), fitted.Classes, recipe.PseudoLabelsPerClass);
        stages["self_training_labelling"] = clock.Elapsed.TotalSeconds;
        if (pseudo.Count == 0)
        {
            // The first model predicted a single class for every candidate: nothing balanced to add.
            logger?.LogWarning("self-training skipped: the model predicted one class for all {Candidates} unlabelled candidates", candidates.Count);
            return (first, new SelfTrainingResult(candidates.Count, 0, recipe, first));
        }
        var training = DocumentReader.Read(o.Train, o.Reader).Concat(pseudo).ToList();
        string path = Path.Combine(o.OutputDirectory, SelfTrainingFile);
        LabelledSample.WriteCsv(training, o.Reader, path);

        var again = o with { Train = path, LanguageModelEpochs = 0, TrainSample = null };
        var second = FitRecipe.Choose(DataProfile.Of(training, o.MultiLabel, o.Valid != null), again) with { PseudoLabelsPerClass = 0 };
        logger?.LogInformation("self-training: {Pseudo} pseudo-labelled documents from {Candidates} candidates; {Recipe}", pseudo.Count, candidates.Count, second.Describe());
        var directions = new List<FitDirectionResult>();
        foreach (var d in first)
        {
            string lm = d.LanguageModel?.ModelDirectory ?? (d.Direction == BackwardFolder ? o.BackwardLanguageModel : o.LanguageModel)!;
            var stageSeconds = new Dictionary<string, double>();
            directions.Add(await FitDirection(again, second, d.Direction, lm, backwards: d.Direction == BackwardFolder, stageSeconds, progress, logger, token) with { LanguageModel = d.LanguageModel });
            foreach (var (key, seconds) in stageSeconds) stages[$"self_training_{key}"] = seconds;
        }
        return (directions, new SelfTrainingResult(candidates.Count, pseudo.Count, second, first));
    }

    // A one-class label column, or an unlabelled file without a document, is found before LM fine-tuning spends
    // minutes on the text, not after; empty rows, which training skips, are counted and reported here once.
    static void RequireTwoClasses(FitOptions o, IProgress<FitProgress>? progress, ILogger logger)
    {
        foreach (string file in o.Unlabeled)
            if (!DocumentReader.Read(file, o.Reader with { LabelRequired = false }).Any())
                throw new InvalidInputException(file, null, null, "holds no documents: an unlabelled file needs at least one (or drop it from --unlabeled)");
        var classes = new HashSet<string>(StringComparer.Ordinal);
        var report = new ReadReport();
        foreach (var document in DocumentReader.Read(o.Train, o.Reader, report))
            foreach (string label in DataProfile.LabelsOf(document, o.MultiLabel)) classes.Add(label);
        if (report.Warning is { } skipped)
        {
            logger.LogWarning("{File}: {Warning}", o.Train, skipped);
            progress?.Report(new FitProgress("", "read", null, null, $"{o.Train}: {skipped}"));
        }
        if (report.Documents == 0)
            throw new InvalidInputException(o.Train, null, null, "holds no labelled documents (a header row at most): a classifier needs at least two classes of them");
        if (classes.Count < 2)
            throw new InvalidInputException(o.Train, null, null, $"the label column has only one class ('{classes.FirstOrDefault()}'): a classifier needs at least two");
    }

    static double EnsembleAccuracy(float[][] probabilities, int[] labels)
    {
        int correct = 0;
        for (int i = 0; i < probabilities.Length; i++)
            if (labels[i] == ClassifierEvaluation.ArgMax(probabilities[i])) correct++;
        return probabilities.Length == 0 ? 0 : (double)correct / probabilities.Length;
    }

    static async Task<FitDirectionResult> FitDirection(FitOptions o, FitRecipe recipe, string direction, string? languageModel, bool backwards,
        Dictionary<string, double> stages, IProgress<FitProgress>? progress, ILogger? logger, CancellationToken token)
    {
        var stageClock = Stopwatch.StartNew();
        LanguageModelRunResult? tuned = null;
        string? lmPath = languageModel;
        // Checked before any fine-tuning spends time on the text.
        if (languageModel != null && o.Architecture is { } wanted
            && ModelPackage.ReadManifest(languageModel).Architecture.Architecture is var actual && actual != wanted)
            throw new InvalidInputException(languageModel, null, null,
                $"holds a language model of architecture '{actual.Name()}', but the classifier was asked to be '{wanted.Name()}' (drop --arch, or train from scratch)");
        if (languageModel != null && recipe.LanguageModelEpochs > 0)
        {
            var inputs = new List<string> { o.Train };
            if (o.Valid != null) inputs.Add(o.Valid);
            inputs.AddRange(o.Unlabeled);
            tuned = await LanguageModelPipeline.FineTuneAsync(new FineTuneOptions
            {
                PretrainedModel = languageModel, Inputs = inputs, OutputDirectory = Path.Combine(o.OutputDirectory, $"lm-{direction}"),
                Epochs = recipe.LanguageModelEpochs, MaxTokensPerEpoch = recipe.LanguageModelMaxTokensPerEpoch, MaxValidationTokens = o.LanguageModelMaxValidationTokens, Reader = o.Reader with { LabelRequired = false }, Threads = o.Threads, Seed = o.Seed, Precision = o.Precision,
                Bptt = o.Bptt, BatchSize = recipe.BatchSize, Vocabulary = o.Vocabulary,
                Schedule = o.LanguageModelSchedule, GroupFactor = o.LanguageModelGroupFactor,
                Resume = Directory.Exists(Path.Combine(o.OutputDirectory, $"lm-{direction}", "checkpoints")),
            }, progress == null ? null : new InlineProgress<LanguageModelRunProgress>(p => progress.Report(new(direction, "finetune-lm", p, null))), logger, token);
            lmPath = tuned.ModelDirectory;
            stages[$"{direction}_finetune_lm"] = stageClock.Elapsed.TotalSeconds;
            stageClock.Restart();
        }

        AwdLstmLanguageModel? lm = null;
        Vocabulary? vocabulary = null;
        if (lmPath != null) (lm, vocabulary, _) = LanguageModelFolder.Load(lmPath, AwdLstmDropouts.None);
        try
        {
            string cache = Path.Combine(o.OutputDirectory, "token-cache");
            var builder = new TokenStoreBuilderOptions { Threads = o.Threads };
            var train = TokenStoreCache.GetOrBuild(new TokenizeRequest(o.Train) { Reader = o.Reader, Vocabulary = vocabulary, VocabularySettings = o.Vocabulary },
                Path.Combine(cache, $"train-{direction}.ulmtok"), UlmfitTokenizer.Default, builder, token);
            vocabulary = train.Vocabulary;
            using var trainStore = TokenStore.Open(train.StorePath, vocabulary);
            var training = ClassificationDataset.FromTokenStore(trainStore, multiLabel: o.MultiLabel);
            if (training.Classes.Count < 2)
                throw new InvalidInputException(o.Train, null, null, $"the label column has only one class ('{training.Classes.FirstOrDefault()}'): a classifier needs at least two");
            TokenStore? validStore = null;
            ClassificationDataset? validation = null;
            if (o.Valid != null)
            {
                var valid = TokenStoreCache.GetOrBuild(new TokenizeRequest(o.Valid) { Reader = o.Reader, Vocabulary = vocabulary },
                    Path.Combine(cache, $"valid-{direction}.ulmtok"), UlmfitTokenizer.Default, builder, token);
                validStore = TokenStore.Open(valid.StorePath, vocabulary);
                validation = ClassificationDataset.FromTokenStore(validStore, training.Classes, o.MultiLabel);
            }
            using (validStore)
            {
                stages[$"{direction}_tokenize"] = stageClock.Elapsed.TotalSeconds;
                stageClock.Restart();
                manual_seed((long)o.Seed);
                var config = lm != null
                    ? TextClassifierConfig.ForLanguageModel(lm.Config, training.Classes, o.DropMult, o.MultiLabel, backwards)
                    : new TextClassifierConfig(AwdLstmConfig.ForClassifier(vocabulary.Count, o.DropMult) with
                        { Architecture = o.Architecture ?? EncoderArchitecture.AwdLstm, EmbeddingSize = o.EmbeddingSize, HiddenSize = o.HiddenSize, Layers = o.Layers }, training.Classes)
                        { MultiLabel = o.MultiLabel, Backwards = backwards };
                config = config with { Bptt = o.Bptt, MaxLength = o.MaxLength };
                using var classifier = new TextClassifier(config);
                if (lm != null) classifier.LoadEncoderWeights(lm);
                classifier.SetComputePrecision(o.Precision);
                lm?.Dispose();
                lm = null;

                var trainer = new ClassifierTrainer(classifier, training, validation, TrainerOptions(o, recipe, pretrained: lmPath != null, training), logger);
                var result = await trainer.TrainAsync(progress == null ? null : new InlineProgress<ClassifierProgress>(p => progress.Report(new(direction, "classifier", null, p))), token);
                stages[$"{direction}_classifier"] = stageClock.Elapsed.TotalSeconds;

                string folder = Path.Combine(o.OutputDirectory, direction);
                var metrics = new Dictionary<string, double>();
                if (result.Validation is { } v)
                {
                    metrics["valid_accuracy"] = v.Accuracy;
                    metrics["valid_error"] = v.ErrorRate;
                    metrics["valid_macro_f1"] = v.MacroF1;
                }
                ClassifierFolder.Save(folder, classifier, vocabulary, metrics, new Dictionary<string, JsonElement>
                {
                    ["pretrained_lm"] = ModelManifest.Option(lmPath != null ? Path.GetFullPath(lmPath) : "none (trained from scratch)"),
                    ["epochs"] = ModelManifest.Option(result.Epochs.Count),
                    ["train_documents"] = ModelManifest.Option(result.TrainingDocuments),
                    ["seed"] = ModelManifest.Option(o.Seed),
                });
                int[]? labels = validation != null && !o.MultiLabel ? [.. Enumerable.Range(0, validation.Count).Select(validation.Label)] : null;
                return new FitDirectionResult(direction, folder, result, tuned, labels);
            }
        }
        finally
        {
            lm?.Dispose();
        }
    }

    internal static ClassifierTrainerOptions TrainerOptions(FitOptions o, FitRecipe recipe, bool pretrained, ClassificationDataset training)
    {
        double lr = o.LearningRate;
        // fastai's ULMFiT recipe (2e-2, 1e-2, 5e-3, then 1e-3 for everything) scaled by the first stage's rate; from
        // scratch there is nothing to protect, so everything trains at once at a quarter of it, one rate for all groups.
        // The ablations keep the gradual recipe's epoch count: "all" at the rate of its second stage (everything moves,
        // so the head's first-stage rate would wreck the encoder), "last" at the head's own rate.
        double finalRate = o.FinalLearningRate ?? FitOptions.DefaultFinalLearningRate(lr);
        // The recipe counts epochs as 3 + the last stage's; from scratch that whole count is the one stage's.
        int epochs = recipe.FinalStageEpochs;
        IReadOnlyList<UnfreezingStage> stages = !pretrained ? UnfreezingStage.AllAtOnce(3 + epochs, lr / 4) : recipe.Unfreezing switch
        {
            UnfreezingMode.All => UnfreezingStage.AllAtOnce(3 + epochs, lr / 2),
            UnfreezingMode.LastLayer => [new(1, 3 + epochs, lr)],
            _ => [new(1, 1, lr), new(2, 1, lr / 2), new(3, 1, lr / 4), new(null, epochs, finalRate)],
        };
        return new ClassifierTrainerOptions
        {
            Stages = stages,
            Schedule = o.Schedule,
            GroupLearningRateFactor = pretrained ? o.ClassifierGroupFactor : 1,
            LabelSmoothing = o.LabelSmoothing,
            ClassWeights = o.BalanceClasses ? ClassifierTrainerOptions.BalancedClassWeights(training.ClassCounts()) : null,
            Batching = new ClassifierBatchingOptions { BatchSize = recipe.BatchSize },
            ValidFraction = o.Valid == null ? recipe.ValidFraction : 0,
            EarlyStoppingPatience = o.EarlyStoppingPatience,
            TuneThresholds = o.MultiLabel,
            Seed = (long)o.Seed,
        };
    }
}
