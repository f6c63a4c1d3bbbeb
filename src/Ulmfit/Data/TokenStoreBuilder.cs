using System.Diagnostics;
using System.Runtime.InteropServices;
using Ulmfit.Text;

namespace Ulmfit.Data;

/// <summary>
/// Tokenizes a corpus once, in parallel, into a <see cref="TokenStore"/> file. The result is the same for any
/// number of threads (batches are consumed in input order). Nothing is left at the target path unless the build
/// succeeds: the file is written under a temporary name and renamed at the end.
/// </summary>
public sealed class TokenStoreBuilder
{
    readonly ITextTokenizer tokenizer;
    readonly TokenStoreBuilderOptions options;

    public TokenStoreBuilder(ITextTokenizer tokenizer, TokenStoreBuilderOptions? options = null)
    {
        this.tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        this.options = options ?? new TokenStoreBuilderOptions();
        this.options.Validate();
    }

    /// <summary>Tokenizes <paramref name="documents"/> with an existing vocabulary (fine-tuning, classification).</summary>
    /// <param name="documents">Usually <see cref="DocumentReader.Read"/>'s output; enumerated once.</param>
    /// <param name="vocabulary">Maps tokens to ids; tokens it lacks become <c>xxunk</c>.</param>
    /// <param name="storePath">The store file to (re)write.</param>
    /// <param name="report">The reader's report, for the skipped-row count in the summary.</param>
    /// <param name="cancellationToken">Stops between batches; nothing is written.</param>
    public TokenizeSummary Build(IEnumerable<TextDocument> documents, Vocabulary vocabulary, string storePath,
        ReadReport? report = null, CancellationToken cancellationToken = default) =>
        Build(documents, vocabulary, storePath, report, ReadOnlyMemory<byte>.Empty, cancellationToken);

    /// <summary>
    /// Tokenizes <paramref name="documents"/> and builds the vocabulary from the same pass (pre-training). The text
    /// is tokenized only once: the first pass stores provisional ids in a temporary file while counting, the
    /// second maps them to the vocabulary's ids.
    /// </summary>
    public TokenStoreBuildResult BuildWithNewVocabulary(IEnumerable<TextDocument> documents, VocabularySettings settings,
        string storePath, ReadReport? report = null, CancellationToken cancellationToken = default) =>
        BuildWithNewVocabulary(documents, settings, storePath, report, ReadOnlyMemory<byte>.Empty, cancellationToken);

    internal TokenizeSummary Build(IEnumerable<TextDocument> documents, Vocabulary vocabulary, string storePath,
        ReadReport? report, ReadOnlyMemory<byte> cacheKey, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var progress = new ProgressReporter(options, clock);
        using var writer = new TokenStoreWriter(storePath, vocabulary);
        long unknown = 0;
        string? firstSource = null;
        OrderedBatchPipeline.Run(documents, options.Threads, options.MaxBatchDocuments, options.MaxBatchCharacters,
            batch => EncodeBatch(batch, vocabulary),
            encoded =>
            {
                firstSource ??= encoded.Source;
                for (int i = 0; i < encoded.Ids.Length; i++) writer.Add(encoded.Ids[i], encoded.Labels[i]);
                unknown += encoded.Unknown;
                progress.Tick("tokenizing", writer.Documents, writer.Tokens);
            },
            cancellationToken);
        writer.Commit(tokenizer.Version, report?.Source ?? firstSource ?? "", report?.SkippedEmpty ?? 0, unknown, cacheKey.Span);
        progress.Done("tokenizing", writer.Documents, writer.Tokens);
        return new TokenizeSummary(writer.Documents, writer.Tokens, TokenizeSummary.Rate(writer.Tokens, clock.Elapsed),
            vocabulary.Count, report?.SkippedEmpty ?? 0, unknown, clock.Elapsed, FromCache: false);
    }

    internal TokenStoreBuildResult BuildWithNewVocabulary(IEnumerable<TextDocument> documents, VocabularySettings settings,
        string storePath, ReadReport? report, ReadOnlyMemory<byte> cacheKey, CancellationToken cancellationToken)
    {
        settings.Validate();
        var clock = Stopwatch.StartNew();
        var progress = new ProgressReporter(options, clock);
        string fullPath = Path.GetFullPath(storePath);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        string spillPath = Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.spill.tmp");
        // The spill file (token ids before the vocabulary is known) is one handle, written then read back. Where the
        // system allows it (Unix) its name is removed as soon as it is open, so even a killed process leaves nothing;
        // elsewhere it goes when the handle closes.
        using var spill = new FileStream(spillPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose);
        if (!OperatingSystem.IsWindows()) File.Delete(spillPath);
        var corpus = new ProvisionalCorpus();
        string? firstSource = null;
        OrderedBatchPipeline.Run(documents, options.Threads, options.MaxBatchDocuments, options.MaxBatchCharacters,
            CountBatch,
            counted =>
            {
                firstSource ??= counted.Source;
                corpus.Append(counted, spill);
                progress.Tick("tokenizing", corpus.Documents, corpus.Tokens);
            },
            cancellationToken);
        progress.Done("tokenizing", corpus.Documents, corpus.Tokens);

        Vocabulary vocabulary = Vocabulary.Build(corpus.Counter(), settings);
        int[] finalIds = corpus.MapTo(vocabulary, out long unknown);

        using var writer = new TokenStoreWriter(storePath, vocabulary);
        spill.Flush();
        spill.Position = 0;
        int[] ids = [];
        for (int d = 0; d < corpus.Documents; d++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int length = corpus.Lengths[d];
            if (ids.Length < length) ids = new int[Math.Max(length, ids.Length * 2)];
            Span<int> document = ids.AsSpan(0, length);
            spill.ReadExactly(MemoryMarshal.AsBytes(document));
            for (int i = 0; i < length; i++) document[i] = finalIds[document[i]];
            writer.Add(document, corpus.Labels[d]);
            progress.Tick("writing", writer.Documents, writer.Tokens);
        }
        writer.Commit(tokenizer.Version, report?.Source ?? firstSource ?? "", report?.SkippedEmpty ?? 0, unknown, cacheKey.Span);
        progress.Done("writing", writer.Documents, writer.Tokens);
        var summary = new TokenizeSummary(writer.Documents, writer.Tokens, TokenizeSummary.Rate(writer.Tokens, clock.Elapsed),
            vocabulary.Count, report?.SkippedEmpty ?? 0, unknown, clock.Elapsed, FromCache: false);
        return new TokenStoreBuildResult(vocabulary, summary);
    }

    /// <summary>A batch tokenized and mapped to ids (worker thread).</summary>
    sealed record EncodedBatch(int[][] Ids, string?[] Labels, long Unknown, string Source);

    /// <summary>A batch tokenized into batch-local ids with a batch-local count of each distinct token (worker thread).</summary>
    sealed record CountedBatch(int[][] LocalIds, string?[] Labels, string[] Distinct, long[] Counts, string Source);

    EncodedBatch EncodeBatch(TextDocument[] batch, Vocabulary vocabulary)
    {
        var ids = new int[batch.Length][];
        var labels = new string?[batch.Length];
        long unknown = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            IReadOnlyList<string> tokens = TokenizeExplained(batch[i]);
            ids[i] = new int[tokens.Count];
            unknown += vocabulary.Encode(tokens, ids[i]);
            labels[i] = batch[i].Label;
        }
        return new EncodedBatch(ids, labels, unknown, batch[0].Origin.FilePath);
    }

    CountedBatch CountBatch(TextDocument[] batch)
    {
        // Counting into a batch-local dictionary keeps the shared dictionary work (done in order on the consumer)
        // proportional to distinct tokens per batch, not to all tokens.
        var local = new Dictionary<string, int>(StringComparer.Ordinal);
        var counts = new List<long>();
        var ids = new int[batch.Length][];
        var labels = new string?[batch.Length];
        for (int d = 0; d < batch.Length; d++)
        {
            IReadOnlyList<string> tokens = TokenizeExplained(batch[d]);
            int[] document = ids[d] = new int[tokens.Count];
            for (int t = 0; t < tokens.Count; t++)
            {
                ref int id = ref CollectionsMarshal.GetValueRefOrAddDefault(local, tokens[t], out bool existed);
                if (!existed)
                {
                    id = counts.Count;
                    counts.Add(0);
                }
                counts[id]++;
                document[t] = id;
            }
            labels[d] = batch[d].Label;
        }
        var distinct = new string[local.Count];
        foreach (var (token, id) in local) distinct[id] = token;
        return new CountedBatch(ids, labels, distinct, counts.ToArray(), batch[0].Origin.FilePath);
    }

    IReadOnlyList<string> TokenizeExplained(TextDocument document)
    {
        try
        {
            return tokenizer.Tokenize(document);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"{document.Origin}: the tokenizer failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// The first pass of <see cref="BuildWithNewVocabulary(IEnumerable{TextDocument}, VocabularySettings, string, ReadReport?, CancellationToken)"/>:
    /// provisional ids (order of first appearance) with their counts; ids go to the spill file, lengths and labels stay in memory.
    /// </summary>
    sealed class ProvisionalCorpus
    {
        readonly Dictionary<string, int> ids = new(StringComparer.Ordinal);
        readonly List<string> tokens = [];
        readonly List<long> counts = [];
        readonly Dictionary<string, string> labelStrings = new(StringComparer.Ordinal);

        public List<int> Lengths { get; } = [];
        public List<string?> Labels { get; } = [];
        public int Documents => Lengths.Count;
        public long Tokens { get; private set; }

        public void Append(CountedBatch batch, Stream spill)
        {
            var toProvisional = new int[batch.Distinct.Length];
            for (int k = 0; k < batch.Distinct.Length; k++)
            {
                ref int id = ref CollectionsMarshal.GetValueRefOrAddDefault(ids, batch.Distinct[k], out bool existed);
                if (!existed)
                {
                    id = tokens.Count;
                    tokens.Add(batch.Distinct[k]);
                    counts.Add(0);
                }
                counts[id] += batch.Counts[k];
                toProvisional[k] = id;
            }
            for (int d = 0; d < batch.LocalIds.Length; d++)
            {
                int[] document = batch.LocalIds[d];
                for (int i = 0; i < document.Length; i++) document[i] = toProvisional[document[i]];
                ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(document.AsSpan());
                spill.Write(bytes);
                Lengths.Add(document.Length);
                Tokens += document.Length;
                string? label = batch.Labels[d];
                Labels.Add(label is null ? null : labelStrings.TryGetValue(label, out string? same) ? same : labelStrings[label] = label);
            }
        }

        public TokenCounter Counter()
        {
            var counter = new TokenCounter();
            for (int i = 0; i < tokens.Count; i++) counter.Add(tokens[i], counts[i]);
            return counter;
        }

        /// <summary>Final id of every provisional id; <paramref name="unknown"/> counts occurrences that became <c>xxunk</c>.</summary>
        public int[] MapTo(Vocabulary vocabulary, out long unknown)
        {
            var map = new int[tokens.Count];
            unknown = 0;
            for (int i = 0; i < tokens.Count; i++)
            {
                map[i] = vocabulary.Encode(tokens[i]);
                if (map[i] == SpecialTokens.UnknownId && tokens[i] != SpecialTokens.Unknown) unknown += counts[i];
            }
            return map;
        }
    }

    /// <summary>Reports progress at most every <see cref="TokenStoreBuilderOptions.ProgressInterval"/>.</summary>
    sealed class ProgressReporter(TokenStoreBuilderOptions options, Stopwatch clock)
    {
        TimeSpan last = TimeSpan.Zero;

        public void Tick(string phase, long documents, long tokens)
        {
            if (options.Progress is null || clock.Elapsed - last < options.ProgressInterval) return;
            Done(phase, documents, tokens);
        }

        public void Done(string phase, long documents, long tokens)
        {
            last = clock.Elapsed;
            options.Progress?.Report(new TokenizeProgress(phase, documents, tokens, last));
        }
    }
}
