using TorchSharp;
using TorchSharp.Modules;
using Ulmfit.Modeling;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Training;

/// <summary>
/// A stand-in for AWD-LSTM in trainer tests: embedding → dropout → one LSTM → dropout → linear decoder, stateful
/// across calls, with three layer groups (embedding, lstm, decoder). Dropout is on in train mode, so the trainer's
/// handling of libtorch's random state is exercised.
/// </summary>
internal sealed class TinyLstmLanguageModel : ILanguageModel, IRecurrentStateSnapshots
{
    readonly TinyLstmNetwork _network;
    Tensor? _hidden, _cell; // (layers=1, batch, hidden), detached, outside any dispose scope

    public TinyLstmLanguageModel(int vocabSize, int embedding = 16, int hidden = 32, double dropout = 0.1, long seed = 1)
    {
        torch.manual_seed(seed);
        VocabSize = vocabSize;
        _network = new TinyLstmNetwork(vocabSize, embedding, hidden, dropout);
        LayerGroups =
        [
            new LayerGroup("embedding", [.. _network.Embedding.parameters()]),
            new LayerGroup("lstm", [.. _network.Lstm.parameters()]),
            new LayerGroup("decoder", [.. _network.Decoder.parameters()]),
        ];
    }

    public IReadOnlyList<LayerGroup> LayerGroups { get; }
    public nn.Module Module => _network;
    public int VocabSize { get; }

    public LanguageModelOutput Forward(Tensor tokens)
    {
        if (_hidden is not null && _hidden.shape[1] != tokens.shape[0]) ResetState();
        var embedded = _network.InputDropout.call(_network.Embedding.call(tokens)); // (batch, seq, emb)
        (Tensor, Tensor)? state = _hidden is null ? null : (_hidden, _cell!);
        var (output, hidden, cell) = _network.Lstm.call(embedded, state);           // (batch, seq, hidden)
        ReplaceState(hidden.detach(), cell.detach());
        var dropped = _network.OutputDropout.call(output);
        return new LanguageModelOutput(_network.Decoder.call(dropped), output, dropped);
    }

    public void ResetState() => ReplaceState(null, null);

    public IReadOnlyList<Tensor>? CaptureState() => _hidden is null ? null : [_hidden.clone(), _cell!.clone()];

    public void RestoreState(IReadOnlyList<Tensor>? state) =>
        ReplaceState(state?[0].clone(), state?[1].clone());

    void ReplaceState(Tensor? hidden, Tensor? cell)
    {
        _hidden?.Dispose();
        _cell?.Dispose();
        _hidden = hidden?.DetachFromDisposeScope();
        _cell = cell?.DetachFromDisposeScope();
    }

    public void Dispose()
    {
        ResetState();
        _network.Dispose();
    }

    sealed class TinyLstmNetwork : nn.Module
    {
        public readonly Embedding Embedding;
        public readonly Dropout InputDropout;
        public readonly LSTM Lstm;
        public readonly Dropout OutputDropout;
        public readonly Linear Decoder;

        public TinyLstmNetwork(int vocab, int embedding, int hidden, double dropout) : base("tiny_lstm_lm")
        {
            Embedding = nn.Embedding(vocab, embedding);
            InputDropout = nn.Dropout(dropout);
            Lstm = nn.LSTM(embedding, hidden, batchFirst: true);
            OutputDropout = nn.Dropout(dropout);
            Decoder = nn.Linear(hidden, vocab);
            RegisterComponents();
        }
    }
}
