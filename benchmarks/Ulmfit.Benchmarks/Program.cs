using System.CommandLine;
using System.Text.Json;
using Ulmfit;
using Ulmfit.Benchmarks;
using Ulmfit.Benchmarking;
using Ulmfit.Engine;
using Ulmfit.Modeling;

// Side-by-side benchmarks; every result is one JSON line on stdout, errors one line on stderr with exit code 2.
// `--help` on any command lists its options; with no command, `compare` runs on its defaults.
string root = FindRepositoryRoot();
string peerScript = Path.Combine(root, "..", "shared", "peer", "torch_awd_lstm_bench.py");

var threads = Int("--threads", 2, "Compute threads.");
var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "fp32", Description = "Our compute type: fp32, bf16, int8 (clf-infer only) or auto." };
var arch = new Option<string>("--arch") { DefaultValueFactory = _ => "awd-lstm", Description = "Our encoder: awd-lstm or qrnn." };
var peer = new Option<string>("--peer") { DefaultValueFactory = _ => peerScript, Description = "The PyTorch peer's benchmark script." };
var emb = Int("--emb", 400, "Embedding size.");
var hidden = Int("--hidden", 1152, "Hidden size.");
var layers = Int("--layers", 3, "Recurrent layers.");
var batchSize = Int("--bs", 64, "Batch size.");
var bptt = Int("--bptt", 70, "Tokens per LM step / classifier chunk.");
var peerHidden = new Option<int?>("--peer-hidden") { Description = "The peer AWD-LSTM's hidden size (default: ours, or 1152 against a QRNN)." };
var peerLayers = new Option<int?>("--peer-layers") { Description = "The peer AWD-LSTM's layers (default: ours, or 3 against a QRNN)." };

var mode = new Option<string>("--mode") { DefaultValueFactory = _ => "lm-train", Description = "lm-train, clf-train or clf-infer." };
var peerDtype = new Option<string>("--peer-dtype") { Description = "The peer's compute type (default: the same as ours)." };
var vocab = Int("--vocab", 60_000, "Vocabulary size.");
var seqLen = Int("--seq-len", 256, "Classifier modes: tokens per document.");
var classes = Int("--classes", 6, "Classifier modes: classes.");
var steps = Int("--steps", 5, "Timed steps.");
var warmup = Int("--warmup", 2, "Untimed warm-up steps.");
var compare = new Command("compare",
    "Runs the PyTorch peer and Ulmfit.NET on the same shapes in this one run, plus fp32/bf16 matmul ceilings, peak RSS " +
    "of both, MFU against the bf16 matmul, and (clf-infer) single-document latency.")
{
    mode, dtype, arch, peerDtype, peerHidden, peerLayers, vocab, emb, hidden, layers, batchSize, bptt, seqLen, classes, steps, warmup, threads, peer,
};
compare.SetAction(parse => Run("compare", parse.GetValue(threads), () =>
{
    // int8 is an inference precision: accepted for clf-infer only (the fused int8 LSTM kernel, AWD-LSTM).
    var precision = ComputePrecisions.Parse(parse.GetValue(dtype)!, allowInt8: parse.GetValue(mode) == "clf-infer");
    var architecture = EncoderArchitectureNames.Parse(parse.GetValue(arch));
    var shape = new BenchmarkShape
    {
        Architecture = architecture, Precision = precision,
        Vocab = parse.GetValue(vocab), Emb = parse.GetValue(emb), Hidden = parse.GetValue(hidden), Layers = parse.GetValue(layers),
        BatchSize = parse.GetValue(batchSize), Bptt = parse.GetValue(bptt), SeqLen = parse.GetValue(seqLen), Classes = parse.GetValue(classes),
        Steps = parse.GetValue(steps), Warmup = parse.GetValue(warmup),
    }.Validate();
    // The peer is the PyTorch AWD-LSTM: the same shape unless --peer-hidden/--peer-layers name its own (for "our best
    // configuration against the reference"), the same number type unless --peer-dtype says otherwise.
    bool sameArchitecture = architecture == EncoderArchitecture.AwdLstm;
    var peerShape = shape with
    {
        Architecture = EncoderArchitecture.AwdLstm, Precision = ComputePrecision.Fp32,
        Hidden = parse.GetValue(peerHidden) ?? (sameArchitecture ? shape.Hidden : 1152),
        Layers = parse.GetValue(peerLayers) ?? (sameArchitecture ? shape.Layers : 3),
    };
    string peerType = parse.GetValue(peerDtype) ?? precision.Name();
    return CompareBenchmark.Run(parse.GetValue(mode)!, shape, peerShape, peerType, parse.GetValue(threads), parse.GetValue(peer)!).ToJsonString();
}));

var corpus = new Option<string>("--corpus") { Required = true, Description = "Corpus folder (train/valid files, as `ulmfit pretrain` reads)." };
var minutes = new Option<double>("--minutes") { DefaultValueFactory = _ => 10, Description = "Wall time each side trains." };
var maxVocab = Int("--max-vocab", 20_000, "Largest vocabulary (shared by both sides).");
var tokenCache = new Option<string?>("--token-cache") { Description = "Token cache shared with other runs (default: one under --work)." };
var work = new Option<string>("--work") { DefaultValueFactory = _ => Path.Combine(root, "runs", "lm-equal-time"), Description = "Working folder." };
var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 8e-3, Description = "Our peak learning rate." };
var peerLr = new Option<double>("--peer-lr") { DefaultValueFactory = _ => 8e-3, Description = "The peer's peak learning rate." };
var oursDtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "bf16", Description = "Our compute type: fp32, bf16 or auto." };
var oursEmb = Int("--emb", 128, "Our embedding size.");
var oursHidden = Int("--hidden", 512, "Our hidden size.");
var peerEmb = Int("--peer-emb", 400, "The peer AWD-LSTM's embedding size.");
var peerHiddenSize = Int("--peer-hidden", 1152, "The peer AWD-LSTM's hidden size.");
var peerLayerCount = Int("--peer-layers", 3, "The peer AWD-LSTM's layers.");
var noPeer = new Option<bool>("--no-peer") { Description = "Train ours only (to compare two of our configurations at equal time, one process per core)." };
var equalTime = new Command("lm-equal-time",
    "Ours and the peer's fp32 AWD-LSTM each train an LM for the same wall time on the same corpus, one core each, side " +
    "by side; then both are scored on the corpus's validation text (tokens/s and perplexity of both).")
{
    corpus, minutes, maxVocab, tokenCache, work, arch, oursDtype, oursEmb, oursHidden, layers, batchSize, bptt, lr, peerEmb, peerHiddenSize, peerLayerCount, peerLr, peer, noPeer,
};
equalTime.SetAction(parse => Run("lm-equal-time", threads: 1, () =>
{
    var shape = new BenchmarkShape
    {
        Architecture = EncoderArchitectureNames.Parse(parse.GetValue(arch)), Precision = ComputePrecisions.Parse(parse.GetValue(oursDtype)!),
        Emb = parse.GetValue(oursEmb), Hidden = parse.GetValue(oursHidden), Layers = parse.GetValue(layers),
        BatchSize = parse.GetValue(batchSize), Bptt = parse.GetValue(bptt),
    };
    var settings = new EqualTimeSettings
    {
        Corpus = parse.GetValue(corpus)!,
        PeerModule = parse.GetValue(peer)!,
        PeerTrainer = Path.Combine(root, "benchmarks", "peer", "train_lm_on_tokens.py"),
        WorkDirectory = parse.GetValue(work)!,
        TokenCache = parse.GetValue(tokenCache),
        Seconds = 60 * Positive(parse.GetValue(minutes), "--minutes"),
        MaxVocab = parse.GetValue(maxVocab),
        Ours = shape,
        Peer = new BenchmarkShape
        {
            Emb = parse.GetValue(peerEmb), Hidden = parse.GetValue(peerHiddenSize), Layers = parse.GetValue(peerLayerCount),
            BatchSize = shape.BatchSize, Bptt = shape.Bptt,
        },
        LearningRate = Positive(parse.GetValue(lr), "--lr"),
        PeerLearningRate = Positive(parse.GetValue(peerLr), "--peer-lr"),
        RunPeer = !parse.GetValue(noPeer),
    };
    return EqualTimeBenchmark.Run(settings).ToJsonString();
}));

var matmul = new Command("matmul", "fp32 and bf16 matrix-product rates (GFLOP/s) on this CPU.") { threads };
matmul.SetAction(parse => Run("matmul", parse.GetValue(threads), () => JsonSerializer.Serialize(CompareBenchmark.Matmul())));

var matmulInt8 = new Command("matmul-int8",
    "fp32, bf16 and int8 (torch._int_mm) matrix-product rates at the full-size classifier's inference shapes, with int8's error.") { threads };
matmulInt8.SetAction(parse => Run("matmul-int8", parse.GetValue(threads), () => Int8MatmulBenchmark.Run().ToJsonString()));

var lstmBatch = Int("--bs", 256, "Documents per batch.");
var lstmLength = Int("--seq-len", 16, "Tokens per document.");
var lstmRepeats = Int("--repeats", 5, "Timed repeats.");
var lstmInt8 = new Command("lstm-int8",
    "The full-size AWD-LSTM encoder's inference with libtorch's native bf16 LSTM vs int8 recurrent products, with errors against fp32.")
{
    lstmBatch, lstmLength, lstmRepeats, threads,
};
lstmInt8.SetAction(parse => Run("lstm-int8", parse.GetValue(threads), () =>
{
    var result = Int8LstmBenchmark.Run(Positive(parse.GetValue(lstmBatch), "--bs"), Positive(parse.GetValue(lstmLength), "--seq-len"),
        Positive(parse.GetValue(lstmRepeats), "--repeats"));
    result["threads"] = parse.GetValue(threads);
    return result.ToJsonString();
}));

var chunk = Int("--chunk", 8, "Time steps per block of the chunked scan.");
var repeats = Int("--repeats", 10, "Timed repeats.");
var forgetHidden = Int("--hidden", 1552, "Hidden size.");
var forgetMult = new Command("forget-mult",
    "Forward+backward of the QRNN recurrence: the library's custom node vs a chunked scan vs a naive loop.")
{
    batchSize, bptt, forgetHidden, chunk, repeats, threads,
};
forgetMult.SetAction(parse => Run("forget-mult", parse.GetValue(threads), () =>
{
    var timings = ForgetMultBenchmark.Run(parse.GetValue(batchSize), parse.GetValue(bptt), parse.GetValue(forgetHidden), parse.GetValue(chunk), parse.GetValue(repeats));
    timings["threads"] = parse.GetValue(threads);
    return JsonSerializer.Serialize(timings);
}));

var baselineTrain = new Option<string>("--train") { Required = true, Description = "Labelled training file (as `ulmfit fit --train` reads)." };
var baselineTest = new Option<string>("--test") { Required = true, Description = "Labelled test file." };
var baselineTrainSample = new Option<int?>("--train-sample") { Description = "Train on this many documents, drawn as `ulmfit fit --train-sample N --seed S` draws them." };
var baselineTestSample = new Option<int?>("--test-sample") { Description = "Score this many test documents, drawn as `ulmfit evaluate --sample M --seed S` draws them." };
var baselineSeed = Int("--seed", 42, "The seed of both draws and of ML.NET.");
var baselinePredictions = new Option<string?>("--predictions") { Description = "Also write each test document's label and class probabilities to this CSV." };
var mlnetBaseline = new Command("mlnet-baseline",
    "ML.NET's default text classifier (FeaturizeText + SdcaMaximumEntropy) trained and scored on the very documents `ulmfit fit` and `ulmfit evaluate` draw.")
{
    baselineTrain, baselineTest, baselineTrainSample, baselineTestSample, baselineSeed, baselinePredictions,
};
mlnetBaseline.SetAction(parse => Run("mlnet-baseline", 1, () =>
{
    if (parse.GetValue(baselineTrainSample) is < 1) throw new ArgumentException("--train-sample must be at least 1");
    if (parse.GetValue(baselineTestSample) is < 1) throw new ArgumentException("--test-sample must be at least 1");
    return MlNetBaseline.Run(parse.GetValue(baselineTrain)!, parse.GetValue(baselineTest)!, parse.GetValue(baselineTrainSample),
        parse.GetValue(baselineTestSample), parse.GetValue(baselineSeed), parse.GetValue(baselinePredictions)).ToJsonString();
}));

var probeLm = new Option<string?>("--lm") { Description = "Language model folder (default: the shipped forward one)." };
var probeBackwards = new Option<bool>("--backwards") { Description = "The language model reads backwards." };
var probe = new Command("linear-probe", "A linear probe of the LM's frozen encoder (concat-pooled features, L2 logistic regression, 5-fold CV) on the draws of `fit --train-sample` / `evaluate --sample`.")
{
    probeLm, probeBackwards, baselineTrain, baselineTest, baselineTrainSample, baselineTestSample, baselineSeed, threads,
};
probe.SetAction(parse => Run("linear-probe", parse.GetValue(threads), () =>
    LinearProbeExperiment.Run(parse.GetValue(probeLm) ?? Ulmfit.Pipeline.ShippedLanguageModels.Forward ?? throw new ArgumentException("no shipped forward LM found; pass --lm"),
        parse.GetValue(probeBackwards), parse.GetValue(baselineTrain)!, parse.GetValue(baselineTest)!, parse.GetValue(baselineTrainSample),
        parse.GetValue(baselineTestSample), parse.GetValue(baselineSeed)).ToJsonString()));

var tableDir = new Option<string>("--dir") { Required = true, Description = "The low-shot benchmark's output folder (cells DATASET-N-seedS)." };
var tableOut = new Option<string?>("--out") { Description = "Also write the Markdown table to this file." };
var lowShotTable = new Command("lowshot-table", "The low-shot benchmark's table (benchmarks/lowshot/run.sh): ulmfit against the ML.NET baseline per data set and label count, mean ± std over seeds.")
{
    tableDir, tableOut,
};
lowShotTable.SetAction(parse =>
{
    try
    {
        var (markdown, rows) = LowShotTable.Build(LowShotTable.Read(parse.GetValue(tableDir)!));
        if (parse.GetValue(tableOut) is { } path)
        {
            File.WriteAllText(path + ".tmp", markdown);
            File.Move(path + ".tmp", path, overwrite: true);
        }
        foreach (var row in rows) Console.WriteLine(row!.ToJsonString());
        return 0;
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine($"lowshot-table: {e.Message}");
        return 2;
    }
});

var rootCommand = new RootCommand("Ulmfit.NET benchmarks, side by side with the PyTorch peer in ../shared/peer.") { compare, equalTime, matmul, matmulInt8, lstmInt8, forgetMult, mlnetBaseline, probe, lowShotTable };
var parsed = rootCommand.Parse(args.Length == 0 ? ["compare"] : args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"benchmarks: {string.Join(" ", parsed.Errors.Select(e => e.Message))} (see --help)");
    return 2;
}
return parsed.Invoke();

// Runs one benchmark body: JSON on stdout; a bad setting is one line on stderr and exit code 2.
static int Run(string name, int threads, Func<string> body)
{
    try
    {
        TorchRuntime.Initialise(Positive(threads, "--threads"));
        Console.WriteLine(body());
        return 0;
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine($"{name}: {e.WithoutParameterName()}");
        return 2;
    }
    catch (Ulmfit.Data.InvalidInputException e)
    {
        Console.Error.WriteLine($"{name}: {e.Message}");
        return 2;
    }
}

static Option<int> Int(string name, int fallback, string description) =>
    new(name) { DefaultValueFactory = _ => fallback, Description = description };

static T Positive<T>(T value, string name) where T : System.Numerics.INumber<T> =>
    value > T.Zero ? value : throw new ArgumentException($"{name} must be positive (got {value})");

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Ulmfit.slnx"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}
