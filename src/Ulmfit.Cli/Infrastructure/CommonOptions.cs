using System.CommandLine;

namespace Ulmfit.Cli.Infrastructure;

/// <summary>Options every command accepts (shared CLI contract): --threads, --seed, --json.</summary>
public sealed class CommonOptions
{
    public Option<int> Threads { get; } = new("--threads")
    {
        Description = "Compute threads (default: all cores).",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public Option<int> Seed { get; } = new("--seed")
    {
        Description = "Random seed; the same seed and input give the same result.",
        DefaultValueFactory = _ => 42,
    };

    public Option<FileInfo?> Json { get; } = new("--json")
    {
        Description = "Write a machine-readable summary (snake_case keys) to this file.",
    };

    /// <summary>Adds the common options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Threads);
        command.Options.Add(Seed);
        command.Options.Add(Json);
    }
}
