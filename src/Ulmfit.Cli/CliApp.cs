using System.CommandLine;

namespace Ulmfit.Cli;

/// <summary>Builds the `ulmfit` command tree (contract: shared CLI.md) and runs it.</summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("Ulmfit.NET: ULMFiT text classification on TorchSharp, trained and served from .NET.");
        return root.Parse(args).Invoke();
    }
}
