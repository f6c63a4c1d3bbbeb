using System.Text.Json;
using System.Text.Json.Nodes;
using Ulmfit.Benchmarks;
using Ulmfit.Benchmarking;
using Ulmfit.Engine;
using static TorchSharp.torch;

// Side-by-side benchmarks; every result is one JSON line on stdout.
//   compare --mode lm-train [--vocab N --emb N --hidden N --layers N --bs N --bptt N --steps N --warmup N --threads N]
//       runs the PyTorch peer and Ulmfit.NET on the same shapes in this one run, plus fp32/bf16 matmul ceilings.
//   matmul [--threads N]
//   forget-mult [--bs N --bptt N --hidden N --chunk N --repeats N --threads N]
//       forward+backward of the QRNN recurrence: the library's custom node vs a chunked scan vs a naive loop.
var options = ParseOptions(args.Skip(1));
string command = args.Length > 0 ? args[0] : "compare";
int threads = int.Parse(options.GetValueOrDefault("threads", "2"));
TorchRuntime.Initialise(threads);

switch (command)
{
    case "matmul":
        Console.WriteLine(JsonSerializer.Serialize(Matmul()));
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
        if (mode != "lm-train") { Console.Error.WriteLine($"compare --mode {mode} is not available yet (lm-train is)"); return 2; }
        var shape = new BenchmarkShape
        {
            Vocab = Int("vocab", 60_000), Emb = Int("emb", 400), Hidden = Int("hidden", 1152), Layers = Int("layers", 3),
            BatchSize = Int("bs", 64), Bptt = Int("bptt", 70), Steps = Int("steps", 5), Warmup = Int("warmup", 2),
        };
        string script = options.GetValueOrDefault("peer", Path.Combine(FindRepositoryRoot(), "..", "shared", "peer", "torch_awd_lstm_bench.py"));
        var peerArgs = new Dictionary<string, string>
        {
            ["vocab"] = $"{shape.Vocab}", ["emb"] = $"{shape.Emb}", ["hidden"] = $"{shape.Hidden}", ["layers"] = $"{shape.Layers}",
            ["bs"] = $"{shape.BatchSize}", ["bptt"] = $"{shape.Bptt}", ["steps"] = $"{shape.Steps}", ["warmup"] = $"{shape.Warmup}",
            ["threads"] = $"{threads}", ["dtype"] = "fp32",
        };
        JsonNode? peer = PeerBenchmark.Run(script, mode, peerArgs, TimeSpan.FromMinutes(30));
        var ours = LanguageModelTrainingBenchmark.Run(shape);
        var matmul = Matmul();
        double? peerRate = peer?["tokens_per_s"]?.GetValue<double>();
        var result = new JsonObject
        {
            ["mode"] = mode,
            ["threads"] = threads,
            ["config"] = JsonSerializer.SerializeToNode(shape),
            ["ulmfit_net"] = new JsonObject
            {
                ["tokens_per_s"] = Math.Round(ours.ItemsPerSecond, 1),
                ["tokens_per_s_min"] = Math.Round(ours.ItemsPerSecondMin, 1),
                ["tokens_per_s_max"] = Math.Round(ours.ItemsPerSecondMax, 1),
                ["step_s_median"] = Math.Round(ours.MedianStepSeconds, 4),
                ["peak_rss_mb"] = Math.Round(ProcessMemory.PeakResidentMegabytes(), 1),
                ["params"] = ours.Parameters,
                ["dtype"] = "fp32",
            },
            ["peer"] = peer,
            ["speedup_vs_peer"] = peerRate is > 0 ? Math.Round(ours.ItemsPerSecond / peerRate.Value, 3) : null,
            ["matmul_gflops"] = JsonSerializer.SerializeToNode(matmul),
            ["libtorch"] = TorchRuntime.LibTorchVersion,
        };
        Console.WriteLine(result.ToJsonString());
        return 0;
    }
    default:
        Console.Error.WriteLine($"unknown benchmark '{command}' (known: compare, matmul, forget-mult)");
        return 2;
}

int Int(string name, int fallback) => options.TryGetValue(name, out var v) ? int.Parse(v) : fallback;

static Dictionary<string, object> Matmul() => new()
{
    ["fp32"] = Math.Round(MatmulBenchmark.MeasureGflops(ScalarType.Float32), 1),
    ["bf16"] = Math.Round(MatmulBenchmark.MeasureGflops(ScalarType.BFloat16), 1),
};

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
