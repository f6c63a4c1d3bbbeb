using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Ulmfit.Benchmarks;

/// <summary>
/// Dense matrix-product throughput in a given dtype: the ceiling model FLOPs utilisation is measured against.
/// </summary>
public static class MatmulBenchmark
{
    /// <summary>Median GFLOP/s of (m×k)·(k×n) products over <paramref name="repeats"/> timed runs.</summary>
    public static double MeasureGflops(ScalarType dtype, int m = 2048, int k = 2048, int n = 2048, int repeats = 10)
    {
        using var scope = NewDisposeScope();
        var a = randn(m, k).to(dtype);
        var b = randn(k, n).to(dtype);
        for (int i = 0; i < 3; i++) a.matmul(b).Dispose(); // warm-up: lets oneDNN/MKL pick and cache kernels
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            a.matmul(b).Dispose();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        times.Sort();
        return 2.0 * m * k * n / times[times.Count / 2] / 1e9;
    }
}
