using System.CommandLine;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Cli.Rendering;
using Ulmfit.Modeling;
using Ulmfit.Pipeline;
using Ulmfit.Text;
using Ulmfit.Training;

namespace Ulmfit.Cli.Commands;

/// <summary>`ulmfit lr-find`: the learning-rate range test on a language model and some text; writes a plot.</summary>
internal static class LrFindCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        var lm = new Option<string>("--lm") { Description = "Folder of the language model.", Required = true };
        var input = new Option<string[]>("--input") { Description = "Text to sweep on (tokenized with the model's vocabulary).", Required = true, AllowMultipleArgumentsPerToken = true };
        var outDir = new Option<string>("--out") { Description = "Folder for lr-find.png and lr-find.csv.", Required = true }.AsFolder();
        var steps = new Option<int>("--steps") { Description = "Sweep steps.", DefaultValueFactory = _ => 100 };
        var start = new Option<double>("--start-lr") { Description = "First learning rate.", DefaultValueFactory = _ => 1e-7 };
        var end = new Option<double>("--end-lr") { Description = "Last learning rate.", DefaultValueFactory = _ => 10 };
        var bptt = new Option<int>("--bptt") { Description = "Back-propagation-through-time length.", DefaultValueFactory = _ => Ulmfit.Training.LanguageModelBatcherOptions.DefaultBptt };
        var batchSize = new Option<int>("--batch-size") { Description = "Parallel text streams per batch.", DefaultValueFactory = _ => 64 };
        var inputs = new InputOptions();
        var dtype = new DtypeOption();
        var command = new Command("lr-find", "Sweep the learning rate exponentially and suggest one (writes a PNG plot).") { lm, input, outDir, steps, start, end, bptt, batchSize };
        inputs.AddTo(command);
        dtype.AddTo(command);
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, async (context, token) =>
        {
            var parse = context.Parse;
            string folder = parse.GetValue(outDir)!;
            var precision = dtype.Resolve(parse); // the sweep should train as the run it informs will
            var (model, vocabulary, manifest) = LanguageModelFolder.Load(parse.GetValue(lm)!, AwdLstmDropouts.LanguageModel);
            using (model)
            {
                model.SetComputePrecision(precision);
                using var corpus = TokenizedCorpus.Prepare(new CorpusOptions
                {
                    Inputs = parse.GetValue(input)!,
                    ValidationFraction = 0,
                    Reader = inputs.Reader(parse),
                    Vocabulary = vocabulary,
                    CacheDirectory = Path.Combine(folder, "token-cache"),
                    Threads = context.Threads,
                    Seed = (ulong)context.Seed,
                }, UlmfitTokenizer.Default, token);
                var training = new LanguageModelTrainerOptions
                {
                    Batching = new LanguageModelBatcherOptions { BatchSize = parse.GetValue(batchSize), Bptt = parse.GetValue(bptt), Backwards = manifest.Architecture.Backwards, Seed = (ulong)context.Seed },
                    TorchSeed = context.Seed,
                };
                var sweep = new LearningRateSweep { Steps = parse.GetValue(steps), StartLearningRate = parse.GetValue(start), EndLearningRate = parse.GetValue(end) };
                var progress = new InlineProgress<LearningRatePoint>(p => output.Status($"lr {p.LearningRate:G3}  loss {p.SmoothedLoss:F4}"));
                var result = await LearningRateFinder.FindAsync(model, corpus.Training, training, sweep, progress, token);

                Directory.CreateDirectory(folder);
                string png = Path.Combine(folder, "lr-find.png");
                Plots.LearningRateCurve(result, png);
                string csv = Path.Combine(folder, "lr-find.csv");
                Data.AtomicFile.WriteText(csv, "learning_rate,loss,smoothed_loss\n" +
                    string.Concat(result.Points.Select(p => FormattableString.Invariant($"{p.LearningRate:R},{p.Loss:R},{p.SmoothedLoss:R}\n"))));
                output.Result(FormattableString.Invariant($"suggested learning rate {result.SuggestedLearningRate:G3} (minimum loss / 10: {result.MinimumLossLearningRateOverTen:G3}){(result.Diverged ? ", sweep stopped at divergence" : "")}; plot: {png}"));
                return new CommandSummary
                {
                    ["suggested_lr"] = result.SuggestedLearningRate,
                    ["min_loss_lr_over_10"] = result.MinimumLossLearningRateOverTen,
                    ["diverged"] = result.Diverged,
                    ["points"] = result.Points.Count,
                    ["plot"] = png,
                };
            }
        });
        return command;
    }
}
