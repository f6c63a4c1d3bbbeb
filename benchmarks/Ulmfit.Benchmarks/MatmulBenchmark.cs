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
    public static double MeasureGflops(Func<Tensor> product, double operations, int repeats = 10) =>
        operations / MedianSeconds(product, repeats) / 1e9;

    /// <summary>Median wall time of <paramref name="run"/> over <paramref name="repeats"/> timed runs after
    /// <paramref name="warmups"/> untimed ones (they let oneDNN/MKL pick and cache kernels).</summary>
    public static double MedianSeconds(Func<Tensor> run, int repeats, int warmups = 3)
    {
        for (int i = 0; i < warmups; i++) run().Dispose();
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run().Dispose();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>‖actual − expected‖ / ‖expected‖, rounded to five decimals: how far a faster number format strays.</summary>
    public static double RelativeError(Tensor actual, Tensor expected)
    {
        using var difference = actual - expected;
        return Math.Round(difference.norm().item<float>() / expected.norm().item<float>(), 5);
    }
}
