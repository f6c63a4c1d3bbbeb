using System.Globalization;
using Ulmfit.Training;

namespace Ulmfit.Classification;

/// <summary>Which documents train and which validate.</summary>
/// <param name="Training">Indices of the training documents, ascending.</param>
/// <param name="Validation">Indices of the validation documents, ascending.</param>
public sealed record SplitIndices(int[] Training, int[] Validation);

/// <summary>
/// A seeded, stratified hold-out split: each class gives the same fraction of its documents (rounded) to validation,
/// so a rare class is not left out of either part by chance. Multi-label documents are stratified by their rarest
/// class (documents without a class form a stratum of their own).
/// </summary>
public static class ValidationSplit
{
    /// <summary>Splits <paramref name="dataset"/>: about <paramref name="validFraction"/> of each class to validation,
    /// chosen by <paramref name="seed"/>. A class with a single document stays in training. At least one document
    /// validates when the fraction is positive and there are two or more documents.</summary>
    public static SplitIndices Stratified(ClassificationDataset dataset, double validFraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (!double.IsFinite(validFraction) || validFraction < 0 || validFraction >= 1)
            throw new ArgumentOutOfRangeException(nameof(validFraction), validFraction,
                string.Create(CultureInfo.InvariantCulture, $"the validation fraction must be in [0, 1), got {validFraction}"));
        var counts = dataset.ClassCounts();
        var strata = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < dataset.Count; i++)
        {
            var labels = dataset.Labels(i);
            int key = labels.Count == 0 ? -1 : labels.MinBy(c => (counts[c], c));
            if (!strata.TryGetValue(key, out var members)) strata[key] = members = [];
            members.Add(i);
        }

        var random = new Xoshiro256StarStar(seed);
        var validation = new List<int>();
        var largest = (Key: 0, Count: -1);
        foreach (var (key, members) in strata)
        {
            var shuffled = members.ToArray();
            random.Shuffle(shuffled);
            int take = members.Count < 2 ? 0 : (int)Math.Round(members.Count * validFraction, MidpointRounding.AwayFromZero);
            take = Math.Min(take, members.Count - 1); // every stratum keeps at least one training document
            validation.AddRange(shuffled.Take(take));
            if (members.Count > largest.Count) largest = (key, members.Count);
        }
        if (validation.Count == 0 && validFraction > 0 && dataset.Count >= 2)
        {
            var members = strata[largest.Key].ToArray();
            random.Shuffle(members);
            validation.Add(members[0]);
        }

        var inValidation = new bool[dataset.Count];
        foreach (int i in validation) inValidation[i] = true;
        return new SplitIndices(
            [.. Enumerable.Range(0, dataset.Count).Where(i => !inValidation[i])],
            [.. Enumerable.Range(0, dataset.Count).Where(i => inValidation[i])]);
    }
}
