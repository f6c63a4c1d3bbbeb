using Ulmfit.Engine;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// The number format a model computes in. Parameters, gradients and optimizer state are always float32 (master
/// weights); with <see cref="BFloat16"/> the layers cast their weights and inputs to bfloat16 for the matrix work
/// (embedding rows, LSTM, tied decoder) and hand back float32 logits, so losses, AR/TAR, pooling, batch norm and
/// softmax stay in float32. <see cref="Int8"/> is for inference only. Saved models do not record it: it is a run option.
/// </summary>
public enum ComputePrecision
{
    /// <summary>Everything in float32 (the reference).</summary>
    Fp32,

    /// <summary>Matrix work in bfloat16 on float32 master weights.</summary>
    BFloat16,

    /// <summary>
    /// Inference only: every AWD-LSTM layer runs the fused native int8 kernel (<see cref="Int8LstmKernel"/>: int8
    /// weights and activations, float32 gates and state), everything else float32. Needs the kernel library and
    /// AVX2 or AVX-512 VNNI (<see cref="Int8LstmLibrary"/>); QRNN encoders are not covered. Training refuses it.
    /// </summary>
    Int8,
}

/// <summary>A layer whose forward pass follows a <see cref="ComputePrecision"/>.</summary>
public interface IComputePrecisionLayer
{
    /// <summary>The number format this layer's forward pass computes in.</summary>
    ComputePrecision Precision { get; set; }
}

/// <summary>Parsing, resolving and applying <see cref="ComputePrecision"/>.</summary>
public static class ComputePrecisions
{
    /// <summary>For int8, the instruction-set path its kernel computes with here ("avx2", "avx512-vnni"); null for the
    /// other precisions. Reports and JSON say it next to the precision.</summary>
    public static string? KernelPath(this ComputePrecision precision) =>
        precision == ComputePrecision.Int8 && Int8LstmLibrary.DefaultPath is { } path ? Int8LstmLibrary.Name(path) : null;

    /// <summary>The tensor type a precision computes in.</summary>
    public static ScalarType TensorType(this ComputePrecision precision) => precision switch
    {
        ComputePrecision.Fp32 or ComputePrecision.Int8 => ScalarType.Float32, // int8: the layers around the LSTMs
        ComputePrecision.BFloat16 => ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "unknown compute precision"),
    };

    /// <summary>
    /// The type a layer whose parameters are <paramref name="parameterType"/> computes in: bfloat16 under
    /// <see cref="ComputePrecision.BFloat16"/>, else the parameters' own type (so a model moved to float64 for a
    /// gradient check still computes in float64).
    /// </summary>
    public static ScalarType ComputeType(this ComputePrecision precision, ScalarType parameterType) =>
        precision == ComputePrecision.BFloat16 ? ScalarType.BFloat16 : parameterType;

    /// <summary>
    /// <paramref name="tensor"/> (floating point) ready for <paramref name="precision"/>'s matrix work, as a new handle
    /// the caller owns and may dispose: a differentiable cast to bfloat16 under <see cref="ComputePrecision.BFloat16"/>
    /// (its gradient arrives back in the original type), otherwise an alias of the same storage and graph node
    /// (disposing it leaves the original alive).
    /// </summary>
    public static Tensor CastTo(this Tensor tensor, ComputePrecision precision)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return precision == ComputePrecision.BFloat16 ? tensor.to(ScalarType.BFloat16) : tensor.alias();
    }

    /// <summary>The precision <c>auto</c> stands for on a CPU with <paramref name="features"/>: bf16 where the CPU
    /// has native bf16 instructions, else fp32.</summary>
    public static ComputePrecision Auto(CpuFeatures features)
    {
        ArgumentNullException.ThrowIfNull(features);
        return features.SupportsFastBFloat16 ? ComputePrecision.BFloat16 : ComputePrecision.Fp32;
    }

    /// <summary>
    /// The fastest precision <paramref name="model"/> can run inference in on this machine without losing accuracy:
    /// int8 when it has no QRNN layers and the int8 LSTM kernel runs here (test error on
    /// TREC-6, SST-2, MR and IMDb within 0.05 point of fp32, docs/benchmarks.md), else <see cref="Auto"/>.
    /// </summary>
    public static ComputePrecision FastestForInference(nn.Module model, CpuFeatures? features = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return FastestForInference(HasQrnnLayers(model) ? EncoderArchitecture.Qrnn : EncoderArchitecture.AwdLstm, features);
    }

    /// <summary>The same for a model with an <paramref name="architecture"/> encoder that is not built yet (benchmarks).</summary>
    public static ComputePrecision FastestForInference(EncoderArchitecture architecture, CpuFeatures? features = null) =>
        architecture == EncoderArchitecture.AwdLstm && Int8LstmLibrary.IsAvailable ? ComputePrecision.Int8 : Auto(features ?? CpuFeatures.Current);

    // int8 covers the LSTM layers only.
    static bool HasQrnnLayers(nn.Module model) => model.modules().Prepend(model).OfType<QrnnLayer>().Any();

    /// <summary>
    /// Parses a command-line value: <c>fp32</c>, <c>bf16</c> (also <c>bfloat16</c>), <c>int8</c> when
    /// <paramref name="allowInt8"/> (inference commands), or <c>auto</c> (resolved with <see cref="CpuFeatures.Current"/>,
    /// or <paramref name="features"/> when given, by <see cref="Auto"/>: auto never means int8).
    /// </summary>
    /// <exception cref="ArgumentException">Any other value.</exception>
    public static ComputePrecision Parse(string value, CpuFeatures? features = null, bool allowInt8 = false)
    {
        ArgumentNullException.ThrowIfNull(value);
        string choices = allowInt8 ? "fp32, bf16, int8 or auto" : "fp32, bf16 or auto";
        return value.Trim().ToLowerInvariant() switch
        {
            "fp32" or "float32" => ComputePrecision.Fp32,
            "bf16" or "bfloat16" => ComputePrecision.BFloat16,
            "int8" when allowInt8 => ComputePrecision.Int8,
            "int8" => throw new ArgumentException($"--dtype int8 is for inference (predict, evaluate, bench --mode clf-infer); training needs {choices}", nameof(value)),
            "auto" => Auto(features ?? CpuFeatures.Current),
            _ => throw new ArgumentException($"--dtype must be {choices} (got '{value}')", nameof(value)),
        };
    }

    /// <summary>The command-line name of <paramref name="precision"/>: <c>fp32</c>, <c>bf16</c> or <c>int8</c>.</summary>
    public static string Name(this ComputePrecision precision) => precision switch
    {
        ComputePrecision.BFloat16 => "bf16",
        ComputePrecision.Int8 => "int8",
        _ => "fp32",
    };

    /// <summary>
    /// Sets <paramref name="precision"/> on every <see cref="IComputePrecisionLayer"/> of <paramref name="model"/>
    /// (the model itself included): the one place a model's compute type is chosen. Returns the model.
    /// </summary>
    /// <exception cref="NotSupportedException"><see cref="ComputePrecision.Int8"/> for a model with QRNN layers.</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="ComputePrecision.Int8"/> where the kernel cannot run.</exception>
    public static T SetComputePrecision<T>(this T model, ComputePrecision precision) where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(model);
        _ = precision.TensorType(); // validates
        if (precision == ComputePrecision.Int8)
        {
            // Checked before any layer changes, so a refused model keeps its precision.
            if (HasQrnnLayers(model))
                throw new NotSupportedException("int8 inference is implemented for AWD-LSTM encoders; this model's encoder is a QRNN (use bf16)");
            if (Int8LstmLibrary.WhyUnavailable is { } why) throw new PlatformNotSupportedException($"int8 inference is not available: {why}");
        }
        if (model is IComputePrecisionLayer self) self.Precision = precision;
        foreach (var (_, module) in model.named_modules())
            if (module is IComputePrecisionLayer layer) layer.Precision = precision;
        return model;
    }

    /// <summary>
    /// The precision <paramref name="model"/>'s layers compute in: the common value of its
    /// <see cref="IComputePrecisionLayer"/>s (fp32 when it has none).
    /// </summary>
    /// <exception cref="InvalidOperationException">Its layers disagree (set them with <see cref="SetComputePrecision"/>).</exception>
    public static ComputePrecision GetComputePrecision(this nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var values = model.named_modules().Select(m => m.module).Prepend(model).OfType<IComputePrecisionLayer>()
            .Select(l => l.Precision).Distinct().ToList();
        return values.Count switch
        {
            0 => ComputePrecision.Fp32,
            1 => values[0],
            _ => throw new InvalidOperationException("the model's layers compute in different precisions"),
        };
    }
}
