using Ulmfit.Modeling;

namespace Ulmfit.IO;

/// <summary>
/// The state-dict keys and shapes of our AWD-LSTM as stored in packages: exactly <see cref="AwdLstmLanguageModel"/>'s
/// <c>state_dict()</c> (its field names; renaming a field there breaks every saved model, so a test pins both sides). V = vocabulary, E = embedding size, H = hidden size, H_l = layer l's hidden size (E for the last
/// layer, H otherwise), I_l = its input size (E for layer 0, H otherwise); gates i, f, g, o stacked along dimension 0.
/// <code>
/// encoder.embedding.weight          (V, E)    the tied matrix: also the decoder's weight, stored once
/// encoder.rnns.{l}.weight_ih_l0     (4·H_l, I_l)
/// encoder.rnns.{l}.weight_hh_l0_raw (4·H_l, H_l)  before DropConnect
/// encoder.rnns.{l}.bias_ih_l0       (4·H_l)
/// encoder.rnns.{l}.bias_hh_l0       (4·H_l)
/// decoder.bias                      (V)       language models only
/// head.*                            classifiers only; shapes checked by the head module
/// </code>
/// A QRNN package (<c>architecture.name</c> "qrnn", <see cref="Modeling.QrnnEncoder"/>) holds the same embedding, decoder
/// and head keys, and per layer, in place of the four LSTM tensors (gate blocks z, f, o along dimension 0; columns
/// x_{t−1} then x_t):
/// <code>
/// encoder.rnns.{l}.gate_weight_raw  (3·H_l, 2·I_l)  before DropConnect
/// encoder.rnns.{l}.gate_bias        (3·H_l)
/// </code>
/// </summary>
public static class AwdLstmWeightNames
{
    /// <summary>The (tied) embedding matrix.</summary>
    public const string Embedding = AwdLstmLanguageModel.EmbeddingKey;

    /// <summary>The decoder's per-token bias.</summary>
    public const string DecoderBias = AwdLstmLanguageModel.DecoderBiasKey;

    /// <summary>Prefix of the classifier head's weights.</summary>
    public const string HeadPrefix = "head.";

    /// <summary>Input-to-hidden weights of layer <paramref name="layer"/>.</summary>
    public static string InputWeight(int layer) => $"encoder.rnns.{layer}.weight_ih_l0";

    /// <summary>Hidden-to-hidden weights (before weight dropout) of layer <paramref name="layer"/>.</summary>
    public static string HiddenWeight(int layer) => $"encoder.rnns.{layer}.weight_hh_l0_raw";

    /// <summary>Input-side bias of layer <paramref name="layer"/>.</summary>
    public static string InputBias(int layer) => $"encoder.rnns.{layer}.bias_ih_l0";

    /// <summary>Hidden-side bias of layer <paramref name="layer"/>.</summary>
    public static string HiddenBias(int layer) => $"encoder.rnns.{layer}.bias_hh_l0";

    /// <summary>Gate weights (before DropConnect) of QRNN layer <paramref name="layer"/>.</summary>
    public static string QrnnGateWeight(int layer) => $"encoder.rnns.{layer}.gate_weight_raw";

    /// <summary>Gate bias of QRNN layer <paramref name="layer"/>.</summary>
    public static string QrnnGateBias(int layer) => $"encoder.rnns.{layer}.gate_bias";

    /// <summary>
    /// Every key a package of <paramref name="kind"/> with <paramref name="architecture"/> must hold, with its shape.
    /// Classifiers may hold further keys, all under <see cref="HeadPrefix"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, long[]> ExpectedShapes(ModelKind kind, ArchitectureSpec architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        long v = architecture.VocabSize, e = architecture.EmbeddingSize;
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal) { [Embedding] = [v, e] };
        for (int l = 0; l < architecture.Layers; l++)
        {
            long input = architecture.LayerInputSize(l), hidden = architecture.LayerOutputSize(l);
            if (architecture.Architecture == EncoderArchitecture.Qrnn)
            {
                shapes[QrnnGateWeight(l)] = [3 * hidden, 2 * input];
                shapes[QrnnGateBias(l)] = [3 * hidden];
                continue;
            }
            shapes[InputWeight(l)] = [4 * hidden, input];
            shapes[HiddenWeight(l)] = [4 * hidden, hidden];
            shapes[InputBias(l)] = [4 * hidden];
            shapes[HiddenBias(l)] = [4 * hidden];
        }
        if (kind == ModelKind.LanguageModel) shapes[DecoderBias] = [v];
        return shapes;
    }
}
