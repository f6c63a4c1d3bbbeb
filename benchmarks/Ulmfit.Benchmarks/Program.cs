using System.Text.Json;
using Ulmfit.Benchmarks;
using Ulmfit.Engine;
using static TorchSharp.torch;

// Prints one JSON line per benchmark. Usage: Ulmfit.Benchmarks matmul [--threads N]
string mode = args.Length > 0 ? args[0] : "matmul";
int threads = args.SkipWhile(a => a != "--threads").Skip(1).Select(int.Parse).FirstOrDefault(Environment.ProcessorCount);
TorchRuntime.Initialise(threads);
switch (mode)
{
    case "matmul":
        var result = new Dictionary<string, object>
        {
            ["mode"] = "matmul",
            ["threads"] = TorchRuntime.Threads,
            ["fp32_gflops"] = Math.Round(MatmulBenchmark.MeasureGflops(ScalarType.Float32), 1),
            ["bf16_gflops"] = Math.Round(MatmulBenchmark.MeasureGflops(ScalarType.BFloat16), 1),
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    default:
        Console.Error.WriteLine($"unknown benchmark mode '{mode}' (known: matmul)");
        return 2;
}
