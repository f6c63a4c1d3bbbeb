using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Engine;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Classification;

public class ClassifierLossTests
{
    public ClassifierLossTests() => TorchRuntime.Initialise(2);

    static readonly ClassificationDataset TwoDocuments = ClassificationDataset.SingleLabel(new InMemoryTokenDocuments([[5], [6]]), [0, 2], ["a", "b", "c"]);
    static readonly float[][] Logits = [[2, 0, -1], [0.5f, 1, 0]];

    /// <summary>−log softmax(row)[c], computed in doubles.</summary>
    static double NegLogP(float[] row, int c) => Math.Log(row.Sum(v => Math.Exp(v))) - row[c];

    static double Compute(ClassifierLoss loss, ClassificationDataset data, float[][] logits)
    {
        using var scope = NewDisposeScope();
        var t = tensor(logits.SelectMany(r => r).ToArray(), [logits.Length, logits[0].Length]);
        return loss.Compute(t, data, [0, 1]).item<float>();
    }

    [Fact]
    public void Plain_loss_is_the_mean_cross_entropy()
    {
        using var loss = new ClassifierLoss(multiLabel: false, classCount: 3);

        double expected = (NegLogP(Logits[0], 0) + NegLogP(Logits[1], 2)) / 2;
        Assert.Equal(expected, Compute(loss, TwoDocuments, Logits), 5);
    }

    [Fact]
    public void Class_weights_give_a_weighted_mean_of_the_documents_losses()
    {
        using var loss = new ClassifierLoss(multiLabel: false, classCount: 3, classWeights: [1, 1, 3]);

        double expected = (1 * NegLogP(Logits[0], 0) + 3 * NegLogP(Logits[1], 2)) / 4;
        Assert.Equal(expected, Compute(loss, TwoDocuments, Logits), 5);
    }

    [Fact]
    public void Label_smoothing_mixes_in_the_mean_loss_over_all_classes()
    {
        using var loss = new ClassifierLoss(multiLabel: false, classCount: 3, labelSmoothing: 0.1);

        double Row(float[] r, int c) => 0.9 * NegLogP(r, c) + 0.1 * Enumerable.Range(0, 3).Average(k => NegLogP(r, k));
        Assert.Equal((Row(Logits[0], 0) + Row(Logits[1], 2)) / 2, Compute(loss, TwoDocuments, Logits), 5);
    }

    [Fact]
    public void Multi_label_loss_is_binary_cross_entropy_per_class_with_smoothed_targets()
    {
        var data = ClassificationDataset.MultiLabelled(new InMemoryTokenDocuments([[5], [6]]), [[0, 2], []], ["a", "b", "c"]);
        using var loss = new ClassifierLoss(multiLabel: true, classCount: 3, labelSmoothing: 0.2);

        static double Bce(double x, double t) => -(t * Math.Log(1 / (1 + Math.Exp(-x))) + (1 - t) * Math.Log(1 - 1 / (1 + Math.Exp(-x))));
        double[][] targets = [[0.9, 0.1, 0.9], [0.1, 0.1, 0.1]];
        double expected = Enumerable.Range(0, 2).Sum(i => Enumerable.Range(0, 3).Sum(c => Bce(Logits[i][c], targets[i][c]))) / 6;
        Assert.Equal(expected, Compute(loss, data, Logits), 5);
    }

    [Fact]
    public void Balanced_weights_are_inverse_to_class_frequency_averaging_one()
    {
        var weights = ClassifierTrainerOptions.BalancedClassWeights([10, 30, 0, 60]);

        Assert.Equal([100.0 / 30, 100.0 / 90, 0, 100.0 / 180], weights);
    }
}
