using Ulmfit.Data;
using static TorchSharp.torch;

namespace Ulmfit.Training;

/// <summary>
/// Turns documents into language-model batches the way ULMFiT (after AWD-LSTM) trains: each epoch the documents are
/// concatenated, in an order shuffled with a seeded generator, into one token stream (every document already begins
/// with xxbos; nothing is added); the stream is cut into <c>BatchSize</c> equal contiguous rows (the remainder is
/// dropped); the rows are walked left to right together in windows of variable length, so row r of one batch
/// continues row r of the previous batch and a stateful model can carry its hidden state across batches.
/// </summary>
/// <remarks>Not thread-safe. <see cref="Position"/> and <see cref="Restore"/> let a run resume exactly.</remarks>
public sealed class LanguageModelBatcher
{
    readonly ITokenDocuments _documents;
    readonly LanguageModelBatcherOptions _options;
    readonly SequenceLengthSampler _lengths;
    Xoshiro256StarStar _random;
    int _epoch;
    long _offset;
    int _streamEpoch = -1; // the epoch whose stream and readers are built
    DocumentStream.Reader[] _rows = [];

    /// <summary>Prepares batching of <paramref name="documents"/>; throws if they cannot fill two tokens per row.</summary>
    public LanguageModelBatcher(ITokenDocuments documents, LanguageModelBatcherOptions options)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _documents = documents;
        _options = options;
        _lengths = new SequenceLengthSampler(options.Bptt);
        _random = new Xoshiro256StarStar(Xoshiro256StarStar.DeriveSeed(options.Seed, ulong.MaxValue));

        long used = Math.Min(documents.TokenCount, options.MaxTokens ?? long.MaxValue);
        RowLength = used / options.BatchSize;
        if (RowLength < 2)
            throw new ArgumentException(
                $"{documents.TokenCount} tokens (capped to {used}) cannot fill {options.BatchSize} rows of at least 2 tokens; " +
                "use a smaller batch size or more text", nameof(documents));
    }

    /// <summary>The options this batcher was made with.</summary>
    public LanguageModelBatcherOptions Options => _options;

    /// <summary>Rows per batch.</summary>
    public int BatchSize => _options.BatchSize;

    /// <summary>Tokens in each row of an epoch's stream: (used tokens) / batch size, rounded down.</summary>
    public long RowLength { get; }

    /// <summary>Tokens that each epoch predicts: every row position except the last has a target.</summary>
    public long TokensPerEpoch => (RowLength - 1) * BatchSize;

    /// <summary>Where the batcher stands now (take it between batches).</summary>
    public BatcherPosition Position => new(_epoch, _offset, _random.SaveState());

    /// <summary>True once every window of the current epoch has been handed out.</summary>
    public bool EpochFinished => _offset >= RowLength - 1;

    /// <summary>Continues from a position taken from a batcher over the same documents with the same options.</summary>
    public void Restore(BatcherPosition position)
    {
        ArgumentNullException.ThrowIfNull(position);
        if (position.Epoch < 0 || position.Offset < 0 || position.Offset > RowLength)
            throw new ArgumentOutOfRangeException(nameof(position), position,
                $"position does not fit these documents (row length {RowLength})");
        _random = Xoshiro256StarStar.FromState(position.RandomState);
        _epoch = position.Epoch;
        _offset = position.Offset;
    }

    /// <summary>Moves to the start of the next epoch (a new document order).</summary>
    public void StartNextEpoch()
    {
        _epoch++;
        _offset = 0;
    }

    /// <summary>The next window of the current epoch, or null when the epoch is finished. The tensors are created in
    /// the caller's current dispose scope.</summary>
    public LanguageModelBatch? NextBatch()
    {
        if (EpochFinished) return null;
        int length = NextLength(_random, _offset);
        EnsureStream();

        // Row r holds stream positions [r * RowLength, (r + 1) * RowLength); a window needs length + 1 of them
        // because the targets are the inputs shifted by one.
        int rows = _options.BatchSize;
        var input = new long[rows * length];
        var target = new long[rows * length];
        var window = new long[length + 1];
        for (int r = 0; r < rows; r++)
        {
            _rows[r].Read(r * RowLength + _offset, window);
            window.AsSpan(0, length).CopyTo(input.AsSpan(r * length, length));
            window.AsSpan(1, length).CopyTo(target.AsSpan(r * length, length));
        }
        _offset += length;
        return new LanguageModelBatch(tensor(input, [rows, length]), tensor(target, [rows, length]));
    }

    /// <summary>Counts the batches from the current position to the end of epoch <paramref name="epochCount"/> − 1
    /// without reading any data (window lengths are replayed from a copy of the generator). Used to size schedules.</summary>
    public long CountBatchesUntilEpoch(int epochCount)
    {
        var random = _random.Clone();
        long count = 0;
        for (int epoch = _epoch; epoch < epochCount; epoch++)
        {
            for (long offset = epoch == _epoch ? _offset : 0; offset < RowLength - 1; count++)
                offset += NextLength(random, offset);
        }
        return count;
    }

    /// <summary>The window length at <paramref name="offset"/>: drawn (or bptt), capped so it ends inside the row.</summary>
    int NextLength(Xoshiro256StarStar random, long offset)
    {
        int wanted = _options.VariableLength ? _lengths.Next(random) : _options.Bptt;
        return (int)Math.Min(wanted, RowLength - 1 - offset);
    }

    void EnsureStream()
    {
        if (_streamEpoch == _epoch) return;
        var order = new int[_documents.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (_options.Shuffle)
        {
            // The order comes from (seed, epoch) alone, so a restored position needs no stored permutation.
            new Xoshiro256StarStar(Xoshiro256StarStar.DeriveSeed(_options.Seed, (ulong)_epoch)).Shuffle(order);
        }
        var stream = new DocumentStream(_documents, order, _options.Backwards);
        _rows = new DocumentStream.Reader[_options.BatchSize];
        for (int r = 0; r < _rows.Length; r++) _rows[r] = stream.CreateReader();
        _streamEpoch = _epoch;
    }
}
