using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ulmfit.Text;

namespace Ulmfit.Data;

/// <summary>What to tokenize: the input, how to read it, and which vocabulary to use or build.</summary>
/// <param name="InputPath">A file or folder (see <see cref="DocumentReader"/>).</param>
public sealed record TokenizeRequest(string InputPath)
{
    /// <summary>Columns and plain-text mode.</summary>
    public DocumentReaderOptions Reader { get; init; } = new();

    /// <summary>An existing vocabulary (fine-tuning/classification), or null to build one from this corpus.</summary>
    public Vocabulary? Vocabulary { get; init; }

    /// <summary>How the vocabulary is built when <see cref="Vocabulary"/> is null.</summary>
    public VocabularySettings VocabularySettings { get; init; } = new();
}

/// <summary>The store (built or reused) and its vocabulary.</summary>
/// <param name="StorePath">The token store file; open it with <see cref="TokenStore.Open"/>.</param>
/// <param name="VocabularyPath">Where the corpus-built vocabulary is saved; null when the request supplied one.</param>
/// <param name="Vocabulary">The vocabulary the store's ids index.</param>
/// <param name="Summary">Counts and timing; <see cref="TokenizeSummary.FromCache"/> tells a reuse.</param>
/// <param name="CacheKey">The key (lower-case hex SHA-256) the store is recorded under.</param>
public sealed record TokenStoreCacheResult(string StorePath, string? VocabularyPath, Vocabulary Vocabulary,
    TokenizeSummary Summary, string CacheKey)
{
    /// <summary>Whether an existing store was reused.</summary>
    public bool CacheHit => Summary.FromCache;
}

/// <summary>
/// Tokenizes an input only when needed. The cache key is the SHA-256 of the input's content hash, the reader
/// settings (text/label columns, plain-text mode), the tokenizer's <see cref="ITextTokenizer.Version"/> and the
/// vocabulary (a supplied vocabulary's hash, or the build settings); it is stored in the store's header. A store
/// whose key matches, that opens cleanly and whose vocabulary file matches is reused; anything else is rebuilt.
/// </summary>
public static class TokenStoreCache
{
    /// <summary>Where a corpus-built vocabulary lives next to its store: <c>tokens.ulmtok</c> → <c>tokens.vocab.json</c>.</summary>
    public static string VocabularyPathFor(string storePath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(storePath))!, Path.GetFileNameWithoutExtension(storePath) + ".vocab.json");

    /// <summary>The cache key of <paramref name="request"/> with a tokenizer of version <paramref name="tokenizerVersion"/>
    /// (reads the whole input to hash it).</summary>
    public static string ComputeKey(TokenizeRequest request, string tokenizerVersion, CancellationToken cancellationToken = default)
    {
        request.Reader.Validate();
        InputFormat format = DocumentReader.DetectFormat(request.InputPath);
        DocumentReaderOptions reader = request.Reader;
        // One "name=value" line per setting; values JSON-encoded so that no setting can forge another line.
        var text = new StringBuilder();
        void Line(string name, object value) => text.Append(name).Append('=').Append(JsonSerializer.Serialize(value)).Append('\n');
        Line("store_format", TokenStoreHeader.FormatVersion);
        Line("input_sha256", InputFingerprint.Compute(request.InputPath, cancellationToken));
        Line("input_format", format.ToString());
        if (format == InputFormat.Csv)
        {
            Line("text_columns", reader.TextColumns);
            Line("label_column", reader.LabelColumn);
            Line("label_required", reader.LabelRequired);
        }
        if (format == InputFormat.PlainText) Line("line_per_document", reader.LinePerDocument);
        Line("tokenizer_version", tokenizerVersion);
        if (request.Vocabulary is { } vocabulary) Line("vocabulary_sha256", vocabulary.Hash);
        else
        {
            Line("vocabulary_max_size", request.VocabularySettings.MaxSize);
            Line("vocabulary_min_frequency", request.VocabularySettings.MinFrequency);
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Reuses the store at <paramref name="storePath"/> if its key matches <paramref name="request"/>, otherwise
    /// tokenizes the input into it (and, without a supplied vocabulary, saves the built one at
    /// <see cref="VocabularyPathFor"/>).</summary>
    public static TokenStoreCacheResult GetOrBuild(TokenizeRequest request, string storePath, ITextTokenizer tokenizer,
        TokenStoreBuilderOptions? options = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        string key = ComputeKey(request, tokenizer.Version, cancellationToken);
        string? vocabularyPath = request.Vocabulary is null ? VocabularyPathFor(storePath) : null;

        if (TryReuse(storePath, key, request.Vocabulary, vocabularyPath) is var (vocabulary, store))
        {
            var summary = new TokenizeSummary(store.Count, store.TokenCount, TokenizeSummary.Rate(store.TokenCount, clock.Elapsed),
                store.VocabSize, store.SkippedRows, store.UnknownTokens, clock.Elapsed, FromCache: true);
            store.Dispose();
            return new TokenStoreCacheResult(storePath, vocabularyPath, vocabulary, summary, key);
        }

        var builder = new TokenStoreBuilder(tokenizer, options);
        var report = new ReadReport();
        IEnumerable<TextDocument> documents = DocumentReader.Read(request.InputPath, request.Reader, report);
        byte[] keyBytes = Convert.FromHexString(key);
        if (request.Vocabulary is { } supplied)
        {
            TokenizeSummary built = builder.Build(documents, supplied, storePath, report, keyBytes, cancellationToken);
            return new TokenStoreCacheResult(storePath, null, supplied, built, key);
        }
        TokenStoreBuildResult result = builder.BuildWithNewVocabulary(documents, request.VocabularySettings, storePath, report, keyBytes, cancellationToken);
        // Saved after the store: a crash in between leaves a store whose vocabulary hash does not match, so it is rebuilt.
        result.Vocabulary.Save(vocabularyPath!);
        return new TokenStoreCacheResult(storePath, vocabularyPath, result.Vocabulary, result.Summary, key);
    }

    static (Vocabulary, TokenStore)? TryReuse(string storePath, string key, Vocabulary? supplied, string? vocabularyPath)
    {
        if (!File.Exists(storePath)) return null;
        TokenStore store;
        try
        {
            store = TokenStore.Open(storePath);
        }
        catch (InvalidInputException)
        {
            return null; // corrupt or from another format version: rebuild
        }
        Vocabulary? vocabulary = supplied;
        if (vocabulary is null && vocabularyPath is not null && File.Exists(vocabularyPath))
        {
            try { vocabulary = Vocabulary.Load(vocabularyPath); }
            catch (InvalidInputException) { vocabulary = null; }
        }
        if (store.CacheKey == key && vocabulary is not null && vocabulary.Hash == store.VocabHash) return (vocabulary, store);
        store.Dispose();
        return null;
    }
}
