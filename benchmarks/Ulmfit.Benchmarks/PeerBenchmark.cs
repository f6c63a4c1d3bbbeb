using System.Diagnostics;
using System.Text.Json.Nodes;
using Ulmfit.Benchmarking;
using Ulmfit.Engine;

namespace Ulmfit.Benchmarks;

/// <summary>
/// Runs the PyTorch peer benchmark (shared/peer/torch_awd_lstm_bench.py, Debian's python3-torch) on the same shapes
/// and thread count, and returns its JSON line with its peak resident memory added. On AVX-512 CPUs it sets
/// OPENBLAS_CORETYPE=SkylakeX as the peer's README asks (OpenBLAS mis-detects them and uses generic kernels); elsewhere
/// it leaves OpenBLAS to detect the CPU, since SkylakeX kernels die with "Illegal instruction" without AVX-512. A value
/// the user set is kept either way.
/// </summary>
public static class PeerBenchmark
{
    public const string CoreTypeVariable = "OPENBLAS_CORETYPE";

    /// <summary>The OpenBLAS core type to force for the peer on a CPU with <paramref name="features"/>, or null to leave
    /// it as it is (the user's own value, or OpenBLAS's detection).</summary>
    public static string? CoreTypeFor(CpuFeatures features, string? userValue) =>
        userValue is null && features.HasAvx512 ? "SkylakeX" : null;

    public static JsonNode Run(string script, string mode, IReadOnlyDictionary<string, string> arguments, TimeSpan timeout) =>
        RunScript(script, ["--mode", mode, .. arguments.SelectMany(a => new[] { "--" + a.Key, a.Value })], timeout);

    /// <summary>Runs a Python <paramref name="script"/> with Debian's python3-torch and returns the last JSON line it
    /// prints, with its peak resident memory added (or an object with an "error" saying why there is none).</summary>
    public static JsonNode RunScript(string script, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        if (!File.Exists(script)) return new JsonObject { ["error"] = $"peer script not found: {script}" };
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        if (CoreTypeFor(CpuFeatures.Current, Environment.GetEnvironmentVariable(CoreTypeVariable)) is { } coreType)
            start.Environment[CoreTypeVariable] = coreType;
        // Our OpenMP spin limit is for our int8 kernel's threads; the peer runs with the environment the user gave.
        if (OpenMpSpinLimit.Applied) start.Environment.Remove(OpenMpSpinLimit.Variable);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // The child's high-water mark (VmHWM) only grows, so the last value read before it exits is its peak.
        double peakMegabytes = 0;
        var deadline = Stopwatch.StartNew();
        while (!process.WaitForExit(100))
        {
            peakMegabytes = Math.Max(peakMegabytes, ProcessMemory.PeakResidentMegabytes(process.Id));
            if (deadline.Elapsed > timeout)
            {
                process.Kill(entireProcessTree: true);
                return new JsonObject { ["error"] = $"peer timed out after {timeout}" };
            }
        }
        string last = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        if (process.ExitCode != 0 || !last.StartsWith('{'))
            return new JsonObject { ["error"] = $"peer exited {process.ExitCode}: {stderr.Result.Split('\n').LastOrDefault(l => l.Length > 0)}" };
        var result = JsonNode.Parse(last)!;
        result["peak_rss_mb"] = Math.Round(peakMegabytes, 1);
        return result;
    }
}
