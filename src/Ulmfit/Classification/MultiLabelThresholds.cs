namespace Ulmfit.Classification;

/// <summary>
/// Per-class decision thresholds for a multi-label classifier, tuned on validation data: for each class, the
/// threshold that maximises that class's F1 (a class is predicted when its probability is at least the threshold).
/// </summary>
public static class MultiLabelThresholds
{
    /// <summary>The threshold used for a class that cannot be tuned (no true document in the validation data).</summary>
    public const float Default = 0.5f;

    /// <summary>
    /// Tunes one threshold per class from <paramref name="probabilities"/> (documents × classes) and the true class
    /// sets <paramref name="actual"/>. Every cut between two distinct probabilities is tried (the threshold is the
    /// midpoint between them); among cuts with equal F1 the one predicting fewest documents wins. A class without
    /// true documents keeps <see cref="Default"/>.
    /// </summary>
    public static float[] Tune(IReadOnlyList<float[]> probabilities, IReadOnlyList<IReadOnlyList<int>> actual, int classCount)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        if (probabilities.Count != actual.Count)
            throw new ArgumentException($"{probabilities.Count} probability rows but {actual.Count} label sets.");
        int n = probabilities.Count;
        var isTrue = new bool[classCount][];
        for (int c = 0; c < classCount; c++) isTrue[c] = new bool[n];
        for (int i = 0; i < n; i++)
        {
            if (probabilities[i].Length != classCount)
                throw new ArgumentException($"document {i} has {probabilities[i].Length} probabilities, expected {classCount}.");
            foreach (int c in actual[i]) isTrue[c][i] = true;
        }

        var thresholds = new float[classCount];
        var order = new int[n];
        for (int c = 0; c < classCount; c++)
        {
            int positives = isTrue[c].Count(t => t);
            if (positives == 0)
            {
                thresholds[c] = Default;
                continue;
            }
            for (int i = 0; i < n; i++) order[i] = i;
            int cls = c;
            Array.Sort(order, (a, b) => probabilities[b][cls].CompareTo(probabilities[a][cls])); // highest first

            // Predicting the top k documents: F1 = 2·TP / (k + positives). Cuts only between distinct values.
            double bestF1 = 0;
            int bestK = 0, truePositives = 0;
            for (int k = 1; k <= n; k++)
            {
                if (isTrue[c][order[k - 1]]) truePositives++;
                bool cutHere = k == n || probabilities[order[k]][c] < probabilities[order[k - 1]][c];
                if (!cutHere) continue;
                double f1 = 2.0 * truePositives / (k + positives);
                if (f1 > bestF1)
                {
                    bestF1 = f1;
                    bestK = k;
                }
            }
            float lowestIn = probabilities[order[bestK - 1]][c];
            float highestOut = bestK < n ? probabilities[order[bestK]][c] : 0f;
            thresholds[c] = (lowestIn + highestOut) / 2;
            // Neighbouring floats have no midpoint: then the cut's lowest included value itself separates them.
            if (thresholds[c] > lowestIn || (bestK < n && thresholds[c] <= highestOut)) thresholds[c] = lowestIn;
        }
        return thresholds;
    }

    /// <summary>The classes predicted for one document: those whose probability is at least their threshold.</summary>
    public static int[] Apply(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> thresholds)
    {
        if (probabilities.Length != thresholds.Length)
            throw new ArgumentException($"{probabilities.Length} probabilities but {thresholds.Length} thresholds.");
        var predicted = new List<int>();
        for (int c = 0; c < probabilities.Length; c++)
            if (probabilities[c] >= thresholds[c]) predicted.Add(c);
        return [.. predicted];
    }
}
