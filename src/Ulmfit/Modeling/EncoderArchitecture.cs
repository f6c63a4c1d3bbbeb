namespace Ulmfit.Modeling;

/// <summary>The recurrent layers an encoder stacks between the embedding and the head.</summary>
public enum EncoderArchitecture
{
    /// <summary>ULMFiT's AWD-LSTM (Merity et al. 2017): <see cref="WeightDropLstm"/> layers. Manifest name <c>awd-lstm</c>.</summary>
    AwdLstm,

    /// <summary>MultiFiT's quasi-recurrent network (Bradbury et al. 2016; Eisenschlos et al. 2019): <see cref="QrnnLayer"/>
    /// layers. Manifest name <c>qrnn</c>.</summary>
    Qrnn,
}

/// <summary>Names of <see cref="EncoderArchitecture"/> values as manifests and the command line spell them.</summary>
public static class EncoderArchitectureNames
{
    /// <summary>The AWD-LSTM's name, <c>awd-lstm</c>.</summary>
    public const string AwdLstm = "awd-lstm";

    /// <summary>The QRNN's name, <c>qrnn</c>.</summary>
    public const string Qrnn = "qrnn";

    /// <summary>Every known name, in declaration order.</summary>
    public static IReadOnlyList<string> All { get; } = [AwdLstm, Qrnn];

    /// <summary>The name of <paramref name="architecture"/>.</summary>
    public static string Name(this EncoderArchitecture architecture) => architecture switch
    {
        EncoderArchitecture.AwdLstm => AwdLstm,
        EncoderArchitecture.Qrnn => Qrnn,
        _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, "unknown encoder architecture"),
    };

    /// <summary>The architecture called <paramref name="name"/> (exact, lower case), or false when no such one exists.</summary>
    public static bool TryParse(string? name, out EncoderArchitecture architecture)
    {
        switch (name)
        {
            case AwdLstm: architecture = EncoderArchitecture.AwdLstm; return true;
            case Qrnn: architecture = EncoderArchitecture.Qrnn; return true;
            default: architecture = default; return false;
        }
    }

    /// <summary>The architecture called <paramref name="name"/>; anything else is an <see cref="ArgumentException"/> whose
    /// message is the one-line option error (as <see cref="ComputePrecisions.Parse"/> gives for <c>--dtype</c>).</summary>
    public static EncoderArchitecture Parse(string? name) =>
        TryParse(name, out var architecture) ? architecture
            : throw new ArgumentException($"--arch must be {string.Join(" or ", All)} (got '{name}')", nameof(name));

    /// <summary>Prefix of the per-layer layer-group names (<c>lstm0</c>, <c>qrnn0</c>, …).</summary>
    public static string LayerGroupPrefix(this EncoderArchitecture architecture) =>
        architecture == EncoderArchitecture.Qrnn ? "qrnn" : "lstm";
}
