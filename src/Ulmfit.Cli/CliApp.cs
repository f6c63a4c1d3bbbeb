using System.CommandLine;
using Ulmfit.Cli.Infrastructure;

namespace Ulmfit.Cli;

/// <summary>Builds the `ulmfit` command tree (contract: shared CLI.md) and runs it.</summary>
public static class CliApp
{
    public static int Run(string[] args) => Run(args, new SystemConsoleOutput());

    public static int Run(string[] args, IConsoleOutput output)
    {
        RootCommand root = Build(output);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line, naming the command to ask for help, instead of the parser's multi-line dump.
            string command = string.Join(' ', parse.CommandResult.Command == root ? [] : new[] { parse.CommandResult.Command.Name });
            // The parser lists "Required command was not provided" before "Unrecognized command 'x'": show the specific one.
            var error = parse.Errors.FirstOrDefault(e => e.Message.Contains("nrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            output.Error($"{error.Message} (see 'ulmfit {command}{(command.Length > 0 ? " " : "")}--help')");
            return CommandRunner.BadInput;
        }
        return parse.Invoke();
    }

    internal static RootCommand Build(IConsoleOutput output)
    {
        var common = new CommonOptions();
        var root = new RootCommand("Ulmfit.NET: ULMFiT text classification on TorchSharp, trained and served from .NET.");
        foreach (Command command in Commands.CommandCatalog.Create(common, output)) root.Subcommands.Add(command);
        return root;
    }
}
