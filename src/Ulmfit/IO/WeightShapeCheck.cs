namespace Ulmfit.IO;

/// <summary>Compares a set of named tensor shapes with what a package's manifest says it must hold, and lists every
/// difference at once (a user fixing a mismatch wants the whole list, not one key per attempt).</summary>
internal static class WeightShapeCheck
{
    const int MaxListed = 8;

    /// <summary>Problems with <paramref name="actual"/> (name → shape, floating-point flag); empty when it fits.</summary>
    public static List<string> Problems(ModelKind kind, ArchitectureSpec architecture, IEnumerable<(string Name, IReadOnlyList<long> Shape, bool IsFloat)> actual)
    {
        IReadOnlyDictionary<string, long[]> expected = AwdLstmWeightNames.ExpectedShapes(kind, architecture);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        var wrongShape = new List<string>();
        var wrongType = new List<string>();
        foreach ((string name, IReadOnlyList<long> shape, bool isFloat) in actual)
        {
            seen.Add(name);
            if (expected.TryGetValue(name, out long[]? want))
            {
                if (!shape.SequenceEqual(want)) wrongShape.Add($"{name} is [{string.Join(", ", shape)}], expected [{string.Join(", ", want)}]");
                if (!isFloat) wrongType.Add(name);
            }
            else if (!(kind == ModelKind.Classifier && name.StartsWith(AwdLstmWeightNames.HeadPrefix, StringComparison.Ordinal)))
            {
                unexpected.Add(name);
            }
        }
        var missing = expected.Keys.Where(k => !seen.Contains(k)).ToList();
        var problems = new List<string>();
        if (missing.Count > 0) problems.Add($"missing weights: {List(missing)}");
        if (unexpected.Count > 0) problems.Add($"unexpected weights: {List(unexpected)}");
        if (wrongShape.Count > 0) problems.Add($"shape mismatch (architecture says vocab {architecture.VocabSize}, emb {architecture.EmbeddingSize}, hidden {architecture.HiddenSize}, layers {architecture.Layers}): {List(wrongShape)}");
        if (wrongType.Count > 0) problems.Add($"weights must be floating point: {List(wrongType)}");
        return problems;
    }

    internal static string List(IReadOnlyList<string> items) =>
        string.Join(", ", items.Take(MaxListed).Select(i => SafetensorsDTypes.Shorten(i, 120))) + (items.Count > MaxListed ? $" and {items.Count - MaxListed} more" : "");
}
