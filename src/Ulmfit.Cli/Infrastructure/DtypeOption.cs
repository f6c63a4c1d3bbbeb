using System.CommandLine;
using Ulmfit.Engine;
using Ulmfit.Modeling;

namespace Ulmfit.Cli.Infrastructure;

/// <summary>
/// <c>--dtype fp32|bf16|auto</c> (and <c>int8</c> for inference commands): the compute type of training and inference.
/// Weights, gradients and optimizer state stay float32 and saved models are the same either way; <c>auto</c> picks
/// bf16 on CPUs with native bf16 instructions (AMX-BF16 or AVX-512 BF16) and fp32 elsewhere, and for inference
/// commands int8 first where the int8 LSTM kernel runs and the model is an AWD-LSTM.
/// </summary>
internal sealed class DtypeOption
{
    /// <summary>The value used when the option is not given.</summary>
    public const string DefaultValue = "auto";

    /// <param name="inference">True for commands that only run models (predict, evaluate): they also accept int8.</param>
    public DtypeOption(bool inference = false)
    {
        Inference = inference;
        Option = new("--dtype")
        {
            Description = inference
                ? "Compute type: fp32, bf16 (matrix work in bfloat16), int8 (fused int8 LSTM kernel; AWD-LSTM models on AVX2 or AVX-512 VNNI CPUs) or auto (int8 where it runs, else bf16 where the CPU has native bf16, else fp32)."
                : "Compute type: fp32, bf16 (matrix work in bfloat16 on float32 weights) or auto (bf16 where the CPU has native bf16).",
            DefaultValueFactory = _ => DefaultValue,
        };
    }

    /// <summary>True when int8 is accepted.</summary>
    public bool Inference { get; }

    public Option<string> Option { get; }

    public void AddTo(Command command) => command.Options.Add(Option);

    /// <summary>The precision the parsed value stands for on this machine.</summary>
    public ComputePrecision Resolve(ParseResult parse) => Parse(parse.GetValue(Option)!, Inference);

    /// <summary>Predictor options for an inference command: <c>auto</c> lets each loaded classifier take the fastest
    /// precision that keeps accuracy (int8 for AWD-LSTM where the kernel runs); any other value is used as given.</summary>
    public Classification.TextClassifierPredictorOptions PredictorOptions(ParseResult parse)
    {
        string value = parse.GetValue(Option)!;
        return IsAuto(value) ? new() { FastestPrecision = true } : new() { Precision = Parse(value, Inference) };
    }

    /// <summary>An inference value for a model of <paramref name="architecture"/> not loaded from a file (bench):
    /// <c>auto</c> is <see cref="ComputePrecisions.FastestForInference(EncoderArchitecture, CpuFeatures?)"/>, as in
    /// <see cref="PredictorOptions"/>; any other value is parsed.</summary>
    public static ComputePrecision ParseForInference(string value, EncoderArchitecture architecture) =>
        IsAuto(value) ? ComputePrecisions.FastestForInference(architecture) : Parse(value, inference: true);

    static bool IsAuto(string value) => string.Equals(value.Trim(), DefaultValue, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses fp32, bf16, auto, and int8 when <paramref name="inference"/>; anything else, and int8 where its
    /// kernel cannot run, is a one-line option error.</summary>
    public static ComputePrecision Parse(string value, bool inference = false)
    {
        ComputePrecision precision;
        try
        {
            precision = ComputePrecisions.Parse(value, CpuFeatures.Current, allowInt8: inference);
        }
        catch (ArgumentException e)
        {
            throw new OptionException(e.Message.Split(" (Parameter", 2)[0]);
        }
        if (precision == ComputePrecision.Int8 && Int8LstmLibrary.WhyUnavailable is { } why)
            throw new OptionException($"--dtype int8 is not available here: {why}");
        return precision;
    }
}
