using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Ulmfit.Benchmarks;

/// <summary>
/// Whether int8 matrix products could carry inference past what bf16 allows on this CPU: fp32, bf16 and int8 rates
/// at the full-size AWD-LSTM classifier's inference shapes, and the error int8 adds.
/// </summary>
/// <remarks>
/// Why this exists: the issue-6 goal of 3× the peer's fp32 inference is out of bf16's reach on a CPU whose bf16 matmul
/// is only 2.1–2.4× its fp32 one (AVX512-BF16 without AMX), so the next lever is int8. TorchSharp 0.107 binds only
/// quantize/dequantize, no quantized linear; libtorch's <c>torch._int_mm</c> (int8 × int8 → int32) is reachable only
/// through TorchScript, so the script below is compiled from this constant source — nothing is loaded from a file.
/// "int8 linear" is the whole dynamic-quantisation step a real layer would run: per-row activation scales, the int8
/// product, and the rescale into fp32 with per-output-channel weight scales (x: [m, k], weight: [n, k]).
/// </remarks>
public static class Int8MatmulBenchmark
{
    // TorchScript's parser wants the source to end in a newline, which a raw literal drops.
    const string Script = """
        def int_mm(a: Tensor, b: Tensor) -> Tensor:
            return torch._int_mm(a, b)

        def fbgemm_linear(xs: Tensor, w: Tensor, b: Tensor) -> Tensor:
            q, col_offsets, scale, zero_point = torch.fbgemm_linear_quantize_weight(w)
            packed = torch.fbgemm_pack_quantized_matrix(q)
            y = torch.fbgemm_linear_int8_weight_fp32_activation(xs[0], q, packed, col_offsets, scale, zero_point, b)
            for r in range(1, xs.size(0)):
                y = y + torch.fbgemm_linear_int8_weight_fp32_activation(xs[r], q, packed, col_offsets, scale, zero_point, b)
            return y
        """ + "\n";

    /// <summary>(m, k, n) of the products one inference batch runs, with what each one is.</summary>
    static readonly (int M, int K, int N, string What)[] Shapes =
    [
        (256, 1152, 4608, "recurrent product, layers 1-2, batch 256"),
        (256, 400, 1600, "recurrent product, layer 3, batch 256"),
        (64, 1152, 4608, "recurrent product, layers 1-2, batch 64"),
        (1, 1152, 4608, "recurrent product, one document"),
        (4096, 400, 4608, "input product, layer 1, 256 documents x 16 tokens"),
        (4096, 1152, 4608, "input product, layer 2, 256 documents x 16 tokens"),
    ];

    public static JsonArray Run(int repeats = 10)
    {
        using var unit = torch.jit.compile(Script);
        var rows = new JsonArray();
        foreach (var (m, k, n, what) in Shapes)
        {
            using var scope = NewDisposeScope();
            var x = randn(m, k);
            var weight = randn(n, k) * 0.05;
            var weightScale = weight.abs().amax([1]) / 127;                                         // [n]
            var weightInt8 = (weight / weightScale.unsqueeze(1)).round().clamp(-127, 127).to(ScalarType.Int8);  // [n, k]
            var weightInt8T = weightInt8.t().contiguous();                                           // [k, n]
            var (xb, wb) = (x.to(ScalarType.BFloat16), weight.to(ScalarType.BFloat16));
            var xInt8 = randint(-127, 127, [m, k], dtype: ScalarType.Int8);
            var bias = zeros(n);
            var inputs = randn(FbgemmProducts + 1, m, k);

            Tensor Int8Linear()
            {
                using var inner = NewDisposeScope();
                var rowScale = x.abs().amax([1], keepdim: true).clamp_min(1e-8) / 127;              // [m, 1]
                var xq = (x / rowScale).round_().to(ScalarType.Int8);
                var acc = (Tensor)unit.invoke("int_mm", xq, weightInt8T);                           // [m, n] int32
                return (acc.to(ScalarType.Float32) * (rowScale * weightScale)).MoveToOuterDisposeScope();
            }

            using var reference = x.matmul(weight.t());
            using var viaBf16 = xb.matmul(wb.t()).to(ScalarType.Float32);
            using var viaInt8 = Int8Linear();
            double flops = 2.0 * m * k * n;
            rows.Add(new JsonObject
            {
                ["m"] = m, ["k"] = k, ["n"] = n, ["what"] = what,
                ["fp32_gflops"] = Rate(() => x.matmul(weight.t()), flops, repeats),
                ["bf16_gflops"] = Rate(() => xb.matmul(wb.t()), flops, repeats),
                ["int8_product_gops"] = Rate(() => (Tensor)unit.invoke("int_mm", xInt8, weightInt8T), flops, repeats),
                ["int8_linear_gops"] = Rate(Int8Linear, flops, repeats),
                ["fbgemm_dynamic_linear_gops"] = FbgemmRate(unit, inputs, weight, bias, flops, repeats),
                ["bf16_relative_error"] = RelativeError(viaBf16, reference),
                ["int8_relative_error"] = RelativeError(viaInt8, reference),
                ["fbgemm_relative_error"] = FbgemmError(unit, inputs, weight, bias),
            });
        }
        return rows;
    }

    const int FbgemmProducts = 8;

    /// <summary>
    /// FBGEMM's dynamic int8 linear (per-tensor weight scale, activations quantised inside; what PyTorch's dynamic
    /// quantisation ran before its packed-parameter ops, which this TorchScript resolver cannot reach): its rate is
    /// the time of one call running <see cref="FbgemmProducts"/> + 1 products minus that of a call running one, so
    /// the weight's quantisation and packing (once per call) cancel out. Each product reads a different input and adds
    /// into the result: with one input, or results left unused, TorchScript's optimiser drops the repeated products.
    /// </summary>
    static double? FbgemmRate(jit.CompilationUnit unit, Tensor inputs, Tensor weight, Tensor bias, double flops, int repeats)
    {
        using var one = inputs.narrow(0, 0, 1);
        double Seconds(Tensor xs) => MatmulBenchmark.MedianSeconds(() => (Tensor)unit.invoke("fbgemm_linear", xs, weight, bias), repeats);
        double extra = Seconds(inputs) - Seconds(one);
        return extra > 0 ? Math.Round(FbgemmProducts * flops / extra / 1e9, 1) : null;  // null: too noisy to tell
    }

    static double FbgemmError(jit.CompilationUnit unit, Tensor inputs, Tensor weight, Tensor bias)
    {
        using var scope = NewDisposeScope();
        var one = inputs.narrow(0, 0, 1);
        return RelativeError((Tensor)unit.invoke("fbgemm_linear", one, weight, bias), one[0].matmul(weight.t()));
    }

    static double RelativeError(Tensor actual, Tensor expected) => MatmulBenchmark.RelativeError(actual, expected);

    static double Rate(Func<Tensor> product, double operations, int repeats) =>
        Math.Round(MatmulBenchmark.MeasureGflops(product, operations, repeats), 1);
}
