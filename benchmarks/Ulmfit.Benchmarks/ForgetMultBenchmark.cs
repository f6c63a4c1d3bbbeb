using System.Diagnostics;
using TorchSharp;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Benchmarks;

/// <summary>
/// Forward + backward time of the QRNN recurrence c_t = f_t·z_t + (1 − f_t)·c_{t−1} in four formulations: the
/// library's custom autograd node (<see cref="ForgetMultFunction"/> on <see cref="ForgetMultKernel"/>), the same node's
/// tensor-op fallback (one in-place <c>addcmul_</c> per step each way), a chunked parallel scan (plain autograd ops, a
/// few nodes per chunk), and the naive per-step autograd loop.
/// </summary>
public static class ForgetMultBenchmark
{
    /// <summary>Median milliseconds per forward+backward for each formulation, at (batch, seq, hidden).</summary>
    public static Dictionary<string, double> Run(int batch, int seq, int hidden, int chunk, int repeats)
    {
        double difference;
        using (var scope = NewDisposeScope())
        {
            var f = rand(batch, seq, hidden);
            var z = randn(batch, seq, hidden);
            var c0 = randn(batch, hidden);
            difference = (ForgetMultFunction.Apply(f, z, c0) - ChunkedScan(f, z, c0, chunk)).abs().max().item<float>();
        }
        return new Dictionary<string, double>
        {
            ["chunked_vs_custom_max_abs_diff"] = difference,
            ["custom_function_ms"] = Time(batch, seq, hidden, repeats, ForgetMultFunction.Apply),
            ["custom_function_tensor_op_loop_ms"] = TimeTensorOpLoop(batch, seq, hidden, repeats),
            [$"chunked_scan_k{chunk}_ms"] = Time(batch, seq, hidden, repeats, (f, z, c0) => ChunkedScan(f, z, c0, chunk)),
            ["naive_autograd_loop_ms"] = Time(batch, seq, hidden, repeats, NaiveLoop),
            ["whole_qrnn_layer_ms"] = TimeLayer(batch, seq, hidden, repeats),
        };
    }

    /// <summary>The custom function's fallback (one in-place libtorch op per step each way), called directly.</summary>
    static double TimeTensorOpLoop(int batch, int seq, int hidden, int repeats)
    {
        var times = new List<double>();
        for (int i = 0; i < repeats + 1; i++)
        {
            using var scope = NewDisposeScope();
            var f = rand(batch, seq, hidden);
            var z = randn(batch, seq, hidden);
            var c0 = zeros(batch, hidden);
            var upstream = randn(batch, seq, hidden);
            long start = Stopwatch.GetTimestamp();
            var c = ForgetMultFunction.ScanWithTensorOps(f, z, c0);
            ForgetMultFunction.GradientsWithTensorOps(f, z, c0, c, upstream);
            if (i > 0) times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        times.Sort();
        return Math.Round(times[times.Count / 2], 2);
    }

    /// <summary>A whole inner <see cref="QrnnLayer"/> (hidden → hidden, DropConnect on) forward+backward, for scale.</summary>
    static double TimeLayer(int batch, int seq, int hidden, int repeats)
    {
        using var layer = new QrnnLayer(hidden, hidden, weightDropout: 0.2);
        layer.train();
        var times = new List<double>();
        for (int i = 0; i < repeats + 1; i++)
        {
            using var scope = NewDisposeScope();
            var x = randn(batch, seq, hidden).requires_grad_(true);
            long start = Stopwatch.GetTimestamp();
            var (output, _) = layer.Forward(x);
            output.sum().backward();
            if (i > 0) times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            layer.zero_grad();
        }
        times.Sort();
        return Math.Round(times[times.Count / 2], 2);
    }

    static double Time(int batch, int seq, int hidden, int repeats, Func<Tensor, Tensor, Tensor, Tensor> forgetMult)
    {
        var times = new List<double>();
        for (int i = 0; i < repeats + 1; i++)
        {
            using var scope = NewDisposeScope();
            var f = rand(batch, seq, hidden).requires_grad_(true);
            var z = randn(batch, seq, hidden).requires_grad_(true);
            var c0 = zeros(batch, hidden);
            var upstream = randn(batch, seq, hidden);
            long start = Stopwatch.GetTimestamp();
            var c = forgetMult(f, z, c0);
            c.backward([upstream]);
            if (i > 0) times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds); // the first run warms up
        }
        times.Sort();
        return Math.Round(times[times.Count / 2], 2);
    }

    /// <summary>
    /// The recurrence in chunks of <paramref name="k"/> steps, each solved in parallel: within a chunk
    /// c_t = Σ_{s≤t} (Π_{r=s+1..t} a_r)·b_s + (Π_{r≤t} a_r)·c_start with a = 1 − f, b = f·z, the products taken in log
    /// space from one cumulative sum (stable: every exponent is ≤ 0). K times the arithmetic of the sequential scan,
    /// but only seq/K sequential stages.
    /// </summary>
    static Tensor ChunkedScan(Tensor forget, Tensor candidate, Tensor initial, int k)
    {
        long seq = forget.shape[1];
        var retain = 1 - forget;                          // a (batch, seq, hidden)
        var input = forget * candidate;                   // b
        var logRetain = retain.clamp_min(1e-30).log();
        var previous = initial;                           // (batch, hidden)
        var chunks = new List<Tensor>();
        for (long s = 0; s < seq; s += k)
        {
            long len = Math.Min(k, seq - s);
            var cs = logRetain.narrow(1, s, len).cumsum(1);                 // (batch, len, hidden)
            var exponent = cs.unsqueeze(2) - cs.unsqueeze(1);               // (batch, t, s, hidden): log Π a_{s+1..t}
            using var lower = ones(len, len, dtype: ScalarType.Bool).tril().reshape(1, len, len, 1);
            var weights = exponent.masked_fill(lower.logical_not(), double.NegativeInfinity).exp();
            var local = (weights * input.narrow(1, s, len).unsqueeze(1)).sum(2);   // (batch, len, hidden)
            var c = local + cs.exp() * previous.unsqueeze(1);
            chunks.Add(c);
            previous = c.select(1, len - 1);
        }
        return cat(chunks, 1);
    }

    static Tensor NaiveLoop(Tensor forget, Tensor candidate, Tensor initial)
    {
        var c = initial;
        var steps = new List<Tensor>();
        for (long t = 0; t < forget.shape[1]; t++)
        {
            var f = forget.select(1, t);
            c = f * candidate.select(1, t) + (1 - f) * c;
            steps.Add(c);
        }
        return stack(steps, 1);
    }
}
