using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using Ulmfit.Data;
using Ulmfit.Engine;

namespace Ulmfit.Cli.Infrastructure;

/// <summary>An option value that cannot be used; reported as one line with exit code 2.</summary>
public sealed class OptionException(string message) : Exception(message);

/// <summary>What a command hands back: the summary written by --json (snake_case keys, numbers as numbers).</summary>
public sealed class CommandSummary : Dictionary<string, object?>
{
}

/// <summary>The context a command body runs in: parsed values, the console abstraction and cancellation.</summary>
public sealed record CommandContext(ParseResult Parse, CommonOptions Common, IConsoleOutput Output)
{
    public int Threads => Parse.GetValue(Common.Threads);
    public int Seed => Parse.GetValue(Common.Seed);
}

/// <summary>
/// Runs a command body with the behaviour the CLI contract promises: engine set-up, Ctrl+C and SIGTERM turned
/// into cancellation, a one-line error and a non-zero exit code for any failure, and the --json summary written
/// atomically (temp file, then rename) only on success.
/// </summary>
public static class CommandRunner
{
    /// <summary>Exit code for success.</summary>
    public const int Success = 0;
    /// <summary>Exit code for a failure while running.</summary>
    public const int Failure = 1;
    /// <summary>Exit code for unusable input or options.</summary>
    public const int BadInput = 2;
    /// <summary>Exit code after Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    /// <summary>Exit code after SIGTERM (128 + 15).</summary>
    public const int Terminated = 143;

    /// <summary>What a command prints when Ctrl+C or SIGTERM arrives, for a command that saves nothing on the way out.</summary>
    public const string StopsWithoutSaving = "interrupted: stopping; nothing is saved";
    /// <summary>The same for the language-model trainers, which write a checkpoint before they stop.</summary>
    public const string SavesACheckpoint = "interrupted: finishing the current step and saving a checkpoint (--resume continues)";
    /// <summary>The same for fit, whose LM fine-tuning checkpoints (a rerun continues it) while the classifier stages do not.</summary>
    public const string SavesOnlyLanguageModelFineTuning =
        "interrupted: stopping; LM fine-tuning saves a checkpoint (the same fit again continues it), a classifier stage in progress is not saved";

    /// <param name="interruptNote">Printed when SIGINT or SIGTERM arrives (null: the command reports it itself).</param>
    public static void SetBody(Command command, CommonOptions common, IConsoleOutput output,
        Func<CommandContext, CancellationToken, Task<CommandSummary>> body, bool usesTorch = true,
        string? interruptNote = StopsWithoutSaving)
    {
        command.SetAction(async (parse, token) =>
            await RunAsync(new CommandContext(parse, common, output), body, usesTorch, interruptNote, token));
    }

    static async Task<int> RunAsync(CommandContext context, Func<CommandContext, CancellationToken, Task<CommandSummary>> body,
        bool usesTorch, string? interruptNote, CancellationToken token)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(token);
        // SIGINT (Ctrl+C) and SIGTERM (what systemd, Docker and Kubernetes send) both become cancellation, so the
        // command stops at a step boundary — the LM trainers with a checkpoint — instead of dying mid-write.
        int interruptedBy = 0;
        void OnSignal(PosixSignalContext signal)
        {
            // A second signal ends the process at once (the default action); the first lets the command stop by itself.
            if (Interlocked.CompareExchange(ref interruptedBy, signal.Signal == PosixSignal.SIGTERM ? Terminated : Interrupted, 0) != 0) return;
            signal.Cancel = true;
            if (interruptNote != null) context.Output.Error(interruptNote);
            cancel.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            if (context.Threads < 1) throw new OptionException($"--threads must be at least 1 (got {context.Threads})");
            FileInfo? json = context.Parse.GetValue(context.Common.Json);
            if (json != null) OutputPath.CheckWritable(json.FullName, "--json");
            if (usesTorch) TorchRuntime.Initialise(context.Threads);
            CommandSummary summary = await body(context, cancel.Token);
            if (json != null) WriteSummary(json.FullName, summary);
            return Success;
        }
        catch (OperationCanceledException)
        {
            int code = interruptedBy == 0 ? Interrupted : interruptedBy;
            context.Output.Error(code == Terminated ? "stopped by SIGTERM" : "stopped by the user");
            return code;
        }
        catch (Exception e) when (e is InvalidInputException or OptionException or ArgumentException or NotSupportedException or Ulmfit.IO.ModelFileException)
        {
            context.Output.Error(OneLine(e is ArgumentException a ? a.WithoutParameterName() : e.Message));
            return BadInput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            context.Output.Error(OneLine(e.Message));
            return Failure;
        }
        catch (Exception e)
        {
            context.Output.Error($"{e.GetType().Name}: {OneLine(e.Message)}");
            if (Environment.GetEnvironmentVariable("ULMFIT_DEBUG") == "1") context.Output.Error(e.ToString());
            return Failure;
        }
    }

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Writes the summary to a temp file beside <paramref name="path"/> (its folders created) and renames it into place.</summary>
    public static void WriteSummary(string path, CommandSummary summary)
    {
        Data.AtomicFile.WriteText(path, JsonSerializer.Serialize(summary, JsonOptions));
    }

    static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
