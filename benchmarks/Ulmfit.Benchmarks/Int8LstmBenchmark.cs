using System.Text.Json.Nodes;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Benchmarks;

/// <summary>
/// Whether int8 recurrent products make the full-size AWD-LSTM encoder's inference faster than libtorch's native bf16
/// LSTM: the three layers (400→1152→1152→400) on one batch, timed both ways, with each way's error against fp32.
/// </summary>
/// <remarks>
/// Why: <see cref="Int8MatmulBenchmark"/> found the int8 product (with its quantisation) 1.4–1.6× the bf16 one at the
/// recurrent shapes and slower at the input shapes, so the candidate path keeps the input products in bf16 (one GEMM
/// over all steps) and moves only h·W_hhᵀ to int8. The recurrence cannot use the native kernel then, so it is a loop
/// of element-wise ops per step: this measures whether what the product gains survives that loop. The loop runs in
/// TorchScript compiled from the constant source below (one native call per layer, not ~15 P/Invokes per step).
/// Weights: per-output-channel symmetric int8; h: per-row scales computed each step (h is in (-1, 1)).
/// </remarks>
public static class Int8LstmBenchmark
{
    // (Dtypes come from the arguments: this resolver rejects torch.int8 as a value.)
    // gx: (batch, seq, 4h) float32 input products plus both biases; h, c: (batch, h); wq: (h, 4h) int8 = W_hhᵀ
    // quantised; ws: (4h) float32 weight scales. Returns (batch, seq + 1, h): the outputs, then the last cell state.
    const string Script = """
        def lstm_cell(g: Tensor, c: Tensor) -> Tuple[Tensor, Tensor]:
            i, f, gg, o = g.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
            return torch.sigmoid(o) * torch.tanh(c), c

        def lstm_int8(gx: Tensor, h: Tensor, c: Tensor, wq: Tensor, ws: Tensor) -> Tensor:
            outs: List[Tensor] = []
            for t in range(gx.size(1)):
                s = h.abs().amax(1, keepdim=True).clamp_min(1e-8) / 127.0
                hq = torch.round(h / s).to(wq.dtype)
                h, c = lstm_cell(torch.addcmul(gx[:, t], torch._int_mm(hq, wq).to(gx.dtype), s * ws), c)
                outs.append(h)
            outs.append(c)
            return torch.stack(outs, 1)

        def lstm_bf16(gx: Tensor, h: Tensor, c: Tensor, wb: Tensor) -> Tensor:
            outs: List[Tensor] = []
            for t in range(gx.size(1)):
                h, c = lstm_cell(gx[:, t] + torch.mm(h.to(wb.dtype), wb).to(gx.dtype), c)
                outs.append(h)
            outs.append(c)
            return torch.stack(outs, 1)
        """ + "\n";

    public static JsonObject Run(int batch, int length, int repeats)
    {
        using var unit = jit.compile(Script);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long[] sizes = [400, 1152, 1152, 400];
        var layers = Enumerable.Range(0, 3).Select(l => new WeightDropLstm(sizes[l], sizes[l + 1], 0)).ToArray();
        foreach (var layer in layers) layer.eval();
        var quantised = layers.Select(Quantise).ToArray();
        var hiddenBf16T = layers.Select(l => l.RawHiddenWeight.detach().t().contiguous().to(ScalarType.BFloat16)).ToArray(); // (h, 4h)
        var input = randn(batch, length, 400) * 0.3;                        // embedding-scale inputs

        Tensor Native(ComputePrecision precision)
        {
            using var inner = NewDisposeScope();
            var x = input;
            foreach (var layer in layers) { layer.Precision = precision; x = layer.Forward(x).Output; }
            return x.to(ScalarType.Float32).MoveToOuterDisposeScope();
        }

        Tensor Int8() => Loop(bf16: false);

        // The same loop with the recurrent product in bf16: what the loop costs against the native kernel.
        Tensor Bf16Loop() => Loop(bf16: true);

        Tensor Loop(bool bf16)
        {
            using var inner = NewDisposeScope();
            var x = input.to(ScalarType.BFloat16);
            Tensor output = x;
            for (int l = 0; l < layers.Length; l++)
            {
                var (inputWeight, bias, hiddenInt8, hiddenScale) = quantised[l];
                long hidden = layers[l].HiddenSize;
                var gx = x.matmul(inputWeight.t()).to(ScalarType.Float32).add_(bias);          // (batch, seq, 4h)
                var h0 = zeros(batch, hidden);
                var packed = bf16
                    ? (Tensor)unit.invoke("lstm_bf16", gx, h0, h0, hiddenBf16T[l])
                    : (Tensor)unit.invoke("lstm_int8", gx, h0, h0, hiddenInt8, hiddenScale);   // (batch, seq+1, h)
                output = packed.narrow(1, 0, length);
                x = output.to(ScalarType.BFloat16);
            }
            return output.MoveToOuterDisposeScope();
        }

        var reference = Native(ComputePrecision.Fp32);
        var viaBf16 = Native(ComputePrecision.BFloat16);
        var viaInt8 = Int8();
        var viaBf16Loop = Bf16Loop();
        // The fused native int8 kernel (Int8LstmKernel, what --dtype int8 runs), where it can run here.
        bool fused = Int8LstmLibrary.IsAvailable;
        var viaFused = fused ? Native(ComputePrecision.Int8) : null;
        double? fusedSeconds = fused ? MedianSeconds(() => Native(ComputePrecision.Int8), repeats) : null;
        double bf16Seconds = MedianSeconds(() => Native(ComputePrecision.BFloat16), repeats);
        double int8Seconds = MedianSeconds(Int8, repeats);
        double bf16LoopSeconds = MedianSeconds(Bf16Loop, repeats);
        double fp32Seconds = MedianSeconds(() => Native(ComputePrecision.Fp32), repeats);
        foreach (var layer in layers) layer.Dispose();
        return new JsonObject
        {
            ["batch"] = batch, ["length"] = length,
            ["fp32_native_s"] = Math.Round(fp32Seconds, 4),
            ["bf16_native_s"] = Math.Round(bf16Seconds, 4),
            ["bf16_loop_s"] = Math.Round(bf16LoopSeconds, 4),
            ["int8_recurrent_s"] = Math.Round(int8Seconds, 4),
            ["int8_speedup_over_bf16"] = Math.Round(bf16Seconds / int8Seconds, 3),
            ["bf16_relative_error"] = RelativeError(viaBf16, reference),
            ["bf16_loop_relative_error"] = RelativeError(viaBf16Loop, reference),
            ["int8_relative_error"] = RelativeError(viaInt8, reference),
            ["int8_fused_s"] = fusedSeconds is { } f ? Math.Round(f, 4) : null,
            ["int8_fused_speedup_over_bf16"] = fusedSeconds is { } g ? Math.Round(bf16Seconds / g, 3) : null,
            ["int8_fused_relative_error"] = viaFused is null ? null : RelativeError(viaFused, reference),
            ["int8_fused_unavailable"] = Int8LstmLibrary.WhyUnavailable,
        };
    }

    // The int8 path's weights: W_ih in bf16, the two biases summed, W_hhᵀ per output channel in int8 with its scales.
    static (Tensor InputWeight, Tensor Bias, Tensor HiddenInt8, Tensor HiddenScale) Quantise(WeightDropLstm layer)
    {
        var w = layer.RawHiddenWeight.detach();                                            // (4h, h)
        var scale = w.abs().amax([1]).clamp_min(1e-12) / 127;                               // (4h)
        var q = (w / scale.unsqueeze(1)).round().clamp(-127, 127).to(ScalarType.Int8).t().contiguous(); // (h, 4h)
        return (layer.InputWeight.detach().to(ScalarType.BFloat16), layer.InputBias.detach() + layer.HiddenBias.detach(), q, scale);
    }

    // One untimed run each: a whole encoder pass is long enough to settle the kernels.
    static double MedianSeconds(Func<Tensor> run, int repeats) => MatmulBenchmark.MedianSeconds(run, repeats, warmups: 1);

    static double RelativeError(Tensor actual, Tensor expected) => MatmulBenchmark.RelativeError(actual, expected);
}
