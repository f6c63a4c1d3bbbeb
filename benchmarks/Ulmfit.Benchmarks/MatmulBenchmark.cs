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
        return MeasureGflops(() => a.matmul(b), 2.0 * m * k * n, repeats);
    }

    /// <summary>Median G(FL)OP/s of <paramref name="product"/>, which does <paramref name="operations"/> operations,
    /// over <paramref name="repeats"/> timed runs after three untimed ones.</summary>
    public static double MeasureGflops(Func<Tensor> product, double operations, int repeats = 10)
    {
        for (int i = 0; i < 3; i++) product().Dispose(); // warm-up: lets oneDNN/MKL pick and cache kernels
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            product().Dispose();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        times.Sort();
        return operations / times[times.Count / 2] / 1e9;
    }
}
