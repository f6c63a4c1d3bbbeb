using TorchSharp;
using TorchSharp.Modules;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Classification;

/// <summary>
/// ULMFiT's classifier (stage 3): a recurrent encoder (<see cref="AwdLstmEncoder"/> or <see cref="QrnnEncoder"/>, as
/// <see cref="AwdLstmConfig.Architecture"/> says) with classifier dropouts, read with BPT3C
/// (back-propagation through time for text classification), concat pooling of the last layer, and a
/// <see cref="PoolingClassifierHead"/>.
/// </summary>
/// <remarks>
/// <para>BPT3C (paper, section 3.3): a batch (batch, seq) is fed in chunks of <see cref="TextClassifierConfig.Bptt"/>
/// tokens, the recurrent state carried from chunk to chunk and reset at the start of every batch. Only each
/// document's last <see cref="TextClassifierConfig.MaxLength"/> tokens are pooled; chunks before the earliest pooled
/// position run without a graph (they only build the state, as in fastai's <c>SentenceEncoder</c>, which keeps their
/// outputs out of the graph too), so memory grows with the pooled length, not the document length. The encoder
/// cuts the state from the graph between chunks, so gradients stay within each pooled chunk, as in fastai.</para>
/// <para>State-dict keys (stable; renaming breaks saved models): <c>encoder.*</c> exactly as in
/// <see cref="AwdLstmLanguageModel"/> (so a fine-tuned language model's encoder loads by name), <c>head.*</c>
/// (<see cref="PoolingClassifierHead"/>), and the buffer <c>decision_thresholds</c> (classes), the per-class
/// thresholds of a multi-label classifier.</para>
/// <para>Not thread-safe: the encoder carries state during a forward pass. Share one instance between threads only
/// behind a lock, as <see cref="TextClassifierPredictor"/> does.</para>
/// </remarks>
public sealed class TextClassifier : nn.Module
{
#pragma warning disable IDE1006 // field names are state-dict keys
    readonly IRecurrentEncoder encoder; // registered as a module by its runtime type
    readonly PoolingClassifierHead head;
    Tensor decision_thresholds;
#pragma warning restore IDE1006
    IReadOnlyList<LayerGroup>? _layerGroups;

    /// <summary>Prefix of the encoder's keys in a language model's (and this classifier's) state dict.</summary>
    public const string EncoderPrefix = "encoder.";

    /// <summary>Builds the classifier for <paramref name="config"/> (validated first) with fresh weights.</summary>
    public TextClassifier(TextClassifierConfig config, string name = nameof(TextClassifier)) : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        encoder = IRecurrentEncoder.Create(config.Encoder);
        head = new PoolingClassifierHead(config.PooledSize, config.HeadHiddenSize, config.ClassCount,
            config.PooledDropout, config.HeadDropout);
        decision_thresholds = full(config.ClassCount, 0.5f).DetachFromDisposeScope();
        RegisterComponents(); // registers the Tensor field as a (persistent) buffer
    }

    /// <summary>The configuration this classifier was built from.</summary>
    public TextClassifierConfig Config { get; }

    /// <summary>The encoder.</summary>
    public IRecurrentEncoder Encoder => encoder;

    /// <summary>The pooling head.</summary>
    public PoolingClassifierHead Head => head;

    /// <summary>Class names, in output-column order.</summary>
    public IReadOnlyList<string> Classes => Config.Classes;

    /// <summary>
    /// fastai's <c>awd_lstm_clas_split</c>, input side first: [embedding], [lstm0], …, [lstm(n−1)], [head] (qrnn0, … for
    /// the QRNN). Gradual
    /// unfreezing trains the head first and adds one group per stage going down.
    /// </summary>
    public IReadOnlyList<LayerGroup> LayerGroups => _layerGroups ??= BuildLayerGroups();

    /// <summary>Per-class probability thresholds of a multi-label classifier (0.5 until tuned); a class is predicted
    /// when its sigmoid probability is at least its threshold. Saved in the state dict.</summary>
    public float[] DecisionThresholds
    {
        get => decision_thresholds.data<float>().ToArray();
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length != Config.ClassCount)
                throw new ArgumentException($"{value.Length} thresholds given for {Config.ClassCount} classes.", nameof(value));
            if (value.Any(t => !float.IsFinite(t) || t < 0 || t > 1))
                throw new ArgumentException("thresholds must be probabilities in [0, 1].", nameof(value));
            using var _ = no_grad();
            using var source = tensor(value, dtype: decision_thresholds.dtype, device: decision_thresholds.device);
            decision_thresholds.copy_(source);
        }
    }

    /// <summary>Class scores (logits) for <paramref name="batch"/>: (batch, classes).</summary>
    public Tensor Forward(ClassifierBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Forward(batch.Tokens, batch.Lengths);
    }

    /// <summary>Class scores (logits) for end-padded <paramref name="tokens"/> (batch, seq) int64 whose rows hold
    /// <paramref name="lengths"/> real tokens: (batch, classes).</summary>
    public Tensor Forward(Tensor tokens, IReadOnlyList<long> lengths)
    {
        using var pooled = Encode(tokens, lengths);     // (batch, 3·emb)
        return head.forward(pooled);                    // (batch, classes)
    }

    /// <summary>
    /// BPT3C over end-padded <paramref name="tokens"/> (batch, seq) int64 followed by concat pooling: (batch, 3·emb)
    /// = [last real output, max, mean] of the last layer over each row's last MaxLength real tokens.
    /// </summary>
    public Tensor Encode(Tensor tokens, IReadOnlyList<long> lengths)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(lengths);
        if (tokens.dim() != 2 || tokens.shape[0] != lengths.Count)
            throw new ArgumentException($"tokens must be (batch={lengths.Count}, seq), got [{string.Join(", ", tokens.shape)}].", nameof(tokens));
        long seq = tokens.shape[1];
        if (lengths.Any(l => l < 1 || l > seq))
            throw new ArgumentException($"every length must be in [1, {seq}] (the padded width).", nameof(lengths));
        var groups = PoolingGroups(lengths, Config.MaxLength, Config.Bptt);
        if (groups.Count == 1) return EncodeRows(tokens, lengths);

        // Rows whose pooled windows lie far apart (a long document batched with short ones) run as separate passes:
        // one pass would keep the graph from the earliest pooled position of any row to the end of the longest, so
        // memory would grow with the long document instead of the pooled window. (No dispose scope of its own here:
        // the passes' graphs hold tensors the caller's backward still needs, so they live in the caller's scope.)
        var pooled = new List<Tensor>(groups.Count);
        foreach (var rows in groups)
        {
            long width = rows.Max(r => lengths[r]);
            var index = tensor(rows.Select(r => (long)r).ToArray(), device: tokens.device);
            var part = tokens.index_select(0, index).narrow(1, 0, width);              // (rows, width)
            pooled.Add(EncodeRows(part, [.. rows.Select(r => lengths[r])]));           // (rows, 3·emb)
        }
        var order = groups.SelectMany(g => g).ToArray();                                // row of each stacked output
        var inverse = new long[order.Length];
        for (int i = 0; i < order.Length; i++) inverse[order[i]] = i;
        return cat(pooled, 0).index_select(0, tensor(inverse, device: tokens.device)); // (batch, 3·emb)
    }

    /// <summary>
    /// Rows of a batch that can share one BPT3C pass: grouped (in order of their first pooled chunk) so that within a
    /// group the first pooled chunks lie at most <paramref name="maxLength"/> apart. A pass keeps the graph from its
    /// earliest pooled chunk to its longest row's end, so each pass keeps at most about 2·maxLength + bptt positions
    /// per row. The usual length-sorted batch is one group.
    /// </summary>
    internal static IReadOnlyList<int[]> PoolingGroups(IReadOnlyList<long> lengths, long maxLength, long bptt)
    {
        long FirstPooledChunk(int r) => Math.Max(0, lengths[r] - maxLength) / bptt * bptt;
        var rows = Enumerable.Range(0, lengths.Count).OrderBy(FirstPooledChunk).ThenBy(r => r).ToArray();
        var groups = new List<int[]>();
        for (int start = 0, end; start < rows.Length; start = end)
        {
            long first = FirstPooledChunk(rows[start]);
            end = start + 1;
            while (end < rows.Length && FirstPooledChunk(rows[end]) - first <= maxLength) end++;
            groups.Add(rows[start..end]);
        }
        if (groups.Count == 1) groups[0] = [.. Enumerable.Range(0, lengths.Count)]; // keep the batch's own row order
        return groups;
    }

    // BPT3C and concat pooling of rows that share one pass (see Encode).
    Tensor EncodeRows(Tensor tokens, IReadOnlyList<long> lengths)
    {
        long bptt = Config.Bptt, maxLength = Config.MaxLength;
        long end = lengths.Max();                                           // past it every row is padding
        long firstPooled = lengths.Min(l => Math.Max(0, l - maxLength));    // earliest position any row pools
        long keptStart = firstPooled / bptt * bptt;                         // chunk holding it

        encoder.ResetState();
        try
        {
            var kept = new List<Tensor>();
            for (long start = 0; start < end; start += bptt)
            {
                using var chunk = tokens.narrow(1, start, Math.Min(bptt, end - start));   // (batch, ≤ bptt)
                if (start < keptStart)
                {
                    // Only the carried state matters: no graph, and every tensor of the pass freed at once.
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    encoder.Forward(chunk, allLayers: false);
                }
                else
                {
                    kept.Add(encoder.Forward(chunk, allLayers: false).LastRaw);           // (batch, ≤ bptt, emb)
                }
            }
            var outputs = kept.Count == 1 ? kept[0] : cat(kept, 1);                      // (batch, end − keptStart, emb)
            return ConcatPooling.Pool(outputs, keptStart, lengths, maxLength);
        }
        finally
        {
            encoder.ResetState(); // the next batch starts from zeros, and no state outlives the batch
        }
    }

    /// <summary>Probabilities from <paramref name="logits"/> (batch, classes): softmax over classes, or a sigmoid per
    /// class for a multi-label classifier.</summary>
    public Tensor Probabilities(Tensor logits) => Config.MultiLabel ? sigmoid(logits) : softmax(logits, 1);

    /// <summary>
    /// Copies a language model's encoder weights into this classifier: every key <c>encoder.X</c> of this
    /// classifier is read from <paramref name="lmStateDict"/>'s <c>encoder.X</c> (the keys of
    /// <see cref="AwdLstmLanguageModel"/>'s state dict); other entries (the decoder bias) are ignored.
    /// </summary>
    /// <exception cref="ArgumentException">A key is missing or a shape differs (a different vocabulary needs
    /// <see cref="VocabularyTransfer"/> first; a different size needs a matching config).</exception>
    public void LoadEncoderWeights(IReadOnlyDictionary<string, Tensor> lmStateDict)
    {
        ArgumentNullException.ThrowIfNull(lmStateDict);
        var targets = encoder.Module.state_dict();
        var missing = targets.Keys.Where(k => !lmStateDict.ContainsKey(EncoderPrefix + k)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"the language model's weights lack {string.Join(", ", missing.Select(k => EncoderPrefix + k))}.", nameof(lmStateDict));
        foreach (var (key, target) in targets)
        {
            var source = lmStateDict[EncoderPrefix + key];
            if (!source.shape.SequenceEqual(target.shape))
                throw new ArgumentException($"{EncoderPrefix}{key} is [{string.Join(", ", source.shape)}] in the language model but " +
                    $"[{string.Join(", ", target.shape)}] in the classifier (vocabulary {Config.Encoder.VocabSize}, emb {Config.Encoder.EmbeddingSize}, " +
                    $"hidden {Config.Encoder.HiddenSize}, layers {Config.Encoder.Layers}).", nameof(lmStateDict));
        }
        using var _ = no_grad();
        foreach (var (key, target) in targets)
            target.copy_(lmStateDict[EncoderPrefix + key]);
    }

    /// <summary>Copies <paramref name="languageModel"/>'s encoder weights into this classifier (see
    /// <see cref="LoadEncoderWeights(IReadOnlyDictionary{string, Tensor})"/>).</summary>
    public void LoadEncoderWeights(AwdLstmLanguageModel languageModel)
    {
        ArgumentNullException.ThrowIfNull(languageModel);
        if (languageModel.Config.Architecture != Config.Encoder.Architecture)
            throw new ArgumentException($"the language model's architecture is '{languageModel.Config.Architecture.Name()}' but the classifier's " +
                $"encoder is '{Config.Encoder.Architecture.Name()}'.", nameof(languageModel));
        LoadEncoderWeights(languageModel.state_dict());
    }

    IReadOnlyList<LayerGroup> BuildLayerGroups()
    {
        var groups = new List<LayerGroup> { new("embedding", [encoder.Embedding.Weight]) };
        string prefix = Config.Encoder.Architecture.LayerGroupPrefix();
        groups.AddRange(encoder.LayerParameters.Select((weights, l) => new LayerGroup($"{prefix}{l}", weights)));
        // Detached from any dispose scope: the groups outlive the scope they happen to be built in.
        groups.Add(new LayerGroup("head", [.. head.parameters().Select(p => (Parameter)p.DetachFromDisposeScope())]));
        return groups;
    }

    /// <summary>Moving the classifier (module.to) replaces the parameters; the layer groups are rebuilt on next access.</summary>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        _layerGroups = null;
    }
}
