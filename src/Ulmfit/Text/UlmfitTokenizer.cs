using System.Collections.Concurrent;

namespace Ulmfit.Text;

/// <summary>
/// ULMFiT's tokenizer: fastai's text rules with spaCy-style English word splitting, written as one linear scanner.
/// The rules, in order:
/// <list type="number">
/// <item>HTML and WikiText clean-up (<see cref="HtmlCleanup"/>: <c>&lt;br /&gt;</c>, entities, <c>@-@</c>, <c>&lt;unk&gt;</c>).</item>
/// <item>Three or more copies of a character → <c>xxrep n c</c> (<c>cooool</c> → <c>c xxrep 4 o l</c>); digits and
/// the three-dot ellipsis excepted.</item>
/// <item>Three or more copies of a word → <c>xxwrep n w</c>.</item>
/// <item><c>/ # \</c> are always tokens of their own (fastai's <c>spec_add_spaces</c>) except inside web addresses;
/// runs of white space separate tokens; line breaks inside a document become <c>"\n"</c> or <c>"\n\n"</c> tokens.</item>
/// <item>Words are split from punctuation as spaCy's English tokenizer does (contractions, abbreviations, numbers,
/// addresses, emoji: see <see cref="TokenScanner"/> and <see cref="WordRules"/>), then case is marked
/// (<c>xxup</c>, <c>xxmaj</c>; see <see cref="CaseRules"/>) and every token lower-cased; <c>xxbos</c> comes first.</item>
/// </list>
/// Instances are immutable and thread-safe; output depends only on the text and the options, never on threads.
/// </summary>
public sealed class UlmfitTokenizer : ITextTokenizer
{
    /// <summary>Version of the rules; bumped whenever any input's output could change.</summary>
    public const string RulesVersion = "ulmfit-rules-1";

    /// <summary>A tokenizer with fastai's default rules.</summary>
    public static UlmfitTokenizer Default { get; } = new();

    public UlmfitTokenizer() : this(UlmfitTokenizerOptions.Default) { }

    public UlmfitTokenizer(UlmfitTokenizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        string signature = options.Signature();
        Version = signature.Length == 0 ? RulesVersion : $"{RulesVersion}+{signature}";
    }

    /// <summary>The switches this tokenizer was made with.</summary>
    public UlmfitTokenizerOptions Options { get; }

    /// <summary><see cref="RulesVersion"/>, followed by the non-default options, if any ("ulmfit-rules-1+lower=0").</summary>
    public string Version { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Workspace work = Workspace.ForThisThread();
        if (Options.AddBeginningOfStream) work.Output.Add(SpecialTokens.BeginningOfStream);
        AppendDocument(text, work);
        if (Options.AddEndOfStream) work.Output.Add(SpecialTokens.EndOfStream);
        return work.TakeOutput();
    }

    /// <summary>
    /// Tokens of a document made of fields, marked as fastai's <c>mark_fields</c> does:
    /// <c>["Title", "Body"]</c> → <c>xxbos xxfld 1 xxmaj title xxfld 2 xxmaj body</c>. Rules never reach across fields.
    /// </summary>
    public IReadOnlyList<string> TokenizeFields(IReadOnlyList<string> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        Workspace work = Workspace.ForThisThread();
        if (Options.AddBeginningOfStream) work.Output.Add(SpecialTokens.BeginningOfStream);
        for (int f = 0; f < fields.Count; f++)
        {
            string field = fields[f] ?? throw new ArgumentException($"Field {f + 1} is null.", nameof(fields));
            work.Output.Add(SpecialTokens.Field);
            work.Output.Add(Counts.Text(f + 1));
            AppendDocument(field, work);
        }
        if (Options.AddEndOfStream) work.Output.Add(SpecialTokens.EndOfStream);
        return work.TakeOutput();
    }

    /// <summary>
    /// Tokenizes many documents on <paramref name="threads"/> threads (0: all cores). Result <c>k</c> belongs to
    /// <c>texts[k]</c> and is the same whatever the thread count.
    /// </summary>
    public IReadOnlyList<string>[] TokenizeMany(IReadOnlyList<string> texts, int threads = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        for (int k = 0; k < texts.Count; k++)
            if (texts[k] is null) throw new ArgumentException($"Document {k} is null.", nameof(texts));
        return RunParallel(texts.Count, threads, k => Tokenize(texts[k]), cancellationToken);
    }

    /// <summary>As <see cref="TokenizeMany"/>, for documents made of fields (see <see cref="TokenizeFields"/>).</summary>
    public IReadOnlyList<string>[] TokenizeManyFields(IReadOnlyList<IReadOnlyList<string>> documents, int threads = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        for (int k = 0; k < documents.Count; k++)
            if (documents[k] is null) throw new ArgumentException($"Document {k} is null.", nameof(documents));
        return RunParallel(documents.Count, threads, k => TokenizeFields(documents[k]), cancellationToken);
    }

    /// <summary>Readable text from tokens: markers undone, punctuation and contractions re-attached (see <see cref="TokenDecoder"/>).</summary>
    public string Decode(IEnumerable<string> tokens) => TokenDecoder.Decode(tokens);

    void AppendDocument(string text, Workspace work)
    {
        string clean = Options.CleanHtml ? HtmlCleanup.Clean(text) : text;
        work.Raw.Clear();
        TokenScanner.Scan(clean, work.Raw, Options);
        if (Options.ReplaceWordRepetitions) WordRepetition.Apply(clean, work.Raw);
        CaseRules.Emit(clean, work.Raw, work.Output, work.Cache, Options.MarkCase, Options.Lowercase);
    }

    static IReadOnlyList<string>[] RunParallel(int count, int threads, Func<int, IReadOnlyList<string>> one,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        int workers = threads > 0 ? threads : Environment.ProcessorCount;
        var results = new IReadOnlyList<string>[count];
        if (workers == 1 || count < 2)
        {
            for (int k = 0; k < count; k++)
            {
                if ((k & 63) == 0) cancellationToken.ThrowIfCancellationRequested();
                results[k] = one(k);
            }
            return results;
        }
        // Ranges of documents rather than single ones keep the scheduling cost far below the tokenizing cost;
        // each result goes to its own slot, so the order cannot depend on which thread finishes first.
        int chunk = Math.Clamp(count / (workers * 16), 1, 256);
        var options = new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken };
        Parallel.ForEach(Partitioner.Create(0, count, chunk), options, range =>
        {
            for (int k = range.Item1; k < range.Item2; k++) results[k] = one(k);
        });
        return results;
    }

    /// <summary>Per-thread scratch lists, reused from document to document so tokenizing allocates only its output.</summary>
    sealed class Workspace
    {
        [ThreadStatic] static Workspace? _current;

        // Lists that grew for a huge document are dropped afterwards rather than kept alive per thread.
        const int MaxKeptCapacity = 1 << 16;

        public List<RawToken> Raw = new(1024);
        public List<string> Output = new(1024);
        public readonly TokenStringCache Cache = new();

        public static Workspace ForThisThread()
        {
            Workspace work = _current ??= new Workspace();
            work.Output.Clear(); // in case an earlier call on this thread ended in an exception
            return work;
        }

        public string[] TakeOutput()
        {
            string[] result = Output.ToArray();
            Output.Clear();
            if (Output.Capacity > MaxKeptCapacity) Output = new(1024);
            if (Raw.Capacity > MaxKeptCapacity) Raw = new(1024);
            return result;
        }
    }
}
