using System.Diagnostics;
using Ulmfit.Data;
using static TorchSharp.torch;

namespace Ulmfit.Classification;

/// <summary>A classifier measured on labelled documents.</summary>
/// <param name="Loss">Mean cross-entropy (single-label) or mean per-class binary cross-entropy (multi-label), without
/// label smoothing or class weights.</param>
/// <param name="Probabilities">Per document, in input order: the class probabilities (softmax, or per-class sigmoid).</param>
/// <param name="Predicted">Per document, in input order: the predicted classes (the arg-max; multi-label: every class
/// at or above its threshold).</param>
/// <param name="SingleLabel">Accuracy, F1s and confusion matrix (single-label classifiers).</param>
/// <param name="MultiLabel">Micro/macro F1 and per-class figures (multi-label classifiers).</param>
/// <param name="Elapsed">Wall time of the measurement.</param>
public sealed record ClassifierEvaluation(double Loss, float[][] Probabilities, int[][] Predicted,
    ClassificationMetrics? SingleLabel, MultiLabelMetrics? MultiLabel, TimeSpan Elapsed)
{
    /// <summary>Documents measured.</summary>
    public int Count => Probabilities.Length;

    /// <summary>Accuracy (single-label) or exact-match accuracy (multi-label).</summary>
    public double Accuracy => SingleLabel?.Accuracy ?? MultiLabel!.SubsetAccuracy;

    /// <summary>1 − <see cref="Accuracy"/>.</summary>
    public double ErrorRate => 1 - Accuracy;

    /// <summary>Macro-averaged F1.</summary>
    public double MacroF1 => SingleLabel?.MacroF1 ?? MultiLabel!.MacroF1;

    /// <summary>Documents classified per second.</summary>
    public double DocumentsPerSecond => Elapsed.TotalSeconds > 0 ? Count / Elapsed.TotalSeconds : 0;

    /// <summary>The value of <paramref name="metric"/> in this evaluation.</summary>
    public double Value(ClassifierMetric metric) => metric switch
    {
        ClassifierMetric.Loss => Loss,
        ClassifierMetric.Accuracy => Accuracy,
        ClassifierMetric.MacroF1 => MacroF1,
        ClassifierMetric.MicroF1 => MultiLabel?.MicroF1 ?? SingleLabel!.Accuracy, // single-label micro-F1 = accuracy
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };

    /// <summary>
    /// Scores given probabilities (for example an ensemble's averages) against <paramref name="dataset"/>'s labels;
    /// the loss is computed from the probabilities (clamped at 1e-7 so a confident mistake stays finite).
    /// <paramref name="thresholds"/> apply to multi-label data (default 0.5 each).
    /// </summary>
    public static ClassifierEvaluation FromProbabilities(float[][] probabilities, ClassificationDataset dataset,
        float[]? thresholds = null, TimeSpan elapsed = default)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(dataset);
        if (probabilities.Length != dataset.Count)
            throw new ArgumentException($"{probabilities.Length} probability rows for {dataset.Count} documents.");
        const double floor = 1e-7;
        double loss = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            var p = probabilities[i];
            if (!dataset.MultiLabel) loss -= Math.Log(Math.Max(p[dataset.Label(i)], floor));
            else
            {
                var labels = dataset.Labels(i);
                for (int c = 0; c < p.Length; c++)
                    loss -= Math.Log(Math.Max(labels.Contains(c) ? p[c] : 1 - p[c], floor)) / p.Length;
            }
        }
        return Score(dataset, probabilities, probabilities.Length == 0 ? 0 : loss / probabilities.Length, thresholds, elapsed);
    }

    internal static ClassifierEvaluation Score(ClassificationDataset dataset, float[][] probabilities, double loss,
        float[]? thresholds, TimeSpan elapsed)
    {
        int k = dataset.Classes.Count;
        var predicted = new int[probabilities.Length][];
        if (!dataset.MultiLabel)
        {
            for (int i = 0; i < predicted.Length; i++) predicted[i] = [ArgMax(probabilities[i])];
            var metrics = ClassificationMetrics.Compute(Enumerable.Range(0, dataset.Count).Select(dataset.Label).ToArray(),
                predicted.Select(p => p[0]).ToArray(), dataset.Classes);
            return new ClassifierEvaluation(loss, probabilities, predicted, metrics, null, elapsed);
        }
        thresholds ??= Enumerable.Repeat(MultiLabelThresholds.Default, k).ToArray();
        for (int i = 0; i < predicted.Length; i++) predicted[i] = MultiLabelThresholds.Apply(probabilities[i], thresholds);
        var multi = MultiLabelMetrics.Compute(Enumerable.Range(0, dataset.Count).Select(dataset.Labels).ToArray(), predicted, dataset.Classes);
        return new ClassifierEvaluation(loss, probabilities, predicted, null, multi, elapsed);
    }

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int c = 1; c < values.Length; c++)
            if (values[c] > values[best]) best = c;
        return best;
    }
}

/// <summary>What model selection and early stopping watch on the validation data.</summary>
public enum ClassifierMetric
{
    /// <summary>Validation loss (lower is better).</summary>
    Loss,
    /// <summary>Accuracy; exact-match accuracy for multi-label data.</summary>
    Accuracy,
    /// <summary>Macro-averaged F1.</summary>
    MacroF1,
    /// <summary>Micro-averaged F1 (for single-label data this equals accuracy).</summary>
    MicroF1,
}

/// <summary>Runs a classifier over documents in eval mode without gradients, in length-sorted batches, and gives the
/// results back in input order.</summary>
public static class ClassifierEvaluator
{
    /// <summary>Class probabilities for every document of <paramref name="documents"/>, in input order.</summary>
    public static float[][] PredictProbabilities(TextClassifier classifier, ITokenDocuments documents,
        ClassifierBatchingOptions? batching = null, CancellationToken cancellationToken = default)
    {
        var probabilities = new float[documents?.Count ?? 0][];
        Run(classifier, documents!, batching, cancellationToken, (rows, logits) =>
        {
            using var p = classifier.Probabilities(logits).cpu();
            var values = p.data<float>().ToArray();
            int k = (int)p.shape[1];
            for (int r = 0; r < rows.Length; r++) probabilities[rows[r]] = values.AsSpan(r * k, k).ToArray();
        });
        return probabilities;
    }

    /// <summary>Measures <paramref name="classifier"/> on <paramref name="dataset"/> (whose classes must be the
    /// classifier's). Multi-label predictions use the classifier's <see cref="TextClassifier.DecisionThresholds"/>.</summary>
    public static ClassifierEvaluation Evaluate(TextClassifier classifier, ClassificationDataset dataset,
        ClassifierBatchingOptions? batching = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(dataset);
        if (!dataset.Classes.SequenceEqual(classifier.Classes, StringComparer.Ordinal))
            throw new ArgumentException("the dataset's classes are not the classifier's (label the data with the classifier's classes).", nameof(dataset));
        if (dataset.MultiLabel != classifier.Config.MultiLabel)
            throw new ArgumentException($"the dataset is {(dataset.MultiLabel ? "multi" : "single")}-label but the classifier is not.", nameof(dataset));
        var clock = Stopwatch.StartNew();
        var probabilities = new float[dataset.Count][];
        double lossSum = 0;
        using var loss = new ClassifierLoss(dataset.MultiLabel, dataset.Classes.Count);
        Run(classifier, dataset.Documents, batching, cancellationToken, (rows, logits) =>
        {
            using var batchLoss = loss.Compute(logits, dataset, rows);
            lossSum += batchLoss.item<float>() * rows.Length;
            using var p = classifier.Probabilities(logits).cpu();
            var values = p.data<float>().ToArray();
            int k = (int)p.shape[1];
            for (int r = 0; r < rows.Length; r++) probabilities[rows[r]] = values.AsSpan(r * k, k).ToArray();
        });
        double meanLoss = dataset.Count == 0 ? 0 : lossSum / dataset.Count;
        return ClassifierEvaluation.Score(dataset, probabilities, meanLoss, classifier.DecisionThresholds, clock.Elapsed);
    }

    /// <summary>The encoder's concat-pooled features of every document, in input order: per document 3·emb values
    /// ([last, max, mean] of the last layer, what the head reads), computed without dropout.</summary>
    public static float[][] PooledFeatures(TextClassifier classifier, ITokenDocuments documents,
        ClassifierBatchingOptions? batching = null, CancellationToken cancellationToken = default)
    {
        var features = new float[documents?.Count ?? 0][];
        Run(classifier, documents!, batching, cancellationToken, (rows, pooled) =>
        {
            using var values = pooled.to(ScalarType.Float32).cpu();
            var flat = values.data<float>().ToArray();
            int width = (int)values.shape[1];
            for (int r = 0; r < rows.Length; r++) features[rows[r]] = flat.AsSpan(r * width, width).ToArray();
        }, encodeOnly: true);
        return features;
    }

    /// <summary>Calls <paramref name="consume"/> with each batch's document indices and logits (batch, classes) — or, with <paramref name="encodeOnly"/>, the pooled features (batch, 3·emb), in
    /// eval mode under no_grad, each batch in its own dispose scope; restores the training flag afterwards.</summary>
    internal static void Run(TextClassifier classifier, ITokenDocuments documents, ClassifierBatchingOptions? batching,
        CancellationToken cancellationToken, Action<int[], Tensor> consume, bool encodeOnly = false)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(documents);
        if (documents.Count == 0) return;
        var batcher = new ClassifierBatcher(documents, classifier.Config, batching);
        bool wasTraining = classifier.training;
        var device = classifier.Encoder.Embedding.Weight.device;
        classifier.eval();
        try
        {
            using var _ = no_grad();
            foreach (var rows in batcher.InferenceBatches())
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                using var batch = batcher.Build(rows, device);
                using var output = encodeOnly ? classifier.Encode(batch.Tokens, batch.Lengths) : classifier.Forward(batch);
                consume(rows, output);
            }
        }
        finally
        {
            classifier.train(wasTraining);
        }
    }
}
