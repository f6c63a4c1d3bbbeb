using System.CommandLine;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Modeling;
using Ulmfit.Pipeline;

namespace Ulmfit.Cli.Commands;

/// <summary>`ulmfit generate`: sample text from a language model, to eyeball what it learned.</summary>
internal static class GenerateCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        var lm = new Option<string>("--lm") { Description = "Folder of the language model.", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Text to continue.", Required = true };
        var words = new Option<int>("--words") { Description = "Tokens to generate.", DefaultValueFactory = _ => 50 };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature (0 = always the likeliest token).", DefaultValueFactory = _ => 0.75 };
        var command = new Command("generate", "Sample a continuation of a prompt from a language model.") { lm, prompt, words, temperature };
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, (context, _) =>
        {
            var parse = context.Parse;
            var (model, vocabulary, manifest) = LanguageModelFolder.Load(parse.GetValue(lm)!, AwdLstmDropouts.None);
            using (model)
            {
                var options = new GenerationOptions { Tokens = parse.GetValue(words), Temperature = parse.GetValue(temperature), Seed = context.Seed };
                string text = TextGenerator.Generate(model, vocabulary, manifest.Architecture.Backwards, parse.GetValue(prompt)!, options);
                output.Result(text);
                return Task.FromResult(new CommandSummary { ["text"] = text, ["tokens"] = options.Tokens, ["temperature"] = options.Temperature });
            }
        });
        return command;
    }
}
