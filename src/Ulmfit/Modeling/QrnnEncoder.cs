namespace Ulmfit.Modeling;

/// <summary>
/// MultiFiT's QRNN encoder: the AWD-LSTM encoder's embedding, embedding dropout, locked input and hidden dropouts, with
/// <see cref="QrnnLayer"/>s in place of the LSTMs (the last one outputs the embedding size, so the decoder can be tied).
/// </summary>
/// <remarks>
/// Stateful like <see cref="AwdLstmEncoder"/>: each layer's last input step and last cell state are kept for the next
/// call, cut from the graph, until <see cref="StackedRecurrentEncoder{TLayer, TState}.ResetState"/>; a call with a
/// different batch size starts from zeros. Not thread-safe (one forward at a time). The carried state, as checkpoints
/// store it, is [x0, c0, x1, c1, …]: per layer the last input step (batch, 1, I_l) and the last cell (batch, H_l).
/// <para>State-dict keys (stable; renaming breaks saved models), relative to this module: <c>embedding.weight</c>
/// (vocab, emb); for each layer l: <c>rnns.l.gate_weight_raw</c> (3·H_l, 2·I_l) and <c>rnns.l.gate_bias</c> (3·H_l),
/// where I_l is the layer's input width (emb for layer 0, hidden otherwise) and H_l its output width (emb for the last
/// layer, hidden otherwise). See <see cref="QrnnLayer"/> for the layout of the gate weight.</para>
/// </remarks>
public sealed class QrnnEncoder : StackedRecurrentEncoder<QrnnLayer, QrnnState>
{
    /// <summary>Builds the encoder for <paramref name="config"/> (validated first).</summary>
    public QrnnEncoder(AwdLstmConfig config, string name = nameof(QrnnEncoder))
        : base(config, name, (l, input, output, weightDropout) => new QrnnLayer(input, output, weightDropout, $"qrnn{l}"))
    {
    }
}
