using System.CommandLine;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Pipeline;

namespace Ulmfit.Cli.Commands;

/// <summary>
/// `ulmfit demo`: the whole job on the bundled sample data set (support-ticket messages we wrote), on shipped
/// defaults, in a few minutes on two cores: the shipped pretrained LMs (stage 1), LM fine-tuning on the sample's text,
/// the forward and backward classifiers and their ensemble, test accuracy.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        var outDir = new Option<string>("--out") { Description = "Folder for everything the demo writes.", DefaultValueFactory = _ => Path.Combine("runs", "demo") }.AsFolder();
        var command = new Command("demo", "Run ULMFiT end to end on the bundled sample data set (samples/support-tickets).") { outDir };
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, async (context, token) =>
        {
            string samples = SampleFolder();
            string root = context.Parse.GetValue(outDir)!;
            string train = Path.Combine(samples, "train.csv"), unlabeled = Path.Combine(samples, "unlabeled.csv");
            var progress = LanguageModelCommandOptions.Progress(output);
            var (forwardLm, backwardLm, pretrained) = await Stage1(samples, root, context, output, progress, token);
            output.Info("stages 2 and 3: LM fine-tuning on all the sample's text, then the classifier with gradual unfreezing");
            var fit = await ClassifierPipeline.FitAsync(new FitOptions
            {
                Train = train, Unlabeled = [unlabeled], LanguageModel = forwardLm, BackwardLanguageModel = backwardLm, OutputDirectory = Path.Combine(root, "model"),
                LanguageModelEpochs = 3, Epochs = 3, Bptt = 20, BatchSize = 16, Vocabulary = new(4_000, 2),
                // The demo shows the paper's stage 3 and a validation score, whatever the recipe would pick for its size.
                Unfreezing = UnfreezingMode.Gradual, ValidFraction = 0.1,
                Threads = context.Threads, Seed = (ulong)context.Seed,
            }, cancellationToken: token);
            output.Info($"validation accuracy {fit.ValidAccuracy:P2}");

            string test = Path.Combine(samples, "test.csv");
            using var fitted = FittedModel.Load(fit.ModelDirectory);
            var documents = Data.DocumentReader.Read(test, new Data.DocumentReaderOptions { LabelRequired = true }).ToList();
            var predictions = fitted.Predict(documents, token);
            int correct = documents.Zip(predictions).Count(x => x.First.Label == x.Second.Label);
            double accuracy = (double)correct / documents.Count;
            string majority = documents.GroupBy(d => d.Label).MaxBy(g => g.Count())!.Key!;
            double baseline = (double)documents.Count(d => d.Label == majority) / documents.Count;
            var example = fitted.Predict(["Hi, I was charged twice for order 1234, can I get a refund?"])[0];
            output.Result($"test accuracy {accuracy:P2} on {documents.Count} held-out messages (majority class '{majority}': {baseline:P2}); " +
                          $"\"charged twice … refund?\" -> {example.Label} ({example.Probabilities[example.ClassIndex]:P0}). Model: {fit.ModelDirectory}");
            var summary = new CommandSummary
            {
                ["test_accuracy"] = accuracy, ["majority_baseline"] = baseline, ["valid_accuracy"] = fit.ValidAccuracy,
                ["model"] = fit.ModelDirectory, ["elapsed_s"] = Math.Round(fit.Elapsed.TotalSeconds + (pretrained?.Elapsed.TotalSeconds ?? 0), 1),
                ["language_models"] = backwardLm == null ? forwardLm : $"{forwardLm}, {backwardLm}",
            };
            summary["pretrain_valid_perplexity"] = pretrained?.FinalValidation?.Perplexity;
            return summary;
        }, interruptNote: CommandRunner.SavesOnlyLanguageModelFineTuning);
        return command;
    }

    // Stage 1 is the shipped English LMs when they are installed (the real ULMFiT path); without them a small LM is
    // pretrained on the sample's own text so the demo still shows all three stages.
    static async Task<(string Forward, string? Backward, LanguageModelRunResult? Pretrained)> Stage1(string samples, string root, CommandContext context,
        IConsoleOutput output, IProgress<LanguageModelRunProgress> progress, CancellationToken token)
    {
        if (ShippedLanguageModels.Forward is { } forward)
        {
            output.Info($"stage 1: the shipped pretrained English language models ({forward}" +
                        (ShippedLanguageModels.Backward is { } b ? $", {b})" : ")"));
            return (forward, ShippedLanguageModels.Backward, null);
        }
        output.Info("the shipped English LMs (models/) are not installed: stage 1 trains a small LM on the sample's own text");
        var shape = new PretrainOptions
        {
            Inputs = [Path.Combine(samples, "unlabeled.csv"), Path.Combine(samples, "train.csv")], OutputDirectory = Path.Combine(root, "lm-pretrained"),
            EmbeddingSize = 64, HiddenSize = 256, Layers = 3, Epochs = 6, Bptt = 20, BatchSize = 16,
            LearningRate = 2e-2, Schedule = ScheduleKind.OneCycle, Vocabulary = new(4_000, 2), Threads = context.Threads,
            Seed = (ulong)context.Seed, Resume = Directory.Exists(Path.Combine(root, "lm-pretrained", "checkpoints")),
        };
        output.Info("stage 1: language-model pretraining");
        var pretrained = await LanguageModelPipeline.PretrainAsync(shape, progress, cancellationToken: token);
        LanguageModelCommandOptions.Summarise(pretrained, output);
        return (pretrained.ModelDirectory, null, pretrained);
    }

    static string SampleFolder()
    {
        foreach (string candidate in new[] { Path.Combine(AppContext.BaseDirectory, "samples", "support-tickets"), Path.Combine("samples", "support-tickets") })
            if (File.Exists(Path.Combine(candidate, "train.csv"))) return candidate;
        throw new OptionException("the sample data set (samples/support-tickets) was not found next to the program");
    }
}
