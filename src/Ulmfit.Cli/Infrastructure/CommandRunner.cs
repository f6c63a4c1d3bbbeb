using System.CommandLine;
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
/// Runs a command body with the behaviour the CLI contract promises: engine set-up, Ctrl+C turned into
/// cancellation, a one-line error and a non-zero exit code for any failure, and the --json summary written
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

    public static void SetBody(Command command, CommonOptions common, IConsoleOutput output,
        Func<CommandContext, CancellationToken, Task<CommandSummary>> body, bool usesTorch = true)
    {
        command.SetAction(async (parse, token) => await RunAsync(new CommandContext(parse, common, output), body, usesTorch, token));
    }

    static async Task<int> RunAsync(CommandContext context, Func<CommandContext, CancellationToken, Task<CommandSummary>> body,
        bool usesTorch, CancellationToken token)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(token);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // let the command save its state and stop by itself
            context.Output.Error("interrupted: finishing the current step and saving");
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            if (context.Threads < 1) throw new OptionException($"--threads must be at least 1 (got {context.Threads})");
            if (usesTorch) TorchRuntime.Initialise(context.Threads);
            CommandSummary summary = await body(context, cancel.Token);
            FileInfo? json = context.Parse.GetValue(context.Common.Json);
            if (json != null) WriteSummary(json.FullName, summary);
            return Success;
        }
        catch (OperationCanceledException)
        {
            context.Output.Error("stopped by the user");
            return Interrupted;
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
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Writes the summary to a temp file beside <paramref name="path"/> and renames it into place.</summary>
    public static void WriteSummary(string path, CommandSummary summary)
    {
        string? folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        Rendering.AtomicText.Write(path, JsonSerializer.Serialize(summary, JsonOptions));
    }

    static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
