using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// Per-layer outputs of one <see cref="AwdLstmEncoder"/> call, each (batch, seq, hidden_l). The caller owns them
/// (they live in its dispose scope).
/// </summary>
/// <param name="RawOutputs">Each LSTM layer's output before hidden dropout (TAR and the classifier's pooling use these).</param>
/// <param name="DroppedOutputs">The same after hidden dropout; the last layer's entry is its raw output, because the
/// last layer's dropout (output dropout) belongs to the head that reads it, as in fastai.</param>
public sealed record AwdLstmEncoderOutput(IReadOnlyList<Tensor> RawOutputs, IReadOnlyList<Tensor> DroppedOutputs)
{
    /// <summary>The last layer's raw output, (batch, seq, emb).</summary>
    public Tensor LastRaw => RawOutputs[^1];

    /// <summary>The last layer's entry of <see cref="DroppedOutputs"/>, (batch, seq, emb).</summary>
    public Tensor LastDropped => DroppedOutputs[^1];
}

/// <summary>
/// The AWD-LSTM encoder: token embedding with embedding (row) dropout, locked input dropout, then the stacked
/// <see cref="WeightDropLstm"/> layers with locked hidden dropout between them.
/// </summary>
/// <remarks>
/// It is stateful, like fastai's: each layer's final (hidden, cell) is kept for the next call, cut from the graph
/// (truncated back-propagation through time), until <see cref="ResetState"/>; a call with a different batch size
/// starts from zeros again. Not thread-safe (one forward at a time).
/// <para>State-dict keys (stable; renaming breaks saved models), relative to this module:
/// <c>embedding.weight</c> (vocab, emb); for each layer l: <c>rnns.l.weight_ih_l0</c>, <c>rnns.l.weight_hh_l0_raw</c>,
/// <c>rnns.l.bias_ih_l0</c>, <c>rnns.l.bias_hh_l0</c>. fastai's names for the same tensors: <c>encoder.weight</c>
/// (and its alias <c>encoder_dp.emb.weight</c>), <c>rnns.l.weight_hh_l0_raw</c>, <c>rnns.l.module.weight_ih_l0</c>,
/// <c>rnns.l.module.bias_ih_l0</c>, <c>rnns.l.module.bias_hh_l0</c>.</para>
/// </remarks>
public sealed class AwdLstmEncoder : nn.Module<Tensor, AwdLstmEncoderOutput>, IRecurrentEncoder
{
#pragma warning disable IDE1006 // field names are state-dict keys
    readonly TokenEmbedding embedding;
    readonly EmbeddingDropout embedding_dropout;
    readonly LockedDropout input_dropout;
    readonly ModuleList<WeightDropLstm> rnns;
    readonly ModuleList<LockedDropout> hidden_dropouts;
#pragma warning restore IDE1006
    readonly WeightDropLstm[] _layers;
    LstmState[]? _state;

    /// <summary>Builds the encoder for <paramref name="config"/> (validated first) with fastai's initialisation.</summary>
    public AwdLstmEncoder(AwdLstmConfig config, string name = nameof(AwdLstmEncoder)) : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var p = config.EffectiveDropouts;
        embedding = new TokenEmbedding(config.VocabSize, config.EmbeddingSize, config.PadId, initRange: 0.1);
        embedding_dropout = new EmbeddingDropout(config.VocabSize, p.Embedding);
        input_dropout = new LockedDropout(p.Input);
        rnns = new ModuleList<WeightDropLstm>(Enumerable.Range(0, config.Layers)
            .Select(l => new WeightDropLstm(config.LayerInputSize(l), config.LayerOutputSize(l), p.Weight, $"lstm{l}")).ToArray());
        // Hidden dropout follows every layer but the last (whose output dropout is the head's).
        hidden_dropouts = new ModuleList<LockedDropout>(Enumerable.Range(0, config.Layers - 1)
            .Select(_ => new LockedDropout(p.Hidden)).ToArray());
        RegisterComponents();
        _layers = [.. rnns];
    }

    /// <summary>The configuration this encoder was built from.</summary>
    public AwdLstmConfig Config { get; }

    /// <summary>The token embedding (its weight is the matrix a tied decoder shares).</summary>
    public TokenEmbedding Embedding => embedding;

    /// <summary>The LSTM layers, input side first.</summary>
    public IReadOnlyList<WeightDropLstm> Layers => _layers;

    /// <inheritdoc />
    public IReadOnlyList<IReadOnlyList<Parameter>> LayerParameters => [.. _layers.Select(l => l.Weights)];

    /// <inheritdoc />
    public nn.Module Module => this;

    /// <summary>Batch size of the carried state, or null after a reset.</summary>
    public long? StateBatchSize => _state?[0].BatchSize;

    /// <summary>The carried per-layer state (detached copies owned by the encoder), or null after a reset.</summary>
    internal IReadOnlyList<LstmState>? State => _state;

    /// <summary>Runs all layers over <paramref name="tokens"/> (batch, seq) int64 and returns every layer's outputs.</summary>
    public override AwdLstmEncoderOutput forward(Tensor tokens) => Forward(tokens, allLayers: true);

    /// <summary>
    /// Runs all layers over <paramref name="tokens"/> (batch, seq) int64. With <paramref name="allLayers"/> false the
    /// output lists hold only the last layer (what a language-model head needs).
    /// </summary>
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
        var newState = new LstmState[rnns.Count];
        for (int l = 0; l <= last; l++)
        {
            var (output, state) = rnns[l].Forward(x, _state?[l]);              // (batch, seq, hidden_l)
            newState[l] = state.DetachedCopy();
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

    /// <summary>Forgets the carried state: the next call starts from zeros.</summary>
    public void ResetState() => DisposeState();

    /// <summary>Copies of the carried state, [h0, c0, h1, c1, …] each (1, batch, hidden_l), owned by the caller; null
    /// when no state is carried. Checkpoints use it so a resumed run continues exactly.</summary>
    public IReadOnlyList<Tensor>? CaptureState()
    {
        if (_state is null) return null;
        using var _ = no_grad();
        return _state.SelectMany(s => new[] { s.Hidden.clone(), s.Cell.clone() }).ToArray();
    }

    /// <summary>Replaces the carried state with copies of <paramref name="state"/> (as <see cref="CaptureState"/>
    /// returns it); null forgets it.</summary>
    public void RestoreState(IReadOnlyList<Tensor>? state)
    {
        DisposeState();
        if (state is null) return;
        if (state.Count != 2 * rnns.Count)
            throw new ArgumentException($"expected {2 * rnns.Count} state tensors (h and c per layer), got {state.Count}", nameof(state));
        var restored = new LstmState[rnns.Count];
        for (int l = 0; l < rnns.Count; l++)
        {
            long hidden = Config.LayerOutputSize(l);
            foreach (var t in new[] { state[2 * l], state[2 * l + 1] })
                if (t.dim() != 3 || t.shape[0] != 1 || t.shape[2] != hidden || t.shape[1] != state[0].shape[1])
                    throw new ArgumentException($"state tensor of layer {l} has shape [{string.Join(", ", t.shape)}], expected [1, batch, {hidden}]", nameof(state));
            restored[l] = new LstmState(state[2 * l], state[2 * l + 1]).DetachedCopy();
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
