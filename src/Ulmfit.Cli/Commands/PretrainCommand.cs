using System.CommandLine;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Pipeline;

namespace Ulmfit.Cli.Commands;

/// <summary>`ulmfit pretrain`: ULMFiT stage 1, a language model from scratch on general-domain text.</summary>
internal static class PretrainCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        var corpus = new Option<string[]>("--corpus") { Description = "Training text: files, a folder of .txt files, or a corpus folder with train-*/valid* files.", Required = true, AllowMultipleArgumentsPerToken = true };
        var emb = new Option<int>("--emb") { Description = "Embedding size (also the last recurrent layer's size).", DefaultValueFactory = _ => Ulmfit.Modeling.AwdLstmConfig.DefaultEmbeddingSize };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size of the inner recurrent layers.", DefaultValueFactory = _ => Ulmfit.Modeling.AwdLstmConfig.DefaultHiddenSize };
        var layers = new Option<int>("--layers") { Description = "Recurrent (LSTM or QRNN) layers.", DefaultValueFactory = _ => Ulmfit.Modeling.AwdLstmConfig.DefaultLayers };
        var arch = new Option<string>("--arch") { Description = "Encoder architecture: awd-lstm (ULMFiT) or qrnn (MultiFiT; e.g. --emb 400 --hidden 1552 --layers 4).", DefaultValueFactory = _ => "awd-lstm" };
        var backwards = new Option<bool>("--backwards") { Description = "Train on reversed documents (the backward LM)." };
        var continueFrom = new Option<string?>("--continue-from") { Description = "Continue pretraining this language-model package (its size, vocabulary and weights) with a new schedule, e.g. a shipped model under models/." };
        var shared = new LanguageModelCommandOptions(PretrainOptions.DefaultGroupFactor);
        var command = new Command("pretrain", "Stage 1: train an AWD-LSTM (or QRNN) language model on general-domain text, or continue training one.") { corpus, emb, hidden, layers, arch, backwards, continueFrom };
        shared.AddTo(command);
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, async (context, token) =>
        {
            var parse = context.Parse;
            var architecture = EncoderChoices.Check(parse.GetValue(arch)!, parse.GetValue(shared.Dtype.Option)!);
            // A continued model keeps its own shape; a shape typed beside --continue-from would be silently ignored.
            var shapeGiven = new Option[] { arch, emb, hidden, layers, shared.MaxVocab, shared.MinFreq }
                .Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
            if (parse.GetValue(continueFrom) != null && shapeGiven.Count > 0)
                throw new OptionException($"--continue-from keeps the package's architecture, size and vocabulary: drop {string.Join(", ", shapeGiven)}");
            var options = shared.Apply(new PretrainOptions
            {
                Architecture = architecture,
                Inputs = parse.GetValue(corpus)!,
                OutputDirectory = parse.GetValue(shared.Out)!,
                EmbeddingSize = parse.GetValue(emb),
                HiddenSize = parse.GetValue(hidden),
                Layers = parse.GetValue(layers),
                Backwards = parse.GetValue(backwards),
                ContinueFrom = parse.GetValue(continueFrom),
            }, parse, context);
            var result = await LanguageModelPipeline.PretrainAsync(options, LanguageModelCommandOptions.Progress(output), new WarningLogger(output), token);
            return LanguageModelCommandOptions.Summarise(result, output);
        }, interruptNote: CommandRunner.SavesACheckpoint);
        return command;
    }
}

/// <summary>The encoder and compute type choices the contract names; only what is implemented is accepted.</summary>
internal static class EncoderChoices
{
    /// <summary>The architecture <paramref name="arch"/> names, after checking both choices.</summary>
    public static Modeling.EncoderArchitecture Check(string arch, string dtype, bool inference = false)
    {
        var architecture = Architecture(arch);
        // fp32, bf16 and auto are implemented everywhere, int8 for inference of AWD-LSTM models; anything else is refused.
        if (DtypeOption.Parse(dtype, inference) == Modeling.ComputePrecision.Int8 && architecture != Modeling.EncoderArchitecture.AwdLstm)
            throw new OptionException("--dtype int8 is implemented for --arch awd-lstm only");
        return architecture;
    }

    /// <summary>The architecture <paramref name="arch"/> names (awd-lstm or qrnn); any other name is an ArgumentException,
    /// which <see cref="Infrastructure.CommandRunner"/> reports as a one-line option error.</summary>
    public static Modeling.EncoderArchitecture Architecture(string arch) => Modeling.EncoderArchitectureNames.Parse(arch);
}
