using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Ulmfit.Benchmarking;
using Ulmfit.Data;
using Ulmfit.Modeling;
using Ulmfit.Pipeline;
using Ulmfit.Text;
using Ulmfit.Training;

namespace Ulmfit.Benchmarks;

/// <summary>What <see cref="EqualTimeBenchmark"/> trains: our configuration, the peer's, and the budget.</summary>
public sealed record EqualTimeSettings
{
    public required string Corpus { get; init; }
    public required string PeerModule { get; init; }
    public required string PeerTrainer { get; init; }
    /// <summary>Folder for the shared tokenization (cached across runs) and the exported ids.</summary>
    public required string WorkDirectory { get; init; }
    /// <summary>Token cache to share with other runs (e.g. a pretraining run's); null: one in <see cref="WorkDirectory"/>.</summary>
    public string? TokenCache { get; init; }
    public double Seconds { get; init; } = 600;
    public int MaxVocab { get; init; } = 20_000;
    /// <summary>Our model's shape and compute (vocabulary size is the corpus's).</summary>
    public BenchmarkShape Ours { get; init; } = new();
    /// <summary>The peer's AWD-LSTM shape (always float32).</summary>
    public BenchmarkShape Peer { get; init; } = new();
    public double LearningRate { get; init; } = 8e-3;
    public double PeerLearningRate { get; init; } = 8e-3;
    /// <summary>False: train ours only, so two of our configurations can run side by side (one per core) at equal time.</summary>
    public bool RunPeer { get; init; } = true;
}

/// <summary>
/// The "equal wall time" comparison of issue 6: Ulmfit.NET's configuration and the PyTorch peer's fp32 AWD-LSTM each
/// train a language model for the same wall time on the same corpus, side by side on one core each, then both are
/// scored on the corpus's validation text. Both see the same tokenization and vocabulary (ours; the peer gets the ids
/// as int32 files), both plan their step count from a short timing probe so that one-cycle training fills the budget,
/// and both measure perplexity the same way (64 rows, fixed BPTT windows, state carried, every position scored).
/// Ours trains through <see cref="LanguageModelPipeline.PretrainAsync"/>, exactly as `ulmfit pretrain` does.
/// Without the peer (<see cref="EqualTimeSettings.RunPeer"/> false) it times one of our configurations alone; two such
/// processes, one per core, compare two of ours (model sizes, say) at equal wall time.
/// </summary>
public static class EqualTimeBenchmark
{
    public static JsonObject Run(EqualTimeSettings s)
    {
        Directory.CreateDirectory(s.WorkDirectory);
        string cache = s.TokenCache ?? Path.Combine(s.WorkDirectory, "token-cache");
        var vocabulary = new VocabularySettings(s.MaxVocab, 3);
        int vocabSize;
        string trainIds = Path.Combine(s.WorkDirectory, "peer-train.i32"), validIds = Path.Combine(s.WorkDirectory, "peer-valid.i32");
        using (var corpus = TokenizedCorpus.Prepare(new CorpusOptions
               { Inputs = [s.Corpus], VocabularySettings = vocabulary, CacheDirectory = cache, Threads = 1 }, UlmfitTokenizer.Default))
        {
            if (corpus.Validation is null) throw new ArgumentException($"{s.Corpus}: needs a validation file (valid*.txt[.gz])");
            vocabSize = corpus.Vocabulary.Count;
            if (s.RunPeer)
            {
                // The peer cannot read more than its budget allows; 3x a generous estimate of its rate is plenty.
                WriteIds(corpus.Training, trainIds, maxTokens: (long)(s.Seconds * 3_000) + 100_000);
                WriteIds(corpus.Validation, validIds, maxTokens: long.MaxValue);
            }
        }

        var ours = s.Ours with { Vocab = vocabSize, Steps = 4, Warmup = 2 };
        var peer = !s.RunPeer ? Task.FromResult<JsonNode?>(null) : Task.Run<JsonNode?>(() => PeerBenchmark.RunScript(s.PeerTrainer,
        [
            "--peer", s.PeerModule, "--train", trainIds, "--valid", validIds, "--vocab", $"{vocabSize}",
            "--emb", $"{s.Peer.Emb}", "--hidden", $"{s.Peer.Hidden}", "--layers", $"{s.Peer.Layers}",
            "--bs", $"{s.Peer.BatchSize}", "--bptt", $"{s.Peer.Bptt}", "--lr", FormattableString.Invariant($"{s.PeerLearningRate}"),
            "--seconds", FormattableString.Invariant($"{s.Seconds}"), "--threads", "1",
        ], TimeSpan.FromSeconds(s.Seconds * 3 + 600)));

        // Plan our tokens from a probe on random ids, as the peer does.
        var probe = LanguageModelTrainingBenchmark.Run(ours);
        long planned = (long)(probe.ItemsPerSecond * s.Seconds);
        string output = Path.Combine(s.WorkDirectory, "ours");
        if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        var curve = new List<LanguageModelProgress>();   // the training loss as it went, so a run that fails to learn shows when
        var clock = Stopwatch.StartNew();
        var result = LanguageModelPipeline.PretrainAsync(new PretrainOptions
        {
            Inputs = [s.Corpus], OutputDirectory = output, TokenCache = cache, Vocabulary = vocabulary,
            Architecture = ours.Architecture, EmbeddingSize = ours.Emb, HiddenSize = ours.Hidden, Layers = ours.Layers,
            BatchSize = ours.BatchSize, Bptt = ours.Bptt, Precision = ours.Precision, Epochs = 1, MaxTokensPerEpoch = planned,
            Schedule = ScheduleKind.OneCycle, LearningRate = s.LearningRate, Threads = 1,
            CheckpointInterval = TimeSpan.FromDays(1),
        }, new InlineProgress<LanguageModelRunProgress>(p => { if (p.Training is { } t) curve.Add(t); })).GetAwaiter().GetResult();
        double wall = clock.Elapsed.TotalSeconds;
        var epoch = result.Epochs[^1];
        var validation = epoch.Validation!;
        var peerResult = peer.GetAwaiter().GetResult();

        var oursJson = new JsonObject
        {
            ["arch"] = ours.Architecture.Name(), ["dtype"] = ours.Precision.Name(),
            ["tokens_per_s"] = Math.Round(epoch.TokensPerSecond, 1),
            ["trained_tokens"] = epoch.Tokens, ["train_seconds"] = Math.Round(epoch.Tokens / epoch.TokensPerSecond, 1),
            ["planned_tokens"] = planned, ["probe_tokens_per_s"] = Math.Round(probe.ItemsPerSecond, 1),
            ["valid_loss"] = Math.Round(validation.Loss, 5), ["valid_perplexity"] = Math.Round(validation.Perplexity, 2),
            ["valid_accuracy"] = Math.Round(validation.Accuracy, 5), ["valid_tokens"] = validation.Tokens,
            ["wall_seconds_with_tokenize_and_validation"] = Math.Round(wall, 1),
            ["config"] = Config(ours, result.Parameters, s.LearningRate),
            ["train_curve"] = TrainCurve(curve),
            ["divergence_warning"] = curve.Select(r => r.Divergence?.Message).LastOrDefault(m => m is not null),
        };
        var json = new JsonObject
        {
            ["benchmark"] = "lm-equal-time", ["corpus"] = Path.GetFullPath(s.Corpus), ["budget_seconds"] = s.Seconds,
            ["vocab"] = vocabSize, ["threads_each"] = 1, ["ours"] = oursJson, ["peer"] = peerResult,
        };
        if (peerResult?["tokens_per_s"] is JsonValue peerRate && peerResult["valid_perplexity"] is JsonValue peerPerplexity)
        {
            json["speedup_tokens_per_s"] = Math.Round(epoch.TokensPerSecond / peerRate.GetValue<double>(), 2);
            json["perplexity_ours_minus_peer"] = Math.Round(validation.Perplexity - peerPerplexity.GetValue<double>(), 2);
        }
        return json;
    }

    // At most 40 evenly spaced progress reports as [step, smoothed training loss, learning rate].
    static JsonArray TrainCurve(IReadOnlyList<LanguageModelProgress> reports)
    {
        var points = new JsonArray();
        int stride = Math.Max(1, (reports.Count + 39) / 40);
        for (int i = 0; i < reports.Count; i++)
        {
            if (i % stride != 0 && i != reports.Count - 1) continue;
            var r = reports[i];
            points.Add(new JsonArray(r.Step, Math.Round(r.SmoothedLoss, 4), Math.Round(r.LearningRate, 6)));
        }
        return points;
    }

    static JsonObject Config(BenchmarkShape shape, long parameters, double learningRate) => new()
    {
        ["vocab"] = shape.Vocab, ["emb"] = shape.Emb, ["hidden"] = shape.Hidden, ["layers"] = shape.Layers,
        ["bs"] = shape.BatchSize, ["bptt"] = shape.Bptt, ["lr"] = learningRate, ["params"] = parameters,
    };

    // Documents in store order, concatenated, as little-endian int32: the peer's training stream (a prefix) and its
    // validation stream (all of it, in the order our evaluator reads it).
    static void WriteIds(ITokenDocuments documents, string path, long maxTokens)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the peer reads little-endian int32 ids");
        string temp = path + ".tmp";
        using (var file = new BufferedStream(File.Create(temp), 1 << 20))
        {
            long written = 0;
            var buffer = new int[4096];
            for (int d = 0; d < documents.Count && written < maxTokens; d++)
            {
                int length = documents.Length(d);
                if (buffer.Length < length) buffer = new int[length];
                documents.CopyTo(d, buffer);
                file.Write(MemoryMarshal.AsBytes(buffer.AsSpan(0, length)));
                written += length;
            }
        }
        File.Move(temp, path, overwrite: true);
    }
}
