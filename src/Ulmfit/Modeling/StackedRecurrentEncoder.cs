using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// What the AWD-LSTM and the QRNN encoders share: token embedding with embedding (row) dropout, locked input dropout,
/// a stack of recurrent layers with locked hidden dropout between them, and the state each layer carries from one call
/// to the next (cut from the graph: truncated back-propagation through time) until <see cref="ResetState"/>; a call
/// with a different batch size starts from zeros again. Not thread-safe (one forward at a time).
/// </summary>
/// <remarks>
/// The fields below are state-dict keys (<c>embedding.weight</c>, <c>rnns.{l}.…</c>): TorchSharp registers the fields
/// of the concrete class, which include a base class's protected fields (not its private ones), so they are protected.
/// Renaming them breaks saved models.
/// </remarks>
public abstract class StackedRecurrentEncoder<TLayer, TState> : nn.Module<Tensor, AwdLstmEncoderOutput>, IRecurrentEncoder
    where TLayer : nn.Module, IRecurrentLayer<TState>
    where TState : struct, IRecurrentLayerState<TState>
{
#pragma warning disable IDE1006, CA1051 // field names are state-dict keys; protected so that registration sees them
    protected readonly TokenEmbedding embedding;
    protected readonly EmbeddingDropout embedding_dropout;
    protected readonly LockedDropout input_dropout;
    protected readonly ModuleList<TLayer> rnns;
    protected readonly ModuleList<LockedDropout> hidden_dropouts;
#pragma warning restore IDE1006, CA1051
    readonly TLayer[] _layers;
    TState[]? _state;

    /// <summary>Builds the stack for <paramref name="config"/> (validated first); <paramref name="newLayer"/> makes layer
    /// l from (l, input size, output size, weight dropout).</summary>
    protected StackedRecurrentEncoder(AwdLstmConfig config, string name, Func<int, int, int, double, TLayer> newLayer) : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var p = config.EffectiveDropouts;
        embedding = new TokenEmbedding(config.VocabSize, config.EmbeddingSize, config.PadId, initRange: 0.1);
        embedding_dropout = new EmbeddingDropout(config.VocabSize, p.Embedding);
        input_dropout = new LockedDropout(p.Input);
        rnns = new ModuleList<TLayer>(Enumerable.Range(0, config.Layers)
            .Select(l => newLayer(l, config.LayerInputSize(l), config.LayerOutputSize(l), p.Weight)).ToArray());
        // Hidden dropout follows every layer but the last (whose output dropout is the head's, as in fastai).
        hidden_dropouts = new ModuleList<LockedDropout>(Enumerable.Range(0, config.Layers - 1)
            .Select(_ => new LockedDropout(p.Hidden)).ToArray());
        RegisterComponents();
        _layers = [.. rnns];
    }

    /// <inheritdoc />
    public AwdLstmConfig Config { get; }

    /// <inheritdoc />
    public TokenEmbedding Embedding => embedding;

    /// <summary>The recurrent layers, input side first.</summary>
    public IReadOnlyList<TLayer> Layers => _layers;

    /// <inheritdoc />
    public IReadOnlyList<IReadOnlyList<Parameter>> LayerParameters => [.. _layers.Select(l => l.Weights)];

    /// <inheritdoc />
    public nn.Module Module => this;

    /// <inheritdoc />
    public long? StateBatchSize => _state?[0].BatchSize;

    /// <summary>The carried per-layer state (detached copies owned by the encoder), or null after a reset.</summary>
    internal IReadOnlyList<TState>? State => _state;

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
        int last = _layers.Length - 1;
        var raw = new List<Tensor>(allLayers ? _layers.Length : 1);
        var dropped = new List<Tensor>(allLayers ? _layers.Length : 1);
        var newState = new TState[_layers.Length];
        for (int l = 0; l <= last; l++)
        {
            var (output, state) = _layers[l].Forward(x, _state?[l]);           // (batch, seq, hidden_l)
            newState[l] = state.DetachedCopy();
            state.Dispose();                                                   // often views into the output; the copies are kept
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

    /// <summary>Copies of the carried state, two tensors per layer in the order of the state type's
    /// <see cref="IRecurrentLayerState{TSelf}.Tensors"/>, owned by the caller; null when no state is carried.
    /// Checkpoints use it so a resumed run continues exactly.</summary>
    public IReadOnlyList<Tensor>? CaptureState()
    {
        if (_state is null) return null;
        using var _ = no_grad();
        return _state.SelectMany(s => new[] { s.Tensors.First.clone(), s.Tensors.Second.clone() }).ToArray();
    }

    /// <inheritdoc />
    public void RestoreState(IReadOnlyList<Tensor>? state)
    {
        DisposeState();
        if (state is null) return;
        if (state.Count != 2 * _layers.Length)
            throw new ArgumentException($"expected {2 * _layers.Length} state tensors (two per layer), got {state.Count}", nameof(state));
        long batch = TState.BatchSizeOf(state[0], state[1]);
        var restored = new TState[_layers.Length];
        for (int l = 0; l < _layers.Length; l++)
        {
            var (first, second) = (state[2 * l], state[2 * l + 1]);
            var expected = TState.ExpectedShapes(batch, Config.LayerInputSize(l), Config.LayerOutputSize(l));
            if (!first.shape.SequenceEqual(expected.First) || !second.shape.SequenceEqual(expected.Second))
                throw new ArgumentException($"state tensors of layer {l} have shapes [{string.Join(", ", first.shape)}] and " +
                    $"[{string.Join(", ", second.shape)}], expected [{string.Join(", ", expected.First)}] and [{string.Join(", ", expected.Second)}]",
                    nameof(state));
            restored[l] = TState.FromTensors(first, second).DetachedCopy();
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
