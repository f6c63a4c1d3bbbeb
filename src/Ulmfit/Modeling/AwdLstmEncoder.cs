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
/// <see cref="WeightDropLstm"/> layers with locked hidden dropout between them (the shared scaffolding, including the
/// carried state, is <see cref="StackedRecurrentEncoder{TLayer, TState}"/>).
/// </summary>
/// <remarks>
/// It is stateful, like fastai's: each layer's final (hidden, cell) is kept for the next call, cut from the graph
/// (truncated back-propagation through time), until <see cref="StackedRecurrentEncoder{TLayer, TState}.ResetState"/>;
/// a call with a different batch size starts from zeros again. Not thread-safe (one forward at a time). The carried
/// state, as checkpoints store it, is [h0, c0, h1, c1, …], each (1, batch, hidden_l).
/// <para>State-dict keys (stable; renaming breaks saved models), relative to this module:
/// <c>embedding.weight</c> (vocab, emb); for each layer l: <c>rnns.l.weight_ih_l0</c>, <c>rnns.l.weight_hh_l0_raw</c>,
/// <c>rnns.l.bias_ih_l0</c>, <c>rnns.l.bias_hh_l0</c>. fastai's names for the same tensors: <c>encoder.weight</c>
/// (and its alias <c>encoder_dp.emb.weight</c>), <c>rnns.l.weight_hh_l0_raw</c>, <c>rnns.l.module.weight_ih_l0</c>,
/// <c>rnns.l.module.bias_ih_l0</c>, <c>rnns.l.module.bias_hh_l0</c>.</para>
/// </remarks>
public sealed class AwdLstmEncoder : StackedRecurrentEncoder<WeightDropLstm, LstmState>
{
    /// <summary>Builds the encoder for <paramref name="config"/> (validated first) with fastai's initialisation.</summary>
    public AwdLstmEncoder(AwdLstmConfig config, string name = nameof(AwdLstmEncoder))
        : base(config, name, (l, input, output, weightDropout) => new WeightDropLstm(input, output, weightDropout, $"lstm{l}"))
    {
    }
}
