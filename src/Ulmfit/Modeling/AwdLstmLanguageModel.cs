using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// ULMFiT's language model: a recurrent encoder (an <see cref="AwdLstmEncoder"/>, or MultiFiT's
/// <see cref="QrnnEncoder"/> when <see cref="AwdLstmConfig.Architecture"/> says so), locked output dropout on the last
/// layer, and a linear decoder (emb → vocab, with bias) whose weight is the embedding matrix itself
/// (<see cref="TiedDecoder"/>).
/// </summary>
/// <remarks>
/// State-dict keys (stable; renaming breaks saved models): <c>encoder.embedding.weight</c> (vocab, emb);
/// <c>encoder.rnns.{l}.weight_ih_l0</c>, <c>encoder.rnns.{l}.weight_hh_l0_raw</c>, <c>encoder.rnns.{l}.bias_ih_l0</c>,
/// <c>encoder.rnns.{l}.bias_hh_l0</c> for l = 0..Layers-1; <c>decoder.bias</c> (vocab). The decoder's weight is
/// <c>encoder.embedding.weight</c> and is not stored twice. fastai's keys for the same model:
/// <c>0.encoder.weight</c>, <c>0.encoder_dp.emb.weight</c>, <c>0.rnns.{l}.weight_hh_l0_raw</c>,
/// <c>0.rnns.{l}.module.{weight_ih_l0, bias_ih_l0, bias_hh_l0}</c>, <c>1.decoder.weight</c>, <c>1.decoder.bias</c>.
/// With the QRNN the per-layer keys are <c>encoder.rnns.{l}.gate_weight_raw</c> (3·H_l, 2·I_l) and
/// <c>encoder.rnns.{l}.gate_bias</c> (3·H_l) instead (see <see cref="QrnnLayer"/>); the others are the same.
/// </remarks>
public sealed class AwdLstmLanguageModel : nn.Module<Tensor, LanguageModelOutput>, ILanguageModel, Training.IRecurrentStateSnapshots
{
#pragma warning disable IDE1006 // field names are state-dict keys
    readonly IRecurrentEncoder encoder; // registered as a module by its runtime type
    readonly LockedDropout output_dropout;
    readonly TiedDecoder decoder;
#pragma warning restore IDE1006
    IReadOnlyList<LayerGroup>? _layerGroups;

    /// <summary>State-dict key of the (tied) embedding matrix.</summary>
    public const string EmbeddingKey = "encoder.embedding.weight";
    /// <summary>State-dict key of the decoder bias.</summary>
    public const string DecoderBiasKey = "decoder.bias";

    /// <summary>Builds the model for <paramref name="config"/> with fastai's initialisation (embedding uniform ±0.1,
    /// decoder bias 0, recurrent layers PyTorch's default).</summary>
    public AwdLstmLanguageModel(AwdLstmConfig config, string name = nameof(AwdLstmLanguageModel)) : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        encoder = IRecurrentEncoder.Create(config);
        output_dropout = new LockedDropout(config.EffectiveDropouts.Output);
        decoder = new TiedDecoder(encoder.Embedding);
        RegisterComponents();
    }

    /// <summary>The configuration this model was built from.</summary>
    public AwdLstmConfig Config { get; }

    /// <summary>The encoder (what the classifier reuses after fine-tuning).</summary>
    public IRecurrentEncoder Encoder => encoder;

    /// <summary>The decoder; its weight is <c>Encoder.Embedding.Weight</c>.</summary>
    public TiedDecoder Decoder => decoder;

    /// <inheritdoc />
    public int VocabSize => Config.VocabSize;

    /// <inheritdoc />
    public nn.Module Module => this;

    /// <summary>
    /// fastai's <c>awd_lstm_lm_split</c>, input side first: [lstm0], [lstm1], …, [embedding+decoder] (the QRNN's
    /// groups are named qrnn0, qrnn1, …). The tied matrix
    /// and the decoder bias form the last group: they sit at the output end (the decoder), so they get the highest
    /// learning rate and are what trains first while the rest is frozen — which is how new-vocabulary rows learn in
    /// ULMFiT's first fine-tuning epoch. The tied matrix is listed once.
    /// </summary>
    public IReadOnlyList<LayerGroup> LayerGroups => _layerGroups ??= BuildLayerGroups();

    IReadOnlyList<LayerGroup> BuildLayerGroups()
    {
        string prefix = Config.Architecture.LayerGroupPrefix();
        var groups = encoder.LayerParameters.Select((weights, l) => new LayerGroup($"{prefix}{l}", weights)).ToList();
        groups.Add(new LayerGroup("embedding+decoder", [encoder.Embedding.Weight, decoder.Bias]));
        return groups;
    }

    /// <inheritdoc />
    public LanguageModelOutput Forward(Tensor tokens)
    {
        var encoded = encoder.Forward(tokens, allLayers: false);
        var raw = encoded.LastRaw;                            // (batch, seq, emb)
        var dropped = output_dropout.forward(raw);            // (batch, seq, emb)
        var logits = decoder.forward(dropped);                // (batch, seq, vocab)
        return new LanguageModelOutput(logits, raw, dropped);
    }

    /// <inheritdoc />
    public override LanguageModelOutput forward(Tensor tokens) => Forward(tokens);

    /// <inheritdoc />
    public void ResetState() => encoder.ResetState();

    /// <inheritdoc />
    public IReadOnlyList<Tensor>? CaptureState() => encoder.CaptureState();

    /// <inheritdoc />
    public void RestoreState(IReadOnlyList<Tensor>? state) => encoder.RestoreState(state);

    /// <summary>Moving the model (module.to) replaces the parameters; the layer groups are rebuilt on next access.</summary>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        _layerGroups = null;
    }
}
