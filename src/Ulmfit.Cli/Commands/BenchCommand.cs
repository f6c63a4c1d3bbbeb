using System.CommandLine;
using Ulmfit.Benchmarking;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Engine;
using Ulmfit.Modeling;

namespace Ulmfit.Cli.Commands;

/// <summary>`ulmfit bench`: throughput on synthetic data with the PyTorch peer's shapes; prints one JSON line.</summary>
internal static class BenchCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        var mode = new Option<string>("--mode") { Description = "lm-train, clf-train or clf-infer.", DefaultValueFactory = _ => "lm-train" };
        var vocab = new Option<int>("--vocab") { DefaultValueFactory = _ => 60_000, Description = "Vocabulary size." };
        var emb = new Option<int>("--emb") { DefaultValueFactory = _ => Ulmfit.Modeling.AwdLstmConfig.DefaultEmbeddingSize, Description = "Embedding size." };
        var hidden = new Option<int>("--hidden") { DefaultValueFactory = _ => Ulmfit.Modeling.AwdLstmConfig.DefaultHiddenSize, Description = "Hidden size." };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => 3, Description = "Recurrent (LSTM or QRNN) layers." };
        var batchSize = new Option<int>("--batch-size", "--bs") { DefaultValueFactory = _ => 64, Description = "Batch size." };
        var bptt = new Option<int>("--bptt") { DefaultValueFactory = _ => Ulmfit.Training.LanguageModelBatcherOptions.DefaultBptt, Description = "Sequence length per LM step / classifier chunk." };
        var seqLen = new Option<int>("--seq-len") { DefaultValueFactory = _ => 256, Description = "Classifier modes: tokens per document." };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 5, Description = "Timed steps." };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 2, Description = "Untimed warm-up steps." };
        var dtype = new DtypeOption(inference: true).Option; // int8 only with --mode clf-infer
        var arch = new Option<string>("--arch") { DefaultValueFactory = _ => "awd-lstm", Description = "awd-lstm or qrnn." };
        var command = new Command("bench", "Measure training or inference throughput on synthetic data (JSON on stdout).")
        {
            mode, vocab, emb, hidden, layers, batchSize, bptt, seqLen, steps, warmup, dtype, arch,
        };
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, (context, token) =>
        {
            var parse = context.Parse;
            string which = parse.GetValue(mode)!;
            bool inference = which == "clf-infer";
            var architecture = EncoderChoices.Check(parse.GetValue(arch)!, parse.GetValue(dtype)!, inference);
            var shape = new BenchmarkShape
            {
                Architecture = architecture,
                Vocab = parse.GetValue(vocab), Emb = parse.GetValue(emb), Hidden = parse.GetValue(hidden), Layers = parse.GetValue(layers),
                BatchSize = parse.GetValue(batchSize), Bptt = parse.GetValue(bptt), SeqLen = parse.GetValue(seqLen),
                Steps = parse.GetValue(steps), Warmup = parse.GetValue(warmup), Precision = inference ? DtypeOption.ParseForInference(parse.GetValue(dtype)!, architecture) : DtypeOption.Parse(parse.GetValue(dtype)!),
            }.Validate(languageModel: which == "lm-train");
            BenchmarkTimings timings = which switch
            {
                "lm-train" => LanguageModelTrainingBenchmark.Run(shape, context.Seed, token),
                "clf-train" => ClassifierBenchmark.Run(shape, training: true, context.Seed),
                "clf-infer" => ClassifierBenchmark.Run(shape, training: false, context.Seed),
                _ => throw new OptionException($"--mode must be lm-train, clf-train or clf-infer (got '{which}')"),
            };
            string unit = which == "lm-train" ? "tokens_per_s" : "docs_per_s";
            var summary = new CommandSummary
            {
                ["mode"] = which,
                ["dtype"] = shape.Precision.Name(),
                ["int8_path"] = shape.Precision.KernelPath(),
                ["cpu_isa"] = CpuFeatures.Current.VectorIsa,
                ["arch"] = parse.GetValue(arch),
                [unit] = Math.Round(timings.ItemsPerSecond, 1),
                [unit + "_min"] = Math.Round(timings.ItemsPerSecondMin, 1),
                [unit + "_max"] = Math.Round(timings.ItemsPerSecondMax, 1),
                ["step_s_median"] = Math.Round(timings.MedianStepSeconds, 4),
                ["steps"] = shape.Steps,
                ["warmup"] = shape.Warmup,
                ["peak_rss_mb"] = Math.Round(ProcessMemory.PeakResidentMegabytes(), 1),
                ["threads"] = TorchRuntime.Threads,
                ["allocator"] = NativeAllocator.Current(),
                ["gomp_spincount"] = OpenMpSpinLimit.Current(),
                ["last_loss"] = double.IsFinite(timings.LastLoss) ? Math.Round(timings.LastLoss, 4) : null,
                ["config"] = new Dictionary<string, object>
                {
                    ["vocab"] = shape.Vocab, ["emb"] = shape.Emb, ["hidden"] = shape.Hidden, ["layers"] = shape.Layers,
                    ["bs"] = shape.BatchSize, ["bptt"] = shape.Bptt, ["seq_len"] = shape.SeqLen, ["params"] = timings.Parameters,
                },
            };
            output.Result(System.Text.Json.JsonSerializer.Serialize(summary));
            return Task.FromResult(summary);
        });
        return command;
    }
}
