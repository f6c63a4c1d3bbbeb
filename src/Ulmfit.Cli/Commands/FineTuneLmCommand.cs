using System.CommandLine;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Pipeline;
using Ulmfit.Training;

namespace Ulmfit.Cli.Commands;

/// <summary>`ulmfit finetune-lm`: ULMFiT stage 2, a pretrained language model adapted to the task's text.</summary>
internal static class FineTuneLmCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        var lm = new Option<string>("--lm") { Description = "Folder of the pretrained language model.", Required = true };
        var input = new Option<string[]>("--input") { Description = "The task's text (labelled and unlabelled files).", Required = true, AllowMultipleArgumentsPerToken = true };
        var frozenEpochs = new Option<int>("--frozen-epochs") { Description = "Epochs training only the embedding/decoder first.", DefaultValueFactory = _ => 1 };
        var frozenLr = new Option<double>("--frozen-lr") { Description = "Peak rate of the frozen epochs.", DefaultValueFactory = _ => 2e-2 };
        var shared = new LanguageModelCommandOptions(DiscriminativeLearningRates.PaperFactor);
        var command = new Command("finetune-lm", "Stage 2: fine-tune a pretrained language model on the target task's text.") { lm, input, frozenEpochs, frozenLr };
        shared.AddTo(command);
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, async (context, token) =>
        {
            var parse = context.Parse;
            var options = shared.Apply(new FineTuneOptions
            {
                PretrainedModel = parse.GetValue(lm)!,
                Inputs = parse.GetValue(input)!,
                OutputDirectory = parse.GetValue(shared.Out)!,
                FrozenEpochs = parse.GetValue(frozenEpochs),
                FrozenLearningRate = parse.GetValue(frozenLr),
            }, parse, context);
            var result = await LanguageModelPipeline.FineTuneAsync(options, LanguageModelCommandOptions.Progress(output), new WarningLogger(output), token);
            return LanguageModelCommandOptions.Summarise(result, output);
        }, interruptNote: CommandRunner.SavesACheckpoint);
        return command;
    }
}
