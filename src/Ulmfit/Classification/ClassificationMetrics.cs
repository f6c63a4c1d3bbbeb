namespace Ulmfit.Classification;

/// <summary>Precision, recall and F1 of one class, and how many documents truly belong to it.</summary>
/// <param name="Class">The class name.</param>
/// <param name="Precision">Of the documents predicted as this class, the fraction that are (0 when none are predicted).</param>
/// <param name="Recall">Of the documents of this class, the fraction predicted as it (0 when it has none).</param>
/// <param name="F1">Harmonic mean of precision and recall (0 when both are 0).</param>
/// <param name="Support">Documents whose true class set contains this class.</param>
public sealed record ClassMetrics(string Class, double Precision, double Recall, double F1, int Support)
{
    internal static ClassMetrics FromCounts(string name, int truePositives, int predictedPositives, int support)
    {
        double precision = predictedPositives == 0 ? 0 : (double)truePositives / predictedPositives;
        double recall = support == 0 ? 0 : (double)truePositives / support;
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new ClassMetrics(name, precision, recall, f1, support);
    }
}

/// <summary>
/// Single-label classification quality: accuracy, error rate, macro-averaged F1, per-class precision / recall / F1 /
/// support, and the confusion matrix. Pure computation over class indices.
/// </summary>
/// <remarks>Macro averages run over the classes that occur among the true or the predicted classes (a class absent
/// from both says nothing about this data), as scikit-learn does when no label list is given.</remarks>
public sealed class ClassificationMetrics
{
    ClassificationMetrics(IReadOnlyList<string> classes, int count, int correct, int[][] confusion, IReadOnlyList<ClassMetrics> perClass, double macroF1,
        double macroPrecision, double macroRecall)
    {
        Classes = classes;
        Count = count;
        Correct = correct;
        ConfusionMatrix = confusion;
        PerClass = perClass;
        MacroF1 = macroF1;
        MacroPrecision = macroPrecision;
        MacroRecall = macroRecall;
    }

    /// <summary>Class names, in index order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Documents measured.</summary>
    public int Count { get; }

    /// <summary>Documents whose predicted class is the true one.</summary>
    public int Correct { get; }

    /// <summary>Correct / Count.</summary>
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;

    /// <summary>1 − accuracy.</summary>
    public double ErrorRate => Count == 0 ? 0 : 1 - Accuracy;

    /// <summary>Unweighted mean of the per-class F1 scores (over the classes that occur, see remarks).</summary>
    public double MacroF1 { get; }

    /// <summary>Unweighted mean of the per-class precisions (same classes as <see cref="MacroF1"/>).</summary>
    public double MacroPrecision { get; }

    /// <summary>Unweighted mean of the per-class recalls (same classes as <see cref="MacroF1"/>).</summary>
    public double MacroRecall { get; }

    /// <summary>One entry per class, in index order.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; }

    /// <summary><c>[actual][predicted]</c>: documents of class <c>actual</c> predicted as class <c>predicted</c>.</summary>
    public int[][] ConfusionMatrix { get; }

    /// <summary>Measures <paramref name="predicted"/> against <paramref name="actual"/> (class indices into
    /// <paramref name="classes"/>, one per document).</summary>
    public static ClassificationMetrics Compute(IReadOnlyList<int> actual, IReadOnlyList<int> predicted, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(classes);
        if (actual.Count != predicted.Count)
            throw new ArgumentException($"{actual.Count} true classes but {predicted.Count} predictions.");
        int k = classes.Count;
        var confusion = new int[k][];
        for (int c = 0; c < k; c++) confusion[c] = new int[k];
        int correct = 0;
        for (int i = 0; i < actual.Count; i++)
        {
            int a = actual[i], p = predicted[i];
            if ((uint)a >= (uint)k || (uint)p >= (uint)k)
                throw new ArgumentException($"document {i}: class indices must be in [0, {k}), got true {a}, predicted {p}.");
            confusion[a][p]++;
            if (a == p) correct++;
        }
        var perClass = new ClassMetrics[k];
        var occurring = new List<ClassMetrics>();
        for (int c = 0; c < k; c++)
        {
            int support = confusion[c].Sum();
            int predictedAs = 0;
            for (int a = 0; a < k; a++) predictedAs += confusion[a][c];
            perClass[c] = ClassMetrics.FromCounts(classes[c], confusion[c][c], predictedAs, support);
            if (support > 0 || predictedAs > 0) occurring.Add(perClass[c]);
        }
        return new ClassificationMetrics([.. classes], actual.Count, correct, confusion, perClass,
            MeanOf(occurring, m => m.F1), MeanOf(occurring, m => m.Precision), MeanOf(occurring, m => m.Recall));
    }

    internal static double MeanOf(IReadOnlyList<ClassMetrics> metrics, Func<ClassMetrics, double> value) =>
        metrics.Count == 0 ? 0 : metrics.Average(value);
}
