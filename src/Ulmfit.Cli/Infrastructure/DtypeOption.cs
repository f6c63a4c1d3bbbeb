using System.CommandLine;
using Ulmfit.Engine;
using Ulmfit.Modeling;

namespace Ulmfit.Cli.Infrastructure;

/// <summary>
/// <c>--dtype fp32|bf16|auto</c>: the compute type of training and inference. Weights, gradients and optimizer state
/// stay float32 and saved models are the same either way; <c>auto</c> picks bf16 on CPUs with native bf16
/// instructions (AMX-BF16 or AVX-512 BF16) and fp32 elsewhere.
/// </summary>
internal sealed class DtypeOption
{
    /// <summary>The value used when the option is not given.</summary>
    public const string DefaultValue = "auto";

    public Option<string> Option { get; } = new("--dtype")
    {
        Description = "Compute type: fp32, bf16 (matrix work in bfloat16 on float32 weights) or auto (bf16 where the CPU has native bf16).",
        DefaultValueFactory = _ => DefaultValue,
    };

    public void AddTo(Command command) => command.Options.Add(Option);

    /// <summary>The precision the parsed value stands for on this machine.</summary>
    public ComputePrecision Resolve(ParseResult parse) => Parse(parse.GetValue(Option)!);

    /// <summary>Parses fp32, bf16 or auto; anything else is a one-line option error.</summary>
    public static ComputePrecision Parse(string value)
    {
        try
        {
            return ComputePrecisions.Parse(value, CpuFeatures.Current);
        }
        catch (ArgumentException e)
        {
            throw new OptionException(e.Message.Split(" (Parameter", 2)[0]);
        }
    }
}
