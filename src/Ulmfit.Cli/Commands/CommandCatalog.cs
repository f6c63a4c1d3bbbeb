using System.CommandLine;
using Ulmfit.Cli.Infrastructure;

namespace Ulmfit.Cli.Commands;

/// <summary>Every `ulmfit` sub-command, in the order `--help` lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> Create(CommonOptions common, IConsoleOutput output)
    {
        yield return DemoCommand.Create(common, output);
        yield return TokenizeCommand.Create(common, output);
        yield return PretrainCommand.Create(common, output);
        yield return FineTuneLmCommand.Create(common, output);
        yield return FitCommand.Create(common, output);
        yield return FitCommand.CreateTrainClassifier(common, output);
        yield return EvaluateCommand.Create(common, output);
        yield return PredictCommand.Create(common, output);
        yield return ServeCommand.Create(common, output);
        yield return LrFindCommand.Create(common, output);
        yield return GenerateCommand.Create(common, output);
        yield return ImportFastaiCommand.Create(common, output);
        yield return BenchCommand.Create(common, output);
    }
}
