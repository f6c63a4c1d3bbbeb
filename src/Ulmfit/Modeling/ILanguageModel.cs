using TorchSharp;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// A named set of parameters that trains at one learning rate and freezes as one unit. Discriminative learning rates
/// and gradual unfreezing act only on layer groups (ULMFiT's central structural idea).
/// </summary>
public sealed record LayerGroup(string Name, IReadOnlyList<TorchSharp.Modules.Parameter> Parameters);

/// <summary>What one language-model forward pass returns. The caller owns the tensors (they live in its dispose scope).</summary>
/// <param name="Logits">Next-token scores, (batch, seq, vocab).</param>
/// <param name="LastLayerRaw">The last recurrent layer's output before output dropout, (batch, seq, hidden): TAR uses it.</param>
/// <param name="LastLayerDropped">The same after output dropout, (batch, seq, hidden): AR uses it.</param>
public sealed record LanguageModelOutput(Tensor Logits, Tensor LastLayerRaw, Tensor LastLayerDropped);

/// <summary>
/// A stateful next-token model (AWD-LSTM, QRNN): the recurrent state is carried from one call to the next
/// (detached from the graph at each call) until <see cref="ResetState"/>.
/// </summary>
public interface ILanguageModel : IDisposable
{
    /// <summary>Scores the next token at every position of <paramref name="tokens"/>, (batch, seq) int64.</summary>
    LanguageModelOutput Forward(Tensor tokens);

    /// <summary>Forgets the carried recurrent state (at epoch starts, or when the batch size changes).</summary>
    void ResetState();

    /// <summary>Layer groups from the input side to the output side. Learning rates fall by a factor (2.6) per group
    /// going towards the input; freezing keeps only the last group(s) training. For the AWD-LSTM language model this is
    /// fastai's <c>awd_lstm_lm_split</c>: [lstm0], [lstm1], [lstm2], [embedding+decoder] — the tied embedding/decoder
    /// matrix (held once) and the decoder bias sit at the output end, so they train first and fastest. (The
    /// classifier's split differs: [embedding], [lstm0], [lstm1], [lstm2], [head].)</summary>
    IReadOnlyList<LayerGroup> LayerGroups { get; }

    /// <summary>The underlying module (train/eval switching, state dicts, parameters).</summary>
    nn.Module Module { get; }

    /// <summary>Vocabulary size the output layer scores.</summary>
    int VocabSize { get; }
}
