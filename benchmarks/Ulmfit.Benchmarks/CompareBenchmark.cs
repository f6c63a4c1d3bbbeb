using System.Text.Json;
using System.Text.Json.Nodes;
using Ulmfit.Benchmarking;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Benchmarks;

/// <summary>
/// One run, three measurements on the same shapes and threads: the PyTorch peer, Ulmfit.NET, and the fp32/bf16
/// matmul ceilings of this machine right now (so MFU and the speed-up are read against the same noisy moment).
/// Inference also measures single-document latency (batch size 1) on both sides.
/// </summary>
public static class CompareBenchmark
{
    public static readonly string[] Modes = ["lm-train", "clf-train", "clf-infer"];

    /// <summary>Runs <paramref name="mode"/>: ours on <paramref name="shape"/> (its architecture and precision), the
    /// peer (an AWD-LSTM only) on <paramref name="peerShape"/> in <paramref name="peerDtype"/>; equal shapes and types
    /// unless the comparison is "our best configuration against the peer's reference".</summary>
    public static JsonObject Run(string mode, BenchmarkShape shape, BenchmarkShape peerShape, string peerDtype, int threads, string peerScript)
    {
        if (!Modes.Contains(mode)) throw new ArgumentException($"--mode must be one of {string.Join(", ", Modes)} (got '{mode}')");
        if (peerShape.Architecture != EncoderArchitecture.AwdLstm) throw new ArgumentException("the peer implements the AWD-LSTM only");
        string unit = mode == "lm-train" ? "tokens_per_s" : "docs_per_s";
        var peer = PeerBenchmark.Run(peerScript, mode, PeerArguments(peerShape, peerDtype, threads), TimeSpan.FromMinutes(30));
        var ours = Measure(mode, shape);
        double oursPeak = ProcessMemory.PeakResidentMegabytes();
        JsonNode? peerLatency = null, oursLatency = null;
        if (mode == "clf-infer")
        {
            var single = shape with { BatchSize = 1, Steps = Math.Max(shape.Steps, 10) };
            var peerSingle = peerShape with { BatchSize = 1, Steps = single.Steps };
            peerLatency = PeerBenchmark.Run(peerScript, mode, PeerArguments(peerSingle, peerDtype, threads), TimeSpan.FromMinutes(10))["step_s_median"]?.DeepClone();
            oursLatency = Math.Round(Measure(mode, single).MedianStepSeconds, 4);
        }
        var matmul = Matmul();
        double flopsPerItem = Flops(mode, shape), peerFlopsPerItem = Flops(mode, peerShape);
        double? peerRate = peer[unit]?.GetValue<double>();

        return new JsonObject
        {
            ["mode"] = mode,
            ["dtype"] = shape.Precision.Name(),
            ["peer_dtype"] = peerDtype,
            ["threads"] = threads,
            ["cpu_isa"] = CpuFeatures.Current.VectorIsa,
            ["int8_path"] = shape.Precision == ComputePrecision.Int8 && Int8LstmLibrary.DefaultPath is { } path ? Int8LstmLibrary.Name(path) : null,
            ["peer_openblas_coretype"] = PeerBenchmark.CoreTypeFor(CpuFeatures.Current, Environment.GetEnvironmentVariable(PeerBenchmark.CoreTypeVariable))
                ?? Environment.GetEnvironmentVariable(PeerBenchmark.CoreTypeVariable) ?? "detected",
            // The peer's process inherits this one's environment, so a preloaded jemalloc serves both sides.
            ["allocator"] = NativeAllocator.Current(),
            ["gomp_spincount"] = OpenMpSpinLimit.Current(), // ours; the peer runs without the limit we set (PeerBenchmark)
            ["peer_ld_preload"] = Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "",
            ["config"] = JsonSerializer.SerializeToNode(new { shape.Vocab, shape.Emb, shape.Hidden, shape.Layers, shape.BatchSize, shape.Bptt, shape.SeqLen, shape.Classes, shape.Steps, shape.Warmup, Architecture = shape.Architecture.Name() }),
            ["peer_config"] = JsonSerializer.SerializeToNode(new { peerShape.Vocab, peerShape.Emb, peerShape.Hidden, peerShape.Layers }),
            ["model_gflop_per_item"] = Math.Round(flopsPerItem / 1e9, 4),
            ["ulmfit_net"] = Side(unit, ours.ItemsPerSecond, ours.ItemsPerSecondMin, ours.ItemsPerSecondMax, ours.MedianStepSeconds,
                oursPeak, oursLatency, flopsPerItem, matmul["bf16"], ours.Parameters),
            ["peer"] = peer is JsonObject p && p[unit] != null
                ? Merge(p, Side(unit, peerRate!.Value, null, null, null, null, peerLatency, peerFlopsPerItem, matmul["bf16"], null))
                : peer,
            ["speedup_vs_peer"] = peerRate is > 0 ? Math.Round(ours.ItemsPerSecond / peerRate.Value, 3) : null,
            ["matmul_gflops"] = JsonSerializer.SerializeToNode(matmul),
            ["libtorch"] = TorchRuntime.LibTorchVersion,
        };
    }

    public static Dictionary<string, double> Matmul() => new()
    {
        ["fp32"] = Math.Round(MatmulBenchmark.MeasureGflops(ScalarType.Float32), 1),
        ["bf16"] = Math.Round(MatmulBenchmark.MeasureGflops(ScalarType.BFloat16), 1),
    };

    static double Flops(string mode, BenchmarkShape shape) => mode == "lm-train"
        ? ModelFlops.LanguageModelTrainingPerToken(shape.LanguageModelConfig())
        : ModelFlops.ClassifierPerDocument(shape.LanguageModelConfig(), shape.SeqLen, shape.Classes, training: mode == "clf-train");

    static BenchmarkTimings Measure(string mode, BenchmarkShape shape) => mode switch
    {
        "lm-train" => LanguageModelTrainingBenchmark.Run(shape),
        "clf-train" => ClassifierBenchmark.Run(shape, training: true),
        _ => ClassifierBenchmark.Run(shape, training: false),
    };

    static Dictionary<string, string> PeerArguments(BenchmarkShape shape, string dtype, int threads) => new()
    {
        ["vocab"] = $"{shape.Vocab}", ["emb"] = $"{shape.Emb}", ["hidden"] = $"{shape.Hidden}", ["layers"] = $"{shape.Layers}",
        ["bs"] = $"{shape.BatchSize}", ["bptt"] = $"{shape.Bptt}", ["seq-len"] = $"{shape.SeqLen}", ["n-classes"] = $"{shape.Classes}",
        ["steps"] = $"{shape.Steps}", ["warmup"] = $"{shape.Warmup}", ["threads"] = $"{threads}", ["dtype"] = dtype,
    };

    // MFU: model FLOP/s over the bf16 matmul rate measured in this run (the machine's practical ceiling).
    static JsonObject Side(string unit, double rate, double? min, double? max, double? stepMedian, double? peakRss,
        JsonNode? latencySeconds, double flopsPerItem, double bf16Gflops, long? parameters)
    {
        double modelGflops = rate * flopsPerItem / 1e9;
        var side = new JsonObject { [unit] = Math.Round(rate, 1) };
        if (min != null) side[$"{unit}_min"] = Math.Round(min.Value, 1);
        if (max != null) side[$"{unit}_max"] = Math.Round(max.Value, 1);
        if (stepMedian != null) side["step_s_median"] = Math.Round(stepMedian.Value, 4);
        if (peakRss != null) side["peak_rss_mb"] = Math.Round(peakRss.Value, 1);
        if (latencySeconds != null) side["latency_1doc_s"] = latencySeconds.DeepClone();
        if (parameters != null) side["params"] = parameters;
        side["model_gflops"] = Math.Round(modelGflops, 1);
        side["mfu_vs_bf16_matmul"] = bf16Gflops > 0 ? Math.Round(modelGflops / bf16Gflops, 4) : null;
        return side;
    }

    static JsonObject Merge(JsonObject peer, JsonObject computed)
    {
        var merged = (JsonObject)peer.DeepClone();
        foreach (var (key, value) in computed)
            if (!merged.ContainsKey(key)) merged[key] = value?.DeepClone();
        return merged;
    }
}
