namespace Ulmfit.Classification;

/// <summary>
/// Multi-label classification quality: micro- and macro-averaged F1, per-class precision / recall / F1 / support,
/// exact-match (subset) accuracy and Hamming loss. Pure computation over class-index sets.
/// </summary>
/// <remarks>Micro averages pool the true positives, predictions and true labels of every class (so frequent classes
/// weigh more); macro averages are the unweighted mean over the classes that occur among the true or predicted
/// labels, as in <see cref="ClassificationMetrics"/>.</remarks>
public sealed class MultiLabelMetrics
{
    MultiLabelMetrics(IReadOnlyList<string> classes, int count, IReadOnlyList<ClassMetrics> perClass, double microPrecision,
        double microRecall, double microF1, double macroF1, double subsetAccuracy, double hammingLoss)
    {
        Classes = classes;
        Count = count;
        PerClass = perClass;
        MicroPrecision = microPrecision;
        MicroRecall = microRecall;
        MicroF1 = microF1;
        MacroF1 = macroF1;
        SubsetAccuracy = subsetAccuracy;
        HammingLoss = hammingLoss;
    }

    /// <summary>Class names, in index order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Documents measured.</summary>
    public int Count { get; }

    /// <summary>One entry per class, in index order.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; }

    /// <summary>All true positives / all predicted labels.</summary>
    public double MicroPrecision { get; }

    /// <summary>All true positives / all true labels.</summary>
    public double MicroRecall { get; }

    /// <summary>Harmonic mean of <see cref="MicroPrecision"/> and <see cref="MicroRecall"/>.</summary>
    public double MicroF1 { get; }

    /// <summary>Unweighted mean of the per-class F1 scores (over the classes that occur).</summary>
    public double MacroF1 { get; }

    /// <summary>Fraction of documents whose predicted set equals the true set exactly.</summary>
    public double SubsetAccuracy { get; }

    /// <summary>Fraction of (document, class) decisions that are wrong.</summary>
    public double HammingLoss { get; }

    /// <summary>Measures <paramref name="predicted"/> against <paramref name="actual"/>: per document, the set of class
    /// indices into <paramref name="classes"/>.</summary>
    public static MultiLabelMetrics Compute(IReadOnlyList<IReadOnlyList<int>> actual, IReadOnlyList<IReadOnlyList<int>> predicted,
        IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(classes);
        if (actual.Count != predicted.Count)
            throw new ArgumentException($"{actual.Count} true label sets but {predicted.Count} predictions.");
        int k = classes.Count;
        var truePositives = new int[k];
        var predictedPositives = new int[k];
        var support = new int[k];
        int exact = 0;
        long wrong = 0;
        for (int i = 0; i < actual.Count; i++)
        {
            var a = ToSet(actual[i], k, i);
            var p = ToSet(predicted[i], k, i);
            foreach (int c in a) support[c]++;
            foreach (int c in p)
            {
                predictedPositives[c]++;
                if (a.Contains(c)) truePositives[c]++;
            }
            if (a.SetEquals(p)) exact++;
            wrong += a.Count + p.Count - 2 * a.Intersect(p).Count();
        }
        var perClass = new ClassMetrics[k];
        var occurring = new List<ClassMetrics>();
        for (int c = 0; c < k; c++)
        {
            perClass[c] = ClassMetrics.FromCounts(classes[c], truePositives[c], predictedPositives[c], support[c]);
            if (support[c] > 0 || predictedPositives[c] > 0) occurring.Add(perClass[c]);
        }
        var micro = ClassMetrics.FromCounts("micro", truePositives.Sum(), predictedPositives.Sum(), support.Sum());
        int n = actual.Count;
        return new MultiLabelMetrics([.. classes], n, perClass, micro.Precision, micro.Recall, micro.F1,
            ClassificationMetrics.MeanOf(occurring, m => m.F1), n == 0 ? 0 : (double)exact / n,
            n == 0 ? 0 : (double)wrong / ((long)n * k));
    }

    static HashSet<int> ToSet(IReadOnlyList<int> labels, int classCount, int document)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var set = new HashSet<int>();
        foreach (int c in labels)
        {
            if ((uint)c >= (uint)classCount)
                throw new ArgumentException($"document {document}: class indices must be in [0, {classCount}), got {c}.");
            set.Add(c);
        }
        return set;
    }
}
