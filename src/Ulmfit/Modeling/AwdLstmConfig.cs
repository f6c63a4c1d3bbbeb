using System.Globalization;
using Ulmfit.Text;

namespace Ulmfit.Modeling;

/// <summary>
/// Shape and regularisation of a ULMFiT encoder. Defaults are ULMFiT's AWD-LSTM: 400-dim embeddings, three LSTM layers
/// of sizes 400→1152→1152→400 (the last layer's hidden size equals the embedding size so the decoder can share the
/// embedding matrix), padding id 1, and the language-model dropouts. <see cref="Architecture"/> switches the recurrent
/// layers to MultiFiT's QRNN (see <see cref="ForMultiFit"/>); sizes and dropouts mean the same for both.
/// </summary>
/// <param name="VocabSize">Rows of the embedding matrix and columns scored by the decoder.</param>
public sealed record AwdLstmConfig(int VocabSize)
{
    /// <summary>Which recurrent layers the encoder stacks (default the AWD-LSTM).</summary>
    public EncoderArchitecture Architecture { get; init; } = EncoderArchitecture.AwdLstm;

    /// <summary>Embedding width; also the last LSTM layer's hidden size (weight tying). fastai: <c>emb_sz=400</c>.</summary>
    public int EmbeddingSize { get; init; } = DefaultEmbeddingSize;

    /// <summary>Hidden size of every LSTM layer but the last. fastai: <c>n_hid=1152</c>.</summary>
    public int HiddenSize { get; init; } = DefaultHiddenSize;

    /// <summary>Number of stacked LSTM layers. fastai: <c>n_layers=3</c>.</summary>
    public int Layers { get; init; } = DefaultLayers;

    /// <summary>ULMFiT's sizes, the one home of the defaults every option and record below uses (fastai's
    /// <c>emb_sz=400, n_hid=1152, n_layers=3</c>).</summary>
    public const int DefaultEmbeddingSize = 400, DefaultHiddenSize = 1152, DefaultLayers = 3;

    /// <summary>Padding token id: its embedding row receives no gradient from lookups. fastai: <c>pad_token=1</c>.</summary>
    public int PadId { get; init; } = SpecialTokens.PaddingId;

    /// <summary>Base dropout probabilities, before <see cref="DropMult"/> scaling.</summary>
    public AwdLstmDropouts Dropouts { get; init; } = AwdLstmDropouts.LanguageModel;

    /// <summary>Multiplies every dropout probability (ULMFiT's <c>drop_mult</c>).</summary>
    public double DropMult { get; init; } = 1.0;

    /// <summary>The probabilities the network actually uses: <see cref="Dropouts"/> scaled by <see cref="DropMult"/>.</summary>
    public AwdLstmDropouts EffectiveDropouts => Dropouts.Scale(DropMult);

    /// <summary>ULMFiT's language-model configuration for a vocabulary of <paramref name="vocabSize"/> tokens.</summary>
    public static AwdLstmConfig ForLanguageModel(int vocabSize, double dropMult = 1.0) =>
        new(vocabSize) { Dropouts = AwdLstmDropouts.LanguageModel, DropMult = dropMult };

    /// <summary>ULMFiT's classifier-encoder configuration (same shape, classifier dropouts).</summary>
    public static AwdLstmConfig ForClassifier(int vocabSize, double dropMult = 1.0) =>
        new(vocabSize) { Dropouts = AwdLstmDropouts.Classifier, DropMult = dropMult };

    /// <summary>MultiFiT's language model (Eisenschlos et al. 2019): 400-dim embeddings, four QRNN layers of 1552 units
    /// (the last one 400 wide, tied to the embedding), and the AWD-LSTM's language-model dropouts (fastai's
    /// <c>awd_qrnn_lm_config</c> uses the same values).</summary>
    public static AwdLstmConfig ForMultiFit(int vocabSize, double dropMult = 1.0) =>
        new(vocabSize) { Architecture = EncoderArchitecture.Qrnn, HiddenSize = 1552, Layers = 4, Dropouts = AwdLstmDropouts.LanguageModel, DropMult = dropMult };

    /// <summary>Input width of LSTM layer <paramref name="layer"/>: the embedding for layer 0, else the hidden size.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? EmbeddingSize : HiddenSize;

    /// <summary>Hidden (output) width of LSTM layer <paramref name="layer"/>: the embedding size for the last layer.</summary>
    public int LayerOutputSize(int layer) => layer == Layers - 1 ? EmbeddingSize : HiddenSize;

    /// <summary>Throws <see cref="ArgumentException"/> with a message that says which setting to fix.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Architecture)) throw new ArgumentException(Invariant($"Architecture {(int)Architecture} is not a known encoder architecture."));
        Positive(nameof(VocabSize), VocabSize);
        Positive(nameof(EmbeddingSize), EmbeddingSize);
        Positive(nameof(HiddenSize), HiddenSize);
        Positive(nameof(Layers), Layers);
        if (PadId < 0 || PadId >= VocabSize)
            throw new ArgumentException(Invariant($"PadId must be a token id in [0, {VocabSize}), got {PadId}."));
        if (Dropouts is null) throw new ArgumentException("Dropouts must be set (for example AwdLstmDropouts.LanguageModel).");
        if (!double.IsFinite(DropMult) || DropMult < 0)
            throw new ArgumentException(Invariant($"DropMult must be a finite number >= 0, got {DropMult}."));
        EffectiveDropouts.Validate();
    }

    static void Positive(string name, int value)
    {
        if (value <= 0) throw new ArgumentException(Invariant($"{name} must be positive, got {value}."));
    }

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
