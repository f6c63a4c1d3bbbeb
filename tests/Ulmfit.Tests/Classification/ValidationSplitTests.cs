using Ulmfit.Classification;
using Ulmfit.Data;

namespace Ulmfit.Tests.Classification;

public class ValidationSplitTests
{
    static ClassificationDataset Labelled(int[] labels, int classCount) => ClassificationDataset.SingleLabel(
        new InMemoryTokenDocuments([.. labels.Select(_ => new[] { 5 })]), labels, [.. Enumerable.Range(0, classCount).Select(c => $"c{c}")]);

    [Fact]
    public void Each_class_gives_its_rounded_share_to_validation_and_parts_are_disjoint()
    {
        // 50 of class 0, 30 of class 1, 15 of class 2, 1 of class 3.
        int[] labels = [.. Enumerable.Repeat(0, 50), .. Enumerable.Repeat(1, 30), .. Enumerable.Repeat(2, 15), 3];
        var data = Labelled(labels, 4);

        var split = ValidationSplit.Stratified(data, 0.1, seed: 3);

        var validCounts = split.Validation.GroupBy(i => labels[i]).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(5, validCounts[0]);
        Assert.Equal(3, validCounts[1]);
        Assert.Equal(2, validCounts[2]); // 1.5 rounds away from zero
        Assert.False(validCounts.ContainsKey(3)); // a lone document stays in training
        Assert.Equal(Enumerable.Range(0, labels.Length), split.Training.Concat(split.Validation).Order());
    }

    [Fact]
    public void The_split_repeats_with_the_seed_and_changes_with_another()
    {
        var data = Labelled([.. Enumerable.Range(0, 200).Select(i => i % 3)], 3);

        var a = ValidationSplit.Stratified(data, 0.2, seed: 1);

        Assert.Equal(a.Validation, ValidationSplit.Stratified(data, 0.2, seed: 1).Validation);
        Assert.NotEqual(a.Validation, ValidationSplit.Stratified(data, 0.2, seed: 2).Validation);
    }

    [Fact]
    public void Multi_label_documents_are_stratified_by_their_rarest_class()
    {
        // Class 1 is rare and always appears with the common class 0.
        var sets = Enumerable.Range(0, 100).Select(i => (IReadOnlyList<int>)(i < 20 ? [0, 1] : [0])).ToArray();
        var data = ClassificationDataset.MultiLabelled(new InMemoryTokenDocuments([.. sets.Select(_ => new[] { 5 })]), sets, ["common", "rare"]);

        var split = ValidationSplit.Stratified(data, 0.1, seed: 4);

        Assert.Equal(2, split.Validation.Count(i => i < 20));
        Assert.Equal(8, split.Validation.Count(i => i >= 20));
    }
}
