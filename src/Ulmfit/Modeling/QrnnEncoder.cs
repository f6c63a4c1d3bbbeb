using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// MultiFiT's QRNN encoder: the AWD-LSTM encoder's embedding, embedding dropout, locked input and hidden dropouts, with
/// <see cref="QrnnLayer"/>s in place of the LSTMs (the last one outputs the embedding size, so the decoder can be tied).
/// </summary>
/// <remarks>
/// Stateful like <see cref="AwdLstmEncoder"/>: each layer's last input step and last cell state are kept for the next
/// call, cut from the graph, until <see cref="ResetState"/>; a call with a different batch size starts from zeros.
/// Not thread-safe (one forward at a time).
/// <para>State-dict keys (stable; renaming breaks saved models), relative to this module: <c>embedding.weight</c>
/// (vocab, emb); for each layer l: <c>rnns.l.gate_weight_raw</c> (3·H_l, 2·I_l) and <c>rnns.l.gate_bias</c> (3·H_l),
/// where I_l is the layer's input width (emb for layer 0, hidden otherwise) and H_l its output width (emb for the last
/// layer, hidden otherwise). See <see cref="QrnnLayer"/> for the layout of the gate weight.</para>
/// </remarks>
public sealed class QrnnEncoder : nn.Module<Tensor, AwdLstmEncoderOutput>, IRecurrentEncoder
{
#pragma warning disable IDE1006 // field names are state-dict keys
    readonly TokenEmbedding embedding;
    readonly EmbeddingDropout embedding_dropout;
    readonly LockedDropout input_dropout;
    readonly ModuleList<QrnnLayer> rnns;
    readonly ModuleList<LockedDropout> hidden_dropouts;
#pragma warning restore IDE1006
    readonly QrnnLayer[] _layers;
    QrnnState[]? _state;

    /// <summary>Builds the encoder for <paramref name="config"/> (validated first).</summary>
    public QrnnEncoder(AwdLstmConfig config, string name = nameof(QrnnEncoder)) : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var p = config.EffectiveDropouts;
        embedding = new TokenEmbedding(config.VocabSize, config.EmbeddingSize, config.PadId, initRange: 0.1);
        embedding_dropout = new EmbeddingDropout(config.VocabSize, p.Embedding);
        input_dropout = new LockedDropout(p.Input);
        rnns = new ModuleList<QrnnLayer>(Enumerable.Range(0, config.Layers)
            .Select(l => new QrnnLayer(config.LayerInputSize(l), config.LayerOutputSize(l), p.Weight, $"qrnn{l}")).ToArray());
        // Hidden dropout follows every layer but the last (whose output dropout is the head's).
        hidden_dropouts = new ModuleList<LockedDropout>(Enumerable.Range(0, config.Layers - 1)
            .Select(_ => new LockedDropout(p.Hidden)).ToArray());
        RegisterComponents();
        _layers = [.. rnns];
    }

    /// <inheritdoc />
    public AwdLstmConfig Config { get; }

    /// <inheritdoc />
    public TokenEmbedding Embedding => embedding;

    /// <summary>The QRNN layers, input side first.</summary>
    public IReadOnlyList<QrnnLayer> Layers => _layers;

    /// <inheritdoc />
    public IReadOnlyList<IReadOnlyList<Parameter>> LayerParameters => [.. _layers.Select(l => l.Weights)];

    /// <inheritdoc />
    public long? StateBatchSize => _state?[0].BatchSize;

    /// <inheritdoc />
    public nn.Module Module => this;

    /// <summary>Runs all layers over <paramref name="tokens"/> (batch, seq) int64 and returns every layer's outputs.</summary>
    public override AwdLstmEncoderOutput forward(Tensor tokens) => Forward(tokens, allLayers: true);

    /// <inheritdoc />
    public AwdLstmEncoderOutput Forward(Tensor tokens, bool allLayers = true)
    {
        EncoderInput.Validate(tokens, Config.VocabSize);
        long batch = tokens.shape[0];
        if (_state is null || _state[0].BatchSize != batch) ResetState();

        using var embedded = embedding.forward(tokens);                        // (batch, seq, emb)
        using var wordDropped = embedding_dropout.forward(tokens, embedded);   // (batch, seq, emb)
        var x = input_dropout.forward(wordDropped);                            // (batch, seq, emb)
        int last = rnns.Count - 1;
        var raw = new List<Tensor>(allLayers ? rnns.Count : 1);
        var dropped = new List<Tensor>(allLayers ? rnns.Count : 1);
        var newState = new QrnnState[rnns.Count];
        for (int l = 0; l <= last; l++)
        {
            var (output, state) = _layers[l].Forward(x, _state?[l]);           // (batch, seq, hidden_l)
            newState[l] = state.DetachedCopy();
            state.Dispose();                                                   // views; the copies are what is kept
            var next = l < last ? hidden_dropouts[l].forward(output) : output;
            if (allLayers || l == last)
            {
                raw.Add(output);
                dropped.Add(next);
            }
            x = next;
        }
        DisposeState();
        _state = newState;
        return new AwdLstmEncoderOutput(raw, dropped);
    }

    /// <inheritdoc />
    public void ResetState() => DisposeState();

    /// <summary>Copies of the carried state, [x0, c0, x1, c1, …]: per layer the last input step (batch, 1, I_l) and the
    /// last cell (batch, H_l); owned by the caller; null when no state is carried.</summary>
    public IReadOnlyList<Tensor>? CaptureState()
    {
        if (_state is null) return null;
        using var _ = no_grad();
        return _state.SelectMany(s => new[] { s.LastInput.clone(), s.Cell.clone() }).ToArray();
    }

    /// <inheritdoc />
    public void RestoreState(IReadOnlyList<Tensor>? state)
    {
        DisposeState();
        if (state is null) return;
        if (state.Count != 2 * rnns.Count)
            throw new ArgumentException($"expected {2 * rnns.Count} state tensors (last input and cell per layer), got {state.Count}", nameof(state));
        long batch = state[1].dim() == 2 ? state[1].shape[0] : -1;
        var restored = new QrnnState[rnns.Count];
        for (int l = 0; l < rnns.Count; l++)
        {
            long input = Config.LayerInputSize(l), hidden = Config.LayerOutputSize(l);
            var (lastInput, cell) = (state[2 * l], state[2 * l + 1]);
            if (!lastInput.shape.SequenceEqual([batch, 1, input]) || !cell.shape.SequenceEqual([batch, hidden]))
                throw new ArgumentException($"state tensors of layer {l} have shapes [{string.Join(", ", lastInput.shape)}] and " +
                    $"[{string.Join(", ", cell.shape)}], expected [batch, 1, {input}] and [batch, {hidden}]", nameof(state));
            restored[l] = new QrnnState(lastInput, cell).DetachedCopy();
        }
        _state = restored;
    }

    void DisposeState()
    {
        if (_state is null) return;
        foreach (var s in _state) s.Dispose();
        _state = null;
    }

    /// <summary>Moving the encoder (module.to) leaves the carried state behind in the old dtype/device: drop it.</summary>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        ResetState();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) DisposeState();
        base.Dispose(disposing);
    }
}
