using System.Text.Json;
using Ulmfit.Benchmarks;
using Ulmfit.Benchmarking;
using Ulmfit.Engine;
using Ulmfit.Modeling;

// Side-by-side benchmarks; every result is one JSON line on stdout.
//   compare --mode lm-train|clf-train|clf-infer [--dtype fp32|bf16|auto] [--arch awd-lstm|qrnn]
//           [--peer-dtype fp32|bf16 --peer-hidden N --peer-layers N] [--vocab N --emb N --hidden N --layers N --bs N
//           --bptt N --seq-len N --classes N --steps N --warmup N --threads N --peer PATH]
//       runs the PyTorch peer and Ulmfit.NET on the same shapes in this one run, plus fp32/bf16 matmul ceilings,
//       peak RSS of both, MFU against the bf16 matmul, and (clf-infer) single-document latency.
//   lm-equal-time --corpus DIR [--minutes M --max-vocab N --token-cache DIR --arch --dtype --emb --hidden --layers --bs --bptt --lr
//           --peer-emb N --peer-hidden N --peer-layers N --peer-lr X --work DIR]
//       ours and the peer's fp32 AWD-LSTM each train an LM for the same wall time on the same corpus, one core each,
//       side by side; then both are scored on the corpus's validation text (tokens/s and perplexity of both).
//   matmul [--threads N]
//   forget-mult [--bs N --bptt N --hidden N --chunk N --repeats N --threads N]
//       forward+backward of the QRNN recurrence: the library's custom node vs a chunked scan vs a naive loop.
var options = ParseOptions(args.Skip(1));
string command = args.Length > 0 ? args[0] : "compare";
// lm-equal-time gives ours and the peer one core each, side by side.
int threads = command == "lm-equal-time" ? 1 : int.Parse(options.GetValueOrDefault("threads", "2"));
TorchRuntime.Initialise(threads);

switch (command)
{
    case "matmul":
        Console.WriteLine(JsonSerializer.Serialize(CompareBenchmark.Matmul()));
        return 0;
    case "forget-mult":
    {
        var timings = ForgetMultBenchmark.Run(Int("bs", 64), Int("bptt", 70), Int("hidden", 1552), Int("chunk", 8), Int("repeats", 10));
        timings["threads"] = threads;
        Console.WriteLine(JsonSerializer.Serialize(timings));
        return 0;
    }
    case "compare":
    {
        string mode = options.GetValueOrDefault("mode", "lm-train");
        var shape = new BenchmarkShape
        {
            Vocab = Int("vocab", 60_000), Emb = Int("emb", 400), Hidden = Int("hidden", 1152), Layers = Int("layers", 3),
            BatchSize = Int("bs", 64), Bptt = Int("bptt", 70), SeqLen = Int("seq-len", 256), Classes = Int("classes", 6),
            Steps = Int("steps", 5), Warmup = Int("warmup", 2),
        };
        string script = options.GetValueOrDefault("peer", Path.Combine(FindRepositoryRoot(), "..", "shared", "peer", "torch_awd_lstm_bench.py"));
        try
        {
            var precision = ComputePrecisions.Parse(options.GetValueOrDefault("dtype", "fp32"));
            string arch = options.GetValueOrDefault("arch", "awd-lstm");
            if (!EncoderArchitectureNames.TryParse(arch, out var architecture)) throw new ArgumentException($"--arch must be awd-lstm or qrnn (got '{arch}')");
            shape = shape with { Precision = precision, Architecture = architecture };
            // The peer is the PyTorch AWD-LSTM: the same shape unless --peer-hidden/--peer-layers name its own (for
            // "our best configuration against the reference"), the same number type unless --peer-dtype says otherwise.
            var peerShape = shape with
            {
                Architecture = EncoderArchitecture.AwdLstm, Precision = ComputePrecision.Fp32,
                Hidden = Int("peer-hidden", architecture == EncoderArchitecture.AwdLstm ? shape.Hidden : 1152),
                Layers = Int("peer-layers", architecture == EncoderArchitecture.AwdLstm ? shape.Layers : 3),
            };
            string peerDtype = options.GetValueOrDefault("peer-dtype", precision.Name());
            Console.WriteLine(CompareBenchmark.Run(mode, shape, peerShape, peerDtype, threads, script).ToJsonString());
            return 0;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"compare: {e.Message}");
            return 2;
        }
    }
    case "lm-equal-time":
    {
        if (!options.TryGetValue("corpus", out var corpusPath)) { Console.Error.WriteLine("lm-equal-time: --corpus DIR is required"); return 2; }
        string root = FindRepositoryRoot();
        try
        {
            var precision = ComputePrecisions.Parse(options.GetValueOrDefault("dtype", "bf16"));
            string arch = options.GetValueOrDefault("arch", "awd-lstm");
            if (!EncoderArchitectureNames.TryParse(arch, out var architecture)) throw new ArgumentException($"--arch must be awd-lstm or qrnn (got '{arch}')");
            var settings = new EqualTimeSettings
            {
                Corpus = corpusPath,
                PeerModule = options.GetValueOrDefault("peer", Path.Combine(root, "..", "shared", "peer", "torch_awd_lstm_bench.py")),
                PeerTrainer = Path.Combine(root, "benchmarks", "peer", "train_lm_on_tokens.py"),
                WorkDirectory = options.GetValueOrDefault("work", Path.Combine(root, "runs", "lm-equal-time")),
                TokenCache = options.GetValueOrDefault("token-cache"),
                Seconds = 60 * double.Parse(options.GetValueOrDefault("minutes", "10"), System.Globalization.CultureInfo.InvariantCulture),
                MaxVocab = Int("max-vocab", 20_000),
                Ours = new BenchmarkShape
                {
                    Architecture = architecture, Precision = precision, Emb = Int("emb", 128), Hidden = Int("hidden", 512),
                    Layers = Int("layers", 3), BatchSize = Int("bs", 64), Bptt = Int("bptt", 70),
                },
                Peer = new BenchmarkShape { Emb = Int("peer-emb", 400), Hidden = Int("peer-hidden", 1152), Layers = Int("peer-layers", 3), BatchSize = Int("bs", 64), Bptt = Int("bptt", 70) },
                LearningRate = double.Parse(options.GetValueOrDefault("lr", "8e-3"), System.Globalization.CultureInfo.InvariantCulture),
                PeerLearningRate = double.Parse(options.GetValueOrDefault("peer-lr", "8e-3"), System.Globalization.CultureInfo.InvariantCulture),
            };
            Console.WriteLine(EqualTimeBenchmark.Run(settings).ToJsonString());
            return 0;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"lm-equal-time: {e.Message}");
            return 2;
        }
    }
    default:
        Console.Error.WriteLine($"unknown benchmark '{command}' (known: compare, lm-equal-time, matmul, forget-mult)");
        return 2;
}

int Int(string name, int fallback) => options.TryGetValue(name, out var v) ? int.Parse(v) : fallback;

static Dictionary<string, string> ParseOptions(IEnumerable<string> args)
{
    var result = new Dictionary<string, string>();
    string? name = null;
    foreach (string a in args)
    {
        if (a.StartsWith("--")) { name = a[2..]; result[name] = "true"; }
        else if (name != null) { result[name] = a; name = null; }
    }
    return result;
}

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Ulmfit.slnx"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}
