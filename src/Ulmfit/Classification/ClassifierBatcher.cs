using Ulmfit.Data;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Classification;

/// <summary>
/// Groups documents of similar length into classifier batches to keep padding (wasted compute) small, and turns a
/// group into a padded <see cref="ClassifierBatch"/>.
/// </summary>
/// <remarks>
/// <para>Padding side: at the END of each document. The LSTM reads left to right, so a document's outputs never
/// depend on padding after it, and concat pooling masks the padded positions out exactly; a document pools the same
/// features in any batch as alone. (fastai pads classifier batches at the start, which feeds padding through the
/// LSTM before the text, and compensates with chunk-aligned padding and per-chunk batch shrinking.)</para>
/// <para>Training order (<see cref="TrainingBatches"/>): shuffled, cut into chunks of
/// <see cref="ClassifierBatchingOptions.SortChunkBatches"/> batches, sorted by length (longest first) within each
/// chunk, grouped; the batch holding the longest document goes first so that a batch size too large for memory
/// fails at once, the rest in random order. Inference order (<see cref="InferenceBatches"/>): all documents sorted
/// by length, longest first; callers put results back in input order through <see cref="ClassifierBatch.DocumentIndices"/>.</para>
/// Reading is thread-safe when the documents are.
/// </remarks>
public sealed class ClassifierBatcher
{
    readonly ITokenDocuments _documents;
    readonly int[] _lengths;
    readonly ClassifierBatchingOptions _options;

    /// <summary>Prepares batching of <paramref name="documents"/> for a classifier of <paramref name="config"/>
    /// (its padding id, maximum pooled length and reading direction).</summary>
    /// <exception cref="ArgumentException">A document has no tokens.</exception>
    public ClassifierBatcher(ITokenDocuments documents, TextClassifierConfig config, ClassifierBatchingOptions? options = null)
    {
        _documents = documents ?? throw new ArgumentNullException(nameof(documents));
        ArgumentNullException.ThrowIfNull(config);
        _options = options ?? new ClassifierBatchingOptions();
        _options.Validate();
        PadId = config.Encoder.PadId;
        MaxLength = config.MaxLength;
        Backwards = config.Backwards;
        _lengths = new int[documents.Count];
        for (int i = 0; i < _lengths.Length; i++)
        {
            _lengths[i] = documents.Length(i);
            if (_lengths[i] < 1) throw new ArgumentException($"document {i} has no tokens; a classifier needs at least one per document.", nameof(documents));
        }
    }

    /// <summary>Number of documents.</summary>
    public int Count => _lengths.Length;

    /// <summary>Id written after each document's end.</summary>
    public int PadId { get; }

    /// <summary>Tokens per document that count towards <see cref="ClassifierBatchingOptions.MaxTokensPerBatch"/> at most.</summary>
    public int MaxLength { get; }

    /// <summary>Whether documents are reversed token-wise (backward classifier).</summary>
    public bool Backwards { get; }

    /// <summary>The options in use.</summary>
    public ClassifierBatchingOptions Options => _options;

    /// <summary>Tokens in document <paramref name="index"/>.</summary>
    public int Length(int index) => _lengths[index];

    /// <summary>One epoch's batches (document indices, longest first within each) in training order, drawn from
    /// <paramref name="random"/>. Every document appears exactly once; no batch has a single document unless there is
    /// only one document (batch norm cannot train on one row).</summary>
    public IReadOnlyList<int[]> TrainingBatches(Xoshiro256StarStar random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var order = Enumerable.Range(0, Count).ToArray();
        random.Shuffle(order);
        int chunkSize = (int)Math.Min(int.MaxValue, (long)_options.BatchSize * _options.SortChunkBatches);
        var batches = new List<int[]>();
        for (int start = 0, length; start < order.Length; start += length)
        {
            length = Math.Min(chunkSize, order.Length - start);
            if (order.Length - start - length == 1) length++; // a lone leftover document joins the last chunk
            var chunk = order.AsSpan(start, length).ToArray();
            SortLongestFirst(chunk);
            batches.AddRange(Group(chunk, minimumRows: 2));
        }
        if (batches.Count > 1)
        {
            int longest = 0;
            for (int b = 1; b < batches.Count; b++)
                if (_lengths[batches[b][0]] > _lengths[batches[longest][0]]) longest = b;
            (batches[0], batches[longest]) = (batches[longest], batches[0]);
            var rest = Enumerable.Range(1, batches.Count - 1).ToArray();
            random.Shuffle(rest);
            batches = [batches[0], .. rest.Select(i => batches[i])];
        }
        return batches;
    }

    /// <summary>Batches for evaluation and prediction: every document once, sorted by length, longest first.</summary>
    public IReadOnlyList<int[]> InferenceBatches()
    {
        var order = Enumerable.Range(0, Count).ToArray();
        SortLongestFirst(order);
        return Group(order, minimumRows: 1);
    }

    /// <summary>The padded batch of documents <paramref name="documentIndices"/>, in that order, on
    /// <paramref name="device"/> (CPU when null). The tensor lives in the caller's dispose scope.</summary>
    public ClassifierBatch Build(IReadOnlyList<int> documentIndices, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(documentIndices);
        if (documentIndices.Count == 0) throw new ArgumentException("a batch needs at least one document.", nameof(documentIndices));
        int rows = documentIndices.Count;
        var lengths = new long[rows];
        int seq = 0;
        for (int r = 0; r < rows; r++)
        {
            lengths[r] = _lengths[documentIndices[r]];
            seq = Math.Max(seq, (int)lengths[r]);
        }
        var ids = new long[(long)rows * seq];
        Array.Fill(ids, PadId);
        var buffer = new int[seq];
        for (int r = 0; r < rows; r++)
        {
            int length = (int)lengths[r];
            var document = buffer.AsSpan(0, length);
            _documents.CopyTo(documentIndices[r], document);
            if (Backwards) document.Reverse();
            var row = ids.AsSpan(r * seq, length);
            for (int t = 0; t < length; t++) row[t] = document[t];
        }
        var tokens = tensor(ids, [rows, seq], dtype: ScalarType.Int64, device: device);   // (batch, seq)
        return new ClassifierBatch(tokens, lengths, [.. documentIndices]);
    }

    void SortLongestFirst(int[] indices) =>
        // Ties by index keep the order deterministic.
        Array.Sort(indices, (a, b) => _lengths[a] != _lengths[b] ? _lengths[b].CompareTo(_lengths[a]) : a.CompareTo(b));

    /// <summary>Cuts length-sorted <paramref name="sorted"/> into batches of at most BatchSize rows and the token
    /// budget (rows × the first, longest row's pooled length), with at least <paramref name="minimumRows"/> rows
    /// when that many are left; a too-small remainder joins the previous batch.</summary>
    List<int[]> Group(int[] sorted, int minimumRows)
    {
        var batches = new List<int[]>();
        int start = 0;
        while (start < sorted.Length)
        {
            long pooled = Math.Min(_lengths[sorted[start]], MaxLength);
            int rows = 1;
            while (start + rows < sorted.Length
                   && (rows < minimumRows || (rows < _options.BatchSize && (rows + 1) * pooled <= _options.MaxTokensPerBatch)))
                rows++;
            batches.Add(sorted[start..(start + rows)]);
            start += rows;
        }
        if (batches.Count > 1 && batches[^1].Length < minimumRows)
        {
            batches[^2] = [.. batches[^2], .. batches[^1]];
            batches.RemoveAt(batches.Count - 1);
        }
        return batches;
    }
}
