using System.Security.Cryptography;
using System.Text;
using Ulmfit.Data;
using Ulmfit.Text;

namespace Ulmfit.Pipeline;

/// <summary>Settings for turning language-model text into token stores.</summary>
public sealed record CorpusOptions
{
    /// <summary>Training inputs (files or folders); a sharded corpus folder is expanded by <see cref="CorpusLayout"/>.</summary>
    public required IReadOnlyList<string> Inputs { get; init; }

    /// <summary>Held-out text; null: the corpus folder's valid file, else a <see cref="ValidationFraction"/> split.</summary>
    public string? ValidationInput { get; init; }

    /// <summary>Share of training documents held out when no validation text exists.</summary>
    public double ValidationFraction { get; init; } = 0.1;

    public DocumentReaderOptions Reader { get; init; } = new();

    /// <summary>How to build the vocabulary (ignored when <see cref="Vocabulary"/> is given).</summary>
    public VocabularySettings VocabularySettings { get; init; } = new();

    /// <summary>Use this vocabulary instead of building one.</summary>
    public Vocabulary? Vocabulary { get; init; }

    /// <summary>When no <see cref="Vocabulary"/> is given: grow this (pretrained) vocabulary by the corpus's own words
    /// (<see cref="Data.Vocabulary.Extend"/>) instead of cutting a new one from the corpus alone.</summary>
    public Vocabulary? BaseVocabulary { get; init; }

    /// <summary>Folder for the cached token stores and vocabularies.</summary>
    public required string CacheDirectory { get; init; }

    public int Threads { get; init; } = Environment.ProcessorCount;
    public ulong Seed { get; init; } = 42;
    public IProgress<TokenizeProgress>? Progress { get; init; }
}

/// <summary>
/// A corpus tokenized into memory-mapped token stores (one per input file, each cached by content), with its
/// vocabulary and a training/validation split. Dispose to unmap the stores.
/// </summary>
public sealed class TokenizedCorpus : IDisposable
{
    readonly List<TokenStore> _stores;

    TokenizedCorpus(Vocabulary vocabulary, ITokenDocuments training, ITokenDocuments? validation, List<TokenStore> stores,
        IReadOnlyList<TokenizeSummary> summaries)
    {
        Vocabulary = vocabulary;
        Training = training;
        Validation = validation;
        _stores = stores;
        Summaries = summaries;
    }

    public Vocabulary Vocabulary { get; }
    public ITokenDocuments Training { get; }
    public ITokenDocuments? Validation { get; }

    /// <summary>One summary per tokenized (or reused) store, training files first.</summary>
    public IReadOnlyList<TokenizeSummary> Summaries { get; }

    /// <summary>Tokenizes (or reuses the cached stores of) the corpus.</summary>
    public static TokenizedCorpus Prepare(CorpusOptions options, ITextTokenizer tokenizer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        CorpusLayout layout = CorpusLayout.Resolve(options.Inputs);
        Directory.CreateDirectory(options.CacheDirectory);
        var builder = new TokenStoreBuilderOptions { Threads = options.Threads, Progress = options.Progress };
        Vocabulary? vocabulary = options.Vocabulary ?? (layout.TrainingFiles.Count > 1 || options.BaseVocabulary != null
            ? SharedVocabulary(layout.TrainingFiles, options, tokenizer, cancellationToken)
            : null);

        var stores = new List<TokenStore>();
        var summaries = new List<TokenizeSummary>();
        try
        {
            foreach (string file in layout.TrainingFiles)
            {
                var result = TokenStoreCache.GetOrBuild(Request(file, options, vocabulary), StorePath(options, file), tokenizer, builder, cancellationToken);
                vocabulary ??= result.Vocabulary;
                summaries.Add(result.Summary);
                stores.Add(TokenStore.Open(result.StorePath, vocabulary));
            }
            ITokenDocuments training = stores.Count == 1 ? stores[0] : new ConcatenatedTokenDocuments(stores);
            ITokenDocuments? validation = null;
            string? validationFile = options.ValidationInput ?? layout.ValidationFile;
            if (validationFile != null)
            {
                var result = TokenStoreCache.GetOrBuild(Request(validationFile, options, vocabulary), StorePath(options, validationFile), tokenizer, builder, cancellationToken);
                summaries.Add(result.Summary);
                var store = TokenStore.Open(result.StorePath, vocabulary);
                stores.Add(store);
                validation = store;
            }
            else if (options.ValidationFraction > 0 && training.Count >= 2)
            {
                (var train, var valid) = TokenDocumentSubset.Split(training, options.ValidationFraction, options.Seed);
                training = train;
                validation = valid;
            }
            return new TokenizedCorpus(vocabulary!, training, validation, stores, summaries);
        }
        catch
        {
            foreach (var s in stores) s.Dispose();
            throw;
        }
    }

    static TokenizeRequest Request(string file, CorpusOptions options, Vocabulary? vocabulary) =>
        new(file) { Reader = options.Reader, Vocabulary = vocabulary, VocabularySettings = options.VocabularySettings };

    // One store per input, named by a hash of its full path so that two inputs with the same file name do not collide.
    static string StorePath(CorpusOptions options, string file)
    {
        string full = Path.GetFullPath(file);
        string tag = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..12];
        string name = Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar));
        return Path.Combine(options.CacheDirectory, $"{name}.{tag}.ulmtok");
    }

    // Several shards share one vocabulary, counted over all of them. It is cached by the shards' content keys (and the
    // base vocabulary's hash when one is extended).
    static Vocabulary SharedVocabulary(IReadOnlyList<string> files, CorpusOptions options, ITextTokenizer tokenizer, CancellationToken cancellationToken)
    {
        var keys = files.Select(f => TokenStoreCache.ComputeKey(Request(f, options, null), tokenizer.Version, cancellationToken));
        if (options.BaseVocabulary != null) keys = keys.Append("extends " + options.BaseVocabulary.Hash);
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", keys))))[..16];
        string path = Path.Combine(options.CacheDirectory, $"vocab-{key}.json");
        if (File.Exists(path))
        {
            try { return Vocabulary.Load(path); }
            catch (InvalidInputException) { /* damaged cache entry: count again */ }
        }
        IEnumerable<TextDocument> documents = files.SelectMany(f => DocumentReader.Read(f, options.Reader));
        TokenCounter counts = TokenCounter.Count(documents, tokenizer, options.Threads, cancellationToken);
        Vocabulary vocabulary = options.BaseVocabulary != null
            ? Vocabulary.Extend(options.BaseVocabulary, counts, options.VocabularySettings)
            : Vocabulary.Build(counts, options.VocabularySettings);
        vocabulary.Save(path);
        return vocabulary;
    }

    public void Dispose()
    {
        foreach (var s in _stores) s.Dispose();
        _stores.Clear();
    }
}
