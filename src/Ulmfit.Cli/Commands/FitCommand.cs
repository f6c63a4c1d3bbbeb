using System.CommandLine;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Pipeline;

namespace Ulmfit.Cli.Commands;

/// <summary>`ulmfit fit`: the whole ULMFiT job, LM fine-tuning then the classifier (forward and optionally backward).
/// `ulmfit train-classifier` is stage 3 alone, on a language model that is already fine-tuned (--lm required).</summary>
internal static class FitCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output) => Create(common, output, classifierOnly: false);

    public static Command CreateTrainClassifier(CommonOptions common, IConsoleOutput output) => Create(common, output, classifierOnly: true);

    // The library's defaults are the command's: one source for both.
    static readonly FitOptions Defaults = new() { Train = "", OutputDirectory = "", LanguageModel = null, BackwardLanguageModel = null };

    static Command Create(CommonOptions common, IConsoleOutput output, bool classifierOnly)
    {
        var train = new Option<string>("--train") { Description = "Labelled training documents (CSV with text and label columns).", Required = true };
        var outDir = new Option<string>("--out") { Description = "Folder for the trained model (forward/, backward/, language models).", Required = true }.AsFolder();
        var valid = new Option<string?>("--valid") { Description = "Labelled validation documents (default: --valid-pct of --train)." };
        var validPct = new Option<double?>("--valid-pct") { Description = $"Share of the training set held out for best-epoch selection when --valid is absent; 0 trains on all of it for a fixed schedule (default: the recipe's, 0 below {FitRecipe.FixedScheduleBelow:N0} labelled documents, else 0.1)." };
        var unlabeled = new Option<string[]>("--unlabeled") { Description = $"More of the task's text without labels: LM fine-tuning reads it (at most {FitRecipe.UnlabelledTokenCap:N0} tokens an epoch unless --lm-max-tokens), and below {FitRecipe.FixedScheduleBelow:N0} labelled documents self-training pseudo-labels some of it.", AllowMultipleArgumentsPerToken = true };
        var selfTraining = new Option<string?>("--self-training") { Description = $"on or off: label a sample of --unlabeled with the fitted model and train the classifier again with its most confident predictions added ({FitRecipe.PseudoLabelRatio} per labelled document, balanced per class). Default: on below {FitRecipe.FixedScheduleBelow:N0} labelled documents when --unlabeled is given." };
        var lm = new Option<string?>("--lm") { Description = $"Pretrained forward language model (default: the shipped English one, models/{ShippedLanguageModels.ForwardName})." };
        var backwardsLm = new Option<string?>("--backwards-lm") { Description = $"Pretrained backward language model: also train a backward classifier and ensemble them (default: the shipped one, models/{ShippedLanguageModels.BackwardName})." };
        var fromScratch = new Option<bool>("--from-scratch") { Description = "Use no pretrained language model: the classifier's encoder starts from random weights." };
        var forwardOnly = new Option<bool>("--forward-only") { Description = "Train the forward direction only (no backward model, no ensemble): half the time." };
        var backwardOnly = new Option<bool>("--backward-only") { Description = "Train the backward direction only (--backwards-lm or the shipped one); put its backward/ folder beside a forward/ one trained on the same data to ensemble them." };
        var epochs = new Option<int?>("--epochs") { Description = $"Epochs of the last classifier stage; --unfreeze all/last train 3 + this many (from scratch: all epochs). Default: the recipe's, {FitOptions.DefaultTotalEpochs} epochs in all or more to reach {FitRecipe.MinimumSteps} optimizer steps." };
        var lmEpochs = new Option<int?>("--lm-epochs") { Description = $"LM fine-tuning epochs with everything training (0 skips LM fine-tuning). Default: {FitOptions.DefaultLanguageModelEpochs}." };
        var lr = new Option<double>("--lr") { Description = "Peak rate of the first classifier stage (halving per stage; from scratch a quarter of it).", DefaultValueFactory = _ => Defaults.LearningRate };
        var finalLr = new Option<double?>("--final-lr") { Description = "Rate of gradual unfreezing's last stage, every group training for --epochs (default: --lr/4; docs/results.md)." };
        var multiLabel = new Option<bool>("--multi-label") { Description = "Labels are sets joined with '|' (sigmoid outputs, tuned thresholds)." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Documents per batch (classifier) and parallel streams (LM fine-tuning). Default: the recipe's, about an eighth of the training documents, 8 to 64." };
        var bptt = new Option<int>("--bptt") { Description = "BPT3C chunk length.", DefaultValueFactory = _ => Ulmfit.Training.LanguageModelBatcherOptions.DefaultBptt };
        var maxLen = new Option<int>("--max-len") { Description = "Tokens at the end of each document whose outputs are pooled.", DefaultValueFactory = _ => 1440 };
        var trainSample = new Option<int?>("--train-sample") { Description = "Use only this many labelled documents (seeded, stratified sample; the low-shot setting)." };
        var unfreeze = new Option<string?>("--unfreeze") { Description = $"gradual (the paper: --lr, /2, /4 as groups unfreeze, then everything at --final-lr), all (every layer from the start at --lr/2) or last (the head only, at --lr). Default: the recipe's, all below {FitRecipe.UnfreezeAllBelow:N0} labelled documents, else gradual." };
        var groupFactor = new Option<double>("--group-factor") { Description = "The classifier's discriminative factor per layer group (the paper's: 2.6; 1 = off).", DefaultValueFactory = _ => Defaults.ClassifierGroupFactor };
        var lmSchedule = new Option<string>("--lm-schedule") { Description = "LM fine-tuning schedule: stlr (the paper), one-cycle or constant.", DefaultValueFactory = _ => "stlr" };
        var lmMaxTokens = new Option<long?>("--lm-max-tokens") { Description = $"Cap on LM fine-tuning tokens per epoch (default: all of the labelled text; {FitRecipe.UnlabelledTokenCap:N0} with --unlabeled)." };
        var lmMaxValidTokens = new Option<long?>("--lm-max-valid-tokens") { Description = "Cap on held-out tokens LM fine-tuning scores after each epoch (default: all)." };
        var lmGroupFactor = new Option<double>("--lm-group-factor") { Description = "LM fine-tuning's discriminative factor per layer group (1 = off).", DefaultValueFactory = _ => 2.6 };
        var dropMult = new Option<double>("--drop-mult") { Description = "Scales the classifier's dropouts.", DefaultValueFactory = _ => Defaults.DropMult };
        var labelSmoothing = new Option<double>("--label-smoothing") { Description = "Label smoothing (0 = off).", DefaultValueFactory = _ => 0.0 };
        var balance = new Option<bool>("--balance-classes") { Description = "Weight the loss by inverse class frequency." };
        var patience = new Option<int?>("--early-stopping") { Description = "Stop after this many epochs without a better validation metric." };
        var emb = new Option<int>("--emb") { Description = "From scratch: embedding size.", DefaultValueFactory = _ => Ulmfit.Modeling.AwdLstmConfig.DefaultEmbeddingSize };
        var hidden = new Option<int>("--hidden") { Description = "From scratch: hidden size.", DefaultValueFactory = _ => Ulmfit.Modeling.AwdLstmConfig.DefaultHiddenSize };
        var layers = new Option<int>("--layers") { Description = "From scratch: recurrent (LSTM or QRNN) layers.", DefaultValueFactory = _ => Ulmfit.Modeling.AwdLstmConfig.DefaultLayers };
        var arch = new Option<string?>("--arch") { Description = "awd-lstm or qrnn (default: the language model's own; awd-lstm from scratch). Must match the language model's." };
        var maxVocab = new Option<int>("--max-vocab") { Description = "Largest vocabulary (from scratch or LM fine-tuning).", DefaultValueFactory = _ => 60_000 };
        var inputs = new InputOptions();
        var dtype = new DtypeOption();
        var command = new Command(classifierOnly ? "train-classifier" : "fit", classifierOnly
            ? "Stage 3 only: train the classifier on an already fine-tuned language model (--lm), with gradual unfreezing."
            : "Train a text classifier the ULMFiT way: fine-tune the LM on the task's text, then the classifier. The recipe sizes " +
              $"itself to the labelled data unless told otherwise: below {FitRecipe.FixedScheduleBelow:N0} labelled documents it trains on all of " +
              "them for a fixed schedule (no validation split), below " + $"{FitRecipe.UnfreezeAllBelow:N0} every layer group from the start; " +
              $"the batch is about an eighth of the documents (8 to 64) and the schedule at least {FitRecipe.MinimumSteps} optimizer steps; with " +
              "--unlabeled and few labels it self-trains on confident predictions. The summary (and --json) says what it chose and why.")
        {
            train, outDir, valid, validPct, unlabeled, selfTraining, lm, backwardsLm, fromScratch, forwardOnly, backwardOnly, epochs, lmEpochs, lr, finalLr, multiLabel, batchSize, bptt, maxLen,
            trainSample, unfreeze, groupFactor, lmSchedule, lmGroupFactor, lmMaxTokens, lmMaxValidTokens, dropMult, labelSmoothing, balance, patience, emb, hidden, layers, arch, maxVocab,
        };
        inputs.AddTo(command);
        dtype.AddTo(command);
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, async (context, token) =>
        {
            var parse = context.Parse;
            if (parse.GetValue(fromScratch) && (parse.GetValue(lm) != null || parse.GetValue(backwardsLm) != null))
                throw new OptionException("--from-scratch uses no language model: drop --lm/--backwards-lm, or drop --from-scratch");
            bool onlyBackward = parse.GetValue(backwardOnly);
            if (onlyBackward && (parse.GetValue(forwardOnly) || parse.GetValue(fromScratch) || parse.GetValue(lm) != null))
                throw new OptionException("--backward-only trains from the backward LM alone: drop --forward-only, --from-scratch and --lm (name the LM with --backwards-lm)");
            if (onlyBackward && parse.GetValue(backwardsLm) == null && (classifierOnly || ShippedLanguageModels.Backward == null))
                throw new OptionException($"--backward-only needs a backward language model: --backwards-lm{(classifierOnly ? "" : $", or the shipped models/{ShippedLanguageModels.BackwardName}, which is not installed")}");
            var options = new FitOptions
            {
                Train = parse.GetValue(train)!, OutputDirectory = parse.GetValue(outDir)!, Valid = parse.GetValue(valid),
                ValidFraction = parse.GetValue(validPct), Unlabeled = parse.GetValue(unlabeled) ?? [],
                SelfTraining = parse.GetValue(selfTraining) switch
                {
                    null => null, "on" => true, "off" => false,
                    var other => throw new OptionException($"--self-training must be on or off (got '{other}')"),
                },
                // Shipped LMs fill in only for `fit` and only when no LM is named (a named forward LM has no shipped twin).
                LanguageModel = parse.GetValue(fromScratch) || onlyBackward ? null : parse.GetValue(lm) ?? (classifierOnly ? null : ShippedLanguageModels.Forward),
                BackwardLanguageModel = parse.GetValue(fromScratch) || parse.GetValue(forwardOnly) ? null
                    : parse.GetValue(backwardsLm) ?? (parse.GetValue(lm) == null && !classifierOnly ? ShippedLanguageModels.Backward : null),
                BackwardOnly = onlyBackward,
                Epochs = parse.GetValue(epochs), LanguageModelEpochs = parse.GetValue(lmEpochs),
                LanguageModelMaxTokensPerEpoch = parse.GetValue(lmMaxTokens), LanguageModelMaxValidationTokens = parse.GetValue(lmMaxValidTokens), LearningRate = parse.GetValue(lr),
                FinalLearningRate = parse.GetValue(finalLr),
                MultiLabel = parse.GetValue(multiLabel), BatchSize = parse.GetValue(batchSize), Bptt = parse.GetValue(bptt),
                MaxLength = parse.GetValue(maxLen), TrainSample = parse.GetValue(trainSample),
                Unfreezing = parse.GetValue(unfreeze) switch
                {
                    null => null, "gradual" => UnfreezingMode.Gradual, "all" => UnfreezingMode.All, "last" => UnfreezingMode.LastLayer,
                    var other => throw new OptionException($"--unfreeze must be gradual, all or last (got '{other}')"),
                },
                LanguageModelSchedule = LanguageModelCommandOptions.ParseSchedule(parse.GetValue(lmSchedule)!, "--lm-schedule"),
                LanguageModelGroupFactor = parse.GetValue(lmGroupFactor), ClassifierGroupFactor = parse.GetValue(groupFactor), DropMult = parse.GetValue(dropMult), LabelSmoothing = parse.GetValue(labelSmoothing),
                BalanceClasses = parse.GetValue(balance), EarlyStoppingPatience = parse.GetValue(patience),
                Architecture = parse.GetValue(arch) is { } archName ? EncoderChoices.Architecture(archName) : null,
                EmbeddingSize = parse.GetValue(emb), HiddenSize = parse.GetValue(hidden), Layers = parse.GetValue(layers),
                Vocabulary = new Data.VocabularySettings(parse.GetValue(maxVocab), 3),
                Reader = inputs.Reader(parse, labelsRequired: true), Threads = context.Threads, Seed = (ulong)context.Seed,
                Precision = dtype.Resolve(parse),
            };
            if (classifierOnly)
            {
                if (options.LanguageModel == null && !onlyBackward) throw new OptionException("train-classifier needs --lm (a fine-tuned language model); use 'fit' to train from scratch");
                options = options with { LanguageModelEpochs = 0 };
            }
            options.Validate(); // before the notices below, so that a bad setting is the only line printed
            if (onlyBackward)
                output.Info($"language model: backward {options.BackwardLanguageModel} (backward only)");
            else if (options.LanguageModel == null && !parse.GetValue(fromScratch))
                output.Info($"notice: no pretrained language model given (--lm) and the shipped one (models/{ShippedLanguageModels.ForwardName}) is not installed: the classifier trains from scratch, without ULMFiT's transfer");
            else if (options.LanguageModel != null)
                output.Info($"language models: forward {options.LanguageModel}" + (options.BackwardLanguageModel is { } b ? $", backward {b} (ensembled)" : " (forward only)"));
            var result = await ClassifierPipeline.FitAsync(options, Progress(output), cancellationToken: token);
            return Summarise(result, output);
        }, interruptNote: CommandRunner.SavesOnlyLanguageModelFineTuning);
        return command;
    }

    static IProgress<FitProgress> Progress(IConsoleOutput output)
    {
        var lm = LanguageModelCommandOptions.Progress(output);
        return new InlineProgress<FitProgress>(p =>
        {
            if (p.Warning is { } inputWarning) output.Info($"warning: {inputWarning}");
            else if (p.LanguageModel is { } l) lm.Report(l with { Stage = $"{p.Direction} {l.Stage}" });
            else if (p.Classifier is { } c)
            {
                string eta = c.Remaining is { } r ? $"ETA {r:hh\\:mm\\:ss}" : "ETA --";
                output.Status($"{p.Direction} classifier stage {c.Stage + 1}/{c.StageCount} ({c.TrainableGroups} groups) epoch {c.Epoch + 1}/{c.EpochCount} " +
                              $"step {c.Step:N0}/{c.TotalSteps:N0}  loss {c.SmoothedLoss:F3}  lr {c.LearningRate:G3}  {c.DocumentsPerSecond:N1} docs/s  {eta}");
                if (c.Divergence is { } warning) output.Info($"warning: {p.Direction} classifier: {warning.Message} (--lr)");
            }
        });
    }

    static CommandSummary Summarise(FitResult result, IConsoleOutput output)
    {
        foreach (var d in result.Directions)
        {
            foreach (var e in d.Training.Epochs)
                output.Info($"{d.Direction} stage {e.Stage + 1} ({e.TrainableGroups} groups) epoch {e.Epoch + 1}: train loss {e.TrainLoss:F4}" +
                            (e.ValidAccuracy is double a ? $", valid loss {e.ValidLoss:F4}, accuracy {a:P2}" : "") + $", {e.DocumentsPerSecond:N1} docs/s");
            output.Info($"{d.Direction} classifier saved to {d.ModelDirectory}");
        }
        output.Info(result.Recipe.Describe());
        if (result.SelfTraining is { } self)
            output.Info(self.PseudoLabelled == 0
                ? $"self-training skipped: the model predicted one class for all {self.Candidates:N0} unlabelled candidates"
                : $"self-training: {self.PseudoLabelled:N0} pseudo-labelled documents from {self.Candidates:N0} unlabelled candidates; second classifier: {self.Recipe.Describe()}");
        output.Result(result.ValidAccuracy is double acc
            ? $"validation accuracy {acc:P2} (error {1 - acc:P2}); model: {result.ModelDirectory}"
            : $"model: {result.ModelDirectory} (no validation set)");
        return new CommandSummary
        {
            ["valid_accuracy"] = result.ValidAccuracy,
            ["valid_error"] = result.ValidAccuracy is double a2 ? 1 - a2 : null,
            ["directions"] = result.Directions.Select(d => new Dictionary<string, object?>
            {
                ["direction"] = d.Direction, ["model"] = d.ModelDirectory,
                ["valid_accuracy"] = d.Training.Validation?.Accuracy, ["valid_macro_f1"] = d.Training.Validation?.MacroF1,
                ["best_epoch"] = d.Training.BestEpoch, ["epochs"] = d.Training.Epochs.Count,
                ["train_docs_per_s"] = Math.Round(d.Training.DocumentsPerSecond, 2),
                ["lm_valid_perplexity"] = d.LanguageModel?.FinalValidation?.Perplexity,
            }).ToList(),
            ["recipe"] = new Dictionary<string, object?>
            {
                ["labelled_documents"] = result.Recipe.Profile.LabelledDocuments, ["classes"] = result.Recipe.Profile.Classes,
                ["smallest_class"] = result.Recipe.Profile.SmallestClass, ["median_words"] = result.Recipe.Profile.MedianWords,
                ["batch_size"] = result.Recipe.BatchSize, ["unfreeze"] = FitRecipe.Name(result.Recipe.Unfreezing),
                ["classifier_epochs"] = result.Recipe.FinalStageEpochs + 3, ["planned_steps"] = result.Recipe.PlannedSteps,
                ["valid_fraction"] = result.Recipe.ValidFraction, ["selection"] = result.Recipe.Selection,
                ["lm_epochs"] = result.Recipe.LanguageModelEpochs, ["lm_max_tokens_per_epoch"] = result.Recipe.LanguageModelMaxTokensPerEpoch,
                ["pseudo_labels_per_class"] = result.Recipe.PseudoLabelsPerClass, ["reasons"] = result.Recipe.Reasons,
            },
            ["self_training"] = result.SelfTraining is not { } st ? null : new Dictionary<string, object?>
            {
                ["candidates"] = st.Candidates, ["pseudo_labelled"] = st.PseudoLabelled,
                ["batch_size"] = st.Recipe.BatchSize, ["classifier_epochs"] = st.Recipe.FinalStageEpochs + 3, ["reasons"] = st.Recipe.Reasons,
            },
            ["stage_seconds"] = result.StageSeconds.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 2)),
            ["elapsed_s"] = Math.Round(result.Elapsed.TotalSeconds, 2),
            ["model"] = result.ModelDirectory,
        };
    }
}
