using System.CommandLine;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Modeling;
using Ulmfit.Pipeline;

namespace Ulmfit.Cli.Commands;

/// <summary>
/// `ulmfit demo`: the whole job on the bundled sample data set (support-ticket messages we wrote), on shipped
/// defaults, in a couple of minutes on two cores. Until a pretrained English LM ships, stage 1 trains a small LM on
/// the sample's own text.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        var outDir = new Option<string>("--out") { Description = "Folder for everything the demo writes.", DefaultValueFactory = _ => Path.Combine("runs", "demo") };
        var command = new Command("demo", "Run ULMFiT end to end on the bundled sample data set (samples/support-tickets).") { outDir };
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, async (context, token) =>
        {
            string samples = SampleFolder();
            string root = context.Parse.GetValue(outDir)!;
            string train = Path.Combine(samples, "train.csv"), unlabeled = Path.Combine(samples, "unlabeled.csv");
            var progress = LanguageModelCommandOptions.Progress(output);
            output.Info("no pretrained English LM ships yet: stage 1 trains a small LM on the sample's own text");
            var shape = new PretrainOptions
            {
                Inputs = [unlabeled, train], OutputDirectory = Path.Combine(root, "lm-pretrained"),
                EmbeddingSize = 64, HiddenSize = 256, Layers = 3, Epochs = 6, Bptt = 20, BatchSize = 16,
                LearningRate = 2e-2, Schedule = ScheduleKind.OneCycle, Vocabulary = new(4_000, 2), Threads = context.Threads,
                Seed = (ulong)context.Seed, Resume = Directory.Exists(Path.Combine(root, "lm-pretrained", "checkpoints")),
            };
            output.Info("stage 1: language-model pretraining");
            var pretrained = await LanguageModelPipeline.PretrainAsync(shape, progress, cancellationToken: token);
            LanguageModelCommandOptions.Summarise(pretrained, output);

            output.Info("stage 2: language-model fine-tuning on the labelled messages");
            var tuned = await LanguageModelPipeline.FineTuneAsync(new FineTuneOptions
            {
                PretrainedModel = pretrained.ModelDirectory, Inputs = [train], OutputDirectory = Path.Combine(root, "lm-finetuned"),
                Epochs = 3, Bptt = 20, BatchSize = 16, LearningRate = 1e-2, Schedule = ScheduleKind.OneCycle,
                Vocabulary = new(4_000, 2), Threads = context.Threads, Seed = (ulong)context.Seed,
                Resume = Directory.Exists(Path.Combine(root, "lm-finetuned", "checkpoints")),
            }, progress, cancellationToken: token);
            var summary = LanguageModelCommandOptions.Summarise(tuned, output);

            var (model, vocabulary, manifest) = LanguageModelFolder.Load(tuned.ModelDirectory, AwdLstmDropouts.None);
            using (model)
            {
                string sample = TextGenerator.Generate(model, vocabulary, manifest.Architecture.Backwards, "Hi, my order",
                    new GenerationOptions { Tokens = 25, Seed = context.Seed });
                output.Result($"sample from the fine-tuned LM: {sample}");
                summary["generated"] = sample;
            }
            summary["pretrain_valid_perplexity"] = pretrained.FinalValidation?.Perplexity;
            return summary;
        });
        return command;
    }

    static string SampleFolder()
    {
        foreach (string candidate in new[] { Path.Combine(AppContext.BaseDirectory, "samples", "support-tickets"), Path.Combine("samples", "support-tickets") })
            if (File.Exists(Path.Combine(candidate, "train.csv"))) return candidate;
        throw new OptionException("the sample data set (samples/support-tickets) was not found next to the program");
    }
}
