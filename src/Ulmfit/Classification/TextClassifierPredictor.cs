using Ulmfit.Data;
using Ulmfit.Modeling;
using Ulmfit.Text;

namespace Ulmfit.Classification;

/// <summary>How a <see cref="TextClassifierPredictor"/> runs.</summary>
public sealed record TextClassifierPredictorOptions
{
    /// <summary>Batching of the documents of one call (sorted by length internally). Without gradients, memory per
    /// batch is small, so the default budget is larger than training's: up to 256 short documents a batch (the
    /// recurrent matrix product [rows, hidden] × [hidden, 4·hidden] runs more efficiently with more rows: 258 → 298
    /// docs/s for 16-token documents at 400/1152/3, bf16, one thread; no further gain at 512), and the token budget
    /// of 64 rows of 1,440 tokens for long ones.</summary>
    public ClassifierBatchingOptions Batching { get; init; } = new() { BatchSize = 256, MaxTokensPerBatch = 64 * 1440 };

    /// <summary>Threads that tokenize the documents of one call (tokenizing runs outside the model lock).</summary>
    public int TokenizerThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Number format the classifier computes in (set on it by the predictor); null keeps the classifier's own
    /// setting. bf16 changes probabilities by about 1e-2 at most and is faster on CPUs with native bf16.</summary>
    public Modeling.ComputePrecision? Precision { get; init; }

    /// <summary>When true, <see cref="Precision"/> is ignored and the predictor picks the fastest number format that
    /// keeps accuracy (<see cref="Modeling.ComputePrecisions.FastestForInference(TorchSharp.torch.nn.Module, Engine.CpuFeatures?)"/>): int8 for AWD-LSTM classifiers
    /// where the int8 kernel runs, else bf16 where the CPU has native bf16, else fp32.</summary>
    public bool FastestPrecision { get; init; }

    /// <summary>Dispose the classifier with the predictor.</summary>
    public bool OwnsClassifier { get; init; } = true;
}

/// <summary>
/// Classifies raw text with a trained classifier: tokenizes, maps tokens to ids, batches by length, runs the model in
/// eval mode without gradients, and returns one <see cref="ClassificationPrediction"/> per document in input order.
/// </summary>
/// <remarks>
/// Thread-safe: several threads may call <see cref="Predict(IEnumerable{string}, CancellationToken)"/> at once.
/// libtorch's operators are thread-safe, but the module is not — its encoder carries recurrent state between the
/// chunks of a batch, and its LSTM layers reuse native workspaces — so the model part of each call runs under a
/// lock, one batch sequence at a time (libtorch parallelises inside each operator, so little is lost); tokenizing
/// runs outside the lock, in parallel. Gradient mode is per thread and switched off inside each call. Results do
/// not depend on how documents are grouped into calls or batches (eval mode; padding is masked exactly). libtorch's
/// intra-op thread count is process-wide: set it once with <see cref="Ulmfit.Engine.TorchRuntime.Initialise"/>.
/// </remarks>
public sealed class TextClassifierPredictor : IDisposable
{
    readonly object _gate = new();
    readonly TextClassifier _classifier;
    readonly ITextTokenizer _tokenizer;
    readonly Vocabulary _vocabulary;
    readonly TextClassifierPredictorOptions _options;
    bool _disposed;

    /// <summary>Wraps <paramref name="classifier"/> (switched to eval mode) with the tokenizer and vocabulary it was
    /// trained with.</summary>
    public TextClassifierPredictor(TextClassifier classifier, ITextTokenizer tokenizer, Vocabulary vocabulary,
        TextClassifierPredictorOptions? options = null)
    {
        _classifier = classifier ?? throw new ArgumentNullException(nameof(classifier));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _vocabulary = vocabulary ?? throw new ArgumentNullException(nameof(vocabulary));
        _options = options ?? new TextClassifierPredictorOptions();
        _options.Batching.Validate();
        if (_options.TokenizerThreads < 1) throw new ArgumentException("TokenizerThreads must be at least 1.", nameof(options));
        if (vocabulary.Count != classifier.Config.Encoder.VocabSize)
            throw new ArgumentException($"the vocabulary has {vocabulary.Count} entries but the classifier's embedding has {classifier.Config.Encoder.VocabSize} rows.", nameof(vocabulary));
        var chosen = _options.FastestPrecision ? Modeling.ComputePrecisions.FastestForInference(classifier) : _options.Precision;
        if (chosen is { } precision) _classifier.SetComputePrecision(precision);
        _classifier.eval();
    }

    /// <summary>Class names, in probability-column order.</summary>
    public IReadOnlyList<string> Classes => _classifier.Classes;

    /// <summary>The wrapped classifier (do not run it from other threads while the predictor is in use).</summary>
    public TextClassifier Classifier => _classifier;

    /// <summary>The vocabulary that maps tokens to ids.</summary>
    public Vocabulary Vocabulary => _vocabulary;

    /// <summary>The prediction for one text.</summary>
    public ClassificationPrediction Predict(string text) => Predict([text])[0];

    /// <summary>Predictions for <paramref name="texts"/>, in input order.</summary>
    public IReadOnlyList<ClassificationPrediction> Predict(IEnumerable<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return Predict(texts.Select(t => TextDocument.FromText(t ?? throw new ArgumentException("a text is null.", nameof(texts)))), cancellationToken);
    }

    /// <summary>Predictions for <paramref name="documents"/> (several fields are joined with <c>xxfld</c> markers, as in
    /// training), in input order.</summary>
    public IReadOnlyList<ClassificationPrediction> Predict(IEnumerable<TextDocument> documents, CancellationToken cancellationToken = default)
    {
        var probabilities = PredictProbabilities(Encode(documents, cancellationToken), cancellationToken);
        var thresholds = _classifier.Config.MultiLabel ? Thresholds() : null;
        return [.. probabilities.Select(p => ClassificationPrediction.From(p, Classes, thresholds))];
    }

    /// <summary>Token ids of <paramref name="documents"/>, in input order (tokenized in parallel).</summary>
    public int[][] Encode(IEnumerable<TextDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var list = documents as IReadOnlyList<TextDocument> ?? documents.ToList();
        if (list.Count < 64 || _options.TokenizerThreads == 1)
            return [.. list.Select(d => _vocabulary.Encode(_tokenizer.Tokenize(d)))];
        return list.AsParallel().AsOrdered().WithDegreeOfParallelism(_options.TokenizerThreads).WithCancellation(cancellationToken)
            .Select(d => _vocabulary.Encode(_tokenizer.Tokenize(d))).ToArray();
    }

    /// <summary>Class probabilities for already encoded documents, in input order.</summary>
    public float[][] PredictProbabilities(IReadOnlyList<int[]> tokenIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        if (tokenIds.Count == 0) return [];
        for (int i = 0; i < tokenIds.Count; i++)
        {
            if (tokenIds[i] is not { Length: > 0 } ids) throw new ArgumentException($"document {i} has no tokens.", nameof(tokenIds));
            foreach (int id in ids)
                if ((uint)id >= (uint)_vocabulary.Count) throw new ArgumentException($"document {i} has token id {id}, outside the vocabulary of {_vocabulary.Count}.", nameof(tokenIds));
        }
        var documents = new InMemoryTokenDocuments(tokenIds);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return ClassifierEvaluator.PredictProbabilities(_classifier, documents, _options.Batching, cancellationToken);
        }
    }

    /// <summary>The classifier's per-class thresholds (multi-label).</summary>
    public float[] Thresholds()
    {
        lock (_gate) return _classifier.DecisionThresholds;
    }

    /// <summary>Disposes the classifier when <see cref="TextClassifierPredictorOptions.OwnsClassifier"/>; waits for a
    /// running call to finish.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_options.OwnsClassifier) _classifier.Dispose();
        }
    }
}
