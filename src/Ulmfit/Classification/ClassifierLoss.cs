using static TorchSharp.torch;

namespace Ulmfit.Classification;

/// <summary>
/// The training loss: cross-entropy over classes (single-label) or binary cross-entropy per class (multi-label),
/// with optional label smoothing and class weights.
/// </summary>
internal sealed class ClassifierLoss : IDisposable
{
    readonly Tensor? _classWeights; // (classes), outside any dispose scope

    public ClassifierLoss(bool multiLabel, int classCount, double labelSmoothing = 0, IReadOnlyList<double>? classWeights = null)
    {
        if (!double.IsFinite(labelSmoothing) || labelSmoothing is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must be in [0, 1)");
        if (classWeights is not null)
        {
            if (classWeights.Count != classCount)
                throw new ArgumentException($"{classWeights.Count} class weights for {classCount} classes.", nameof(classWeights));
            if (classWeights.Any(w => !double.IsFinite(w) || w < 0) || classWeights.All(w => w == 0))
                throw new ArgumentException("class weights must be finite, at least 0, and not all 0.", nameof(classWeights));
            _classWeights = tensor(classWeights.Select(w => (float)w).ToArray()).DetachFromDisposeScope();
        }
        MultiLabel = multiLabel;
        ClassCount = classCount;
        LabelSmoothing = labelSmoothing;
    }

    public bool MultiLabel { get; }
    public int ClassCount { get; }
    public double LabelSmoothing { get; }

    /// <summary>Mean loss of <paramref name="logits"/> (batch, classes) for the documents
    /// <paramref name="documentIndices"/> of <paramref name="dataset"/>; a scalar in the caller's dispose scope.</summary>
    public Tensor Compute(Tensor logits, ClassificationDataset dataset, IReadOnlyList<int> documentIndices)
    {
        using var weights = _classWeights?.to(logits.device);
        if (!MultiLabel)
        {
            using var targets = tensor(documentIndices.Select(i => (long)dataset.Label(i)).ToArray(), device: logits.device); // (batch)
            return nn.functional.cross_entropy(logits, targets, weight: weights, label_smoothing: LabelSmoothing);
        }
        using var multiHot = MultiHot(dataset, documentIndices, logits.dtype, logits.device);    // (batch, classes)
        // Smoothing pulls every 0/1 target towards 1/2 by the same amount.
        using var smoothed = LabelSmoothing > 0 ? multiHot * (1 - LabelSmoothing) + LabelSmoothing / 2 : multiHot.alias();
        using var elementWeights = weights?.unsqueeze(0).expand_as(logits);                       // (batch, classes)
        return nn.functional.binary_cross_entropy_with_logits(logits, smoothed, weight: elementWeights);
    }

    /// <summary>(batch, classes) with 1 where the document has the class.</summary>
    public static Tensor MultiHot(ClassificationDataset dataset, IReadOnlyList<int> documentIndices, ScalarType dtype, Device device)
    {
        int k = dataset.Classes.Count;
        var values = new float[documentIndices.Count * k];
        for (int r = 0; r < documentIndices.Count; r++)
            foreach (int c in dataset.Labels(documentIndices[r])) values[r * k + c] = 1;
        using var cpu = tensor(values, [documentIndices.Count, k]);
        return cpu.to(dtype, device);
    }

    /// <summary>Weights inversely proportional to class frequency, averaging 1 over the classes that occur
    /// (n / (classes · count_c), scikit-learn's "balanced"); a class without documents gets 0.</summary>
    public static double[] BalancedWeights(IReadOnlyList<int> classCounts)
    {
        ArgumentNullException.ThrowIfNull(classCounts);
        int present = classCounts.Count(c => c > 0);
        long total = classCounts.Sum(c => (long)c);
        return [.. classCounts.Select(c => c == 0 ? 0.0 : (double)total / ((double)present * c))];
    }

    public void Dispose() => _classWeights?.Dispose();
}
