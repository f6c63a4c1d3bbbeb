using System.CommandLine;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Data;
using Ulmfit.Pipeline;
using Ulmfit.Training;

namespace Ulmfit.Cli.Commands;

/// <summary>Options shared by `pretrain` and `finetune-lm`, and how their runs are shown and summarised.</summary>
internal sealed class LanguageModelCommandOptions
{
    /// <summary>Pretraining and fine-tuning differ in their default discriminative factor (1 and 2.6), so each command says its own.</summary>
    public LanguageModelCommandOptions(double defaultGroupFactor) =>
        GroupFactor = new("--lr-group-factor")
        {
            Description = "Discriminative learning rates: each lower layer group's rate is divided by this (1 = off).",
            DefaultValueFactory = _ => defaultGroupFactor,
        };

    public Option<string> Out { get; } = new Option<string>("--out") { Description = "Folder for the trained language model and its checkpoints.", Required = true }.AsFolder();
    public Option<string?> Valid { get; } = new("--valid") { Description = "Held-out text (default: a corpus folder's valid file, else --valid-pct of the documents)." };
    public Option<double> ValidPct { get; } = new("--valid-pct") { Description = "Share of documents held out when there is no validation text.", DefaultValueFactory = _ => 0.1 };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "Passes over the training text.", DefaultValueFactory = _ => 1 };
    public Option<long?> MaxTokens { get; } = new("--max-tokens") { Description = "Cap on training tokens per epoch (default: all)." };
    public Option<long?> MaxValidTokens { get; } = new("--max-valid-tokens") { Description = "Cap on held-out tokens scored after each epoch, the first ones in order (default: all)." };
    public Option<int> Bptt { get; } = new("--bptt") { Description = "Back-propagation-through-time length (varied around it, as in AWD-LSTM).", DefaultValueFactory = _ => Ulmfit.Training.LanguageModelBatcherOptions.DefaultBptt };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Parallel text streams per batch.", DefaultValueFactory = _ => 64 };
    public Option<int> MaxVocab { get; } = new("--max-vocab") { Description = "Largest vocabulary.", DefaultValueFactory = _ => 60_000 };
    public Option<int> MinFreq { get; } = new("--min-freq") { Description = "Fewest occurrences for a vocabulary entry.", DefaultValueFactory = _ => 3 };
    public Option<double?> Lr { get; } = new("--lr") { Description = "Top layer group's peak learning rate." };
    public Option<string> Schedule { get; } = new("--schedule") { Description = "stlr (slanted triangular, the paper), one-cycle (fastai) or constant.", DefaultValueFactory = _ => "stlr" };
    public Option<double> GroupFactor { get; }
    public Option<double> DropMult { get; } = new("--drop-mult") { Description = "Scales every dropout probability.", DefaultValueFactory = _ => 1.0 };
    public Option<bool> Resume { get; } = new("--resume") { Description = "Continue the run saved in --out's checkpoints." };
    public Option<double> CheckpointMinutes { get; } = new("--checkpoint-minutes") { Description = "Minutes between checkpoints within an epoch.", DefaultValueFactory = _ => 10.0 };
    public Option<string?> TokenCache { get; } = new("--token-cache") { Description = "Folder that caches tokenized inputs across runs (default: token-cache in --out)." };
    public InputOptions Inputs { get; } = new();
    public DtypeOption Dtype { get; } = new();

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Out, Valid, ValidPct, Epochs, MaxTokens, MaxValidTokens, Bptt, BatchSize, MaxVocab, MinFreq, Lr, Schedule, GroupFactor, DropMult, Resume, CheckpointMinutes, TokenCache })
            command.Options.Add(o);
        Inputs.AddTo(command);
        Dtype.AddTo(command);
    }

    /// <summary>Copies the shared settings onto <paramref name="options"/>.</summary>
    public T Apply<T>(T options, ParseResult parse, CommandContext context) where T : LanguageModelRunOptions
    {
        var result = options with
        {
            ValidationInput = parse.GetValue(Valid),
            ValidationFraction = parse.GetValue(ValidPct),
            Reader = Inputs.Reader(parse),
            Vocabulary = new VocabularySettings(parse.GetValue(MaxVocab), parse.GetValue(MinFreq)),
            Epochs = parse.GetValue(Epochs),
            MaxTokensPerEpoch = parse.GetValue(MaxTokens),
            MaxValidationTokens = parse.GetValue(MaxValidTokens),
            BatchSize = parse.GetValue(BatchSize),
            Bptt = parse.GetValue(Bptt),
            Schedule = ParseSchedule(parse.GetValue(Schedule)!),
            GroupFactor = parse.GetValue(GroupFactor),
            DropMult = parse.GetValue(DropMult),
            Resume = parse.GetValue(Resume),
            CheckpointInterval = TimeSpan.FromMinutes(parse.GetValue(CheckpointMinutes)),
            TokenCache = parse.GetValue(TokenCache),
            Threads = context.Threads,
            Seed = (ulong)context.Seed,
            Precision = Dtype.Resolve(parse),
        };
        if (result.Resume && !LanguageModelPipeline.HasRun(result.OutputDirectory))
            context.Output.Info($"warning: --resume: {result.OutputDirectory} holds no checkpoint; starting a new run");
        return parse.GetValue(Lr) is double lr ? result with { LearningRate = lr } : result;
    }

    internal static ScheduleKind ParseSchedule(string value, string option = "--schedule") => value.ToLowerInvariant() switch
    {
        "stlr" or "slanted-triangular" => ScheduleKind.SlantedTriangular,
        "one-cycle" or "onecycle" => ScheduleKind.OneCycle,
        "constant" => ScheduleKind.Constant,
        _ => throw new OptionException($"{option} must be stlr, one-cycle or constant (got '{value}')"),
    };

    /// <summary>Renders tokenizing and training progress on stderr.</summary>
    public static IProgress<LanguageModelRunProgress> Progress(IConsoleOutput output) => new InlineProgress<LanguageModelRunProgress>(p =>
    {
        if (p.Tokenizing is { } t)
            output.Status($"tokenizing: {t.Documents:N0} documents, {t.Tokens:N0} tokens");
        else if (p.Training is { } r)
        {
            string eta = r.Remaining is { } rem ? $"ETA {rem:hh\\:mm\\:ss}" : "ETA --";
            output.Status($"{p.Stage} epoch {r.Epoch + 1} step {r.Step:N0}/{r.TotalSteps:N0}  loss {r.SmoothedLoss:F3}  lr {r.LearningRate:G3}  {r.TokensPerSecond:N0} tokens/s  {eta}");
            if (r.Divergence is { } warning) output.Info($"warning: {warning.Message} (--lr)");
        }
    });

    /// <summary>Prints one line per epoch and builds the JSON summary the contract asks for.</summary>
    public static CommandSummary Summarise(LanguageModelRunResult result, IConsoleOutput output)
    {
        foreach (EpochResult e in result.Epochs)
        {
            string valid = e.Validation is { } v ? $"valid loss {v.Loss:F4}, perplexity {v.Perplexity:F2}, accuracy {v.Accuracy:P2}" : "no validation";
            output.Info($"epoch {e.Epoch + 1}: train loss {e.TrainLoss:F4}, {valid}, {e.TokensPerSecond:N0} tokens/s, {e.Duration:hh\\:mm\\:ss}");
        }
        output.Result($"language model saved to {result.ModelDirectory}");
        var last = result.FinalValidation;
        var summary = new CommandSummary
        {
            ["valid_loss"] = last?.Loss,
            ["valid_perplexity"] = last?.Perplexity,
            ["valid_accuracy"] = last?.Accuracy,
            ["tokens_per_s"] = Math.Round(result.TokensPerSecond, 1),
            ["epochs"] = result.Epochs.Count,
            ["train_loss"] = result.Epochs.Count > 0 ? result.Epochs[^1].TrainLoss : null,
            ["vocab_size"] = result.VocabSize,
            ["training_tokens"] = result.TrainingTokens,
            ["parameters"] = result.Parameters,
            ["elapsed_s"] = Math.Round(result.Elapsed.TotalSeconds, 2),
            ["stage_seconds"] = result.StageSeconds.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 2)),
            ["epoch_results"] = result.Epochs.Select(e => new Dictionary<string, object?>
            {
                ["epoch"] = e.Epoch + 1, ["train_loss"] = e.TrainLoss, ["valid_loss"] = e.Validation?.Loss,
                ["valid_perplexity"] = e.Validation?.Perplexity, ["valid_accuracy"] = e.Validation?.Accuracy,
                ["tokens_per_s"] = Math.Round(e.TokensPerSecond, 1), ["seconds"] = Math.Round(e.Duration.TotalSeconds, 2),
            }).ToList(),
            ["model"] = result.ModelDirectory,
        };
        if (result.Transfer is { } t)
        {
            summary["vocab_kept"] = t.KeptTokens;
            summary["vocab_new"] = t.NewTokens;
        }
        return summary;
    }
}
