using Ulmfit.Classification;

namespace Ulmfit.Tests.Classification;

public class ClassificationMetricsTests
{
    const double Exact = 1e-12;

    // Ten documents over four classes; class d never occurs. Worked by hand:
    //   confusion (rows true, columns predicted): a [2 2 0 0], b [0 1 1 0], c [1 0 3 0], d [0 0 0 0]
    //   a: P 2/3, R 2/4, F1 4/7;  b: P 1/3, R 1/2, F1 2/5;  c: P 3/4, R 3/4, F1 3/4;  d: all 0, support 0
    static readonly string[] Classes = ["a", "b", "c", "d"];
    static readonly int[] Actual = [0, 0, 0, 1, 1, 2, 2, 2, 2, 0];
    static readonly int[] Predicted = [0, 1, 1, 1, 2, 2, 2, 0, 2, 0];

    [Fact]
    public void Accuracy_error_rate_and_confusion_matrix_match_the_hand_count()
    {
        var m = ClassificationMetrics.Compute(Actual, Predicted, Classes);

        Assert.Equal(10, m.Count);
        Assert.Equal(6, m.Correct);
        Assert.Equal(0.6, m.Accuracy, Exact);
        Assert.Equal(0.4, m.ErrorRate, Exact);
        Assert.Equal([[2, 2, 0, 0], [0, 1, 1, 0], [1, 0, 3, 0], [0, 0, 0, 0]], m.ConfusionMatrix);
    }

    [Fact]
    public void Per_class_precision_recall_f1_and_support_match_the_hand_count()
    {
        var m = ClassificationMetrics.Compute(Actual, Predicted, Classes);

        Assert.Equal(new ClassMetrics("a", 2.0 / 3, 0.5, 4.0 / 7, 4), m.PerClass[0], MetricsComparer.Instance);
        Assert.Equal(new ClassMetrics("b", 1.0 / 3, 0.5, 0.4, 2), m.PerClass[1], MetricsComparer.Instance);
        Assert.Equal(new ClassMetrics("c", 0.75, 0.75, 0.75, 4), m.PerClass[2], MetricsComparer.Instance);
        Assert.Equal(new ClassMetrics("d", 0, 0, 0, 0), m.PerClass[3], MetricsComparer.Instance);
    }

    [Fact]
    public void Macro_averages_skip_a_class_that_is_neither_true_nor_predicted()
    {
        var m = ClassificationMetrics.Compute(Actual, Predicted, Classes);

        Assert.Equal((4.0 / 7 + 0.4 + 0.75) / 3, m.MacroF1, Exact); // 241/420, not divided by 4
        Assert.Equal(7.0 / 12, m.MacroPrecision, Exact);
        Assert.Equal(7.0 / 12, m.MacroRecall, Exact);
    }

    [Fact]
    public void A_class_predicted_but_never_true_counts_in_the_macro_average_with_f1_zero()
    {
        var m = ClassificationMetrics.Compute([0, 0, 1, 1], [0, 2, 1, 1], ["a", "b", "c"]);

        // a: P 1, R 1/2, F1 2/3; b: F1 1; c: P 0 (one wrong prediction), support 0, F1 0.
        Assert.Equal((2.0 / 3 + 1 + 0) / 3, m.MacroF1, Exact);
        Assert.Equal(0, m.PerClass[2].Support);
    }

    [Fact]
    public void Out_of_range_classes_and_mismatched_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([0, 1], [0], Classes));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([0, 4], [0, 0], Classes));
    }

    // Four documents, classes x y z. Truth {x,y} {y} {} {x,z}; predicted {x} {y,z} {z} {x,z}.
    //   x: TP 2 of 2 predicted, 2 true → F1 1;  y: TP 1 of 1, 2 true → F1 2/3;  z: TP 1 of 3, 1 true → F1 1/2
    //   micro: TP 4, predicted 6, true 5 → P 2/3, R 4/5, F1 8/11;  exact matches 1 of 4;  wrong decisions 3 of 12
    [Fact]
    public void Multi_label_micro_and_macro_f1_match_the_hand_count()
    {
        int[][] actual = [[0, 1], [1], [], [0, 2]];
        int[][] predicted = [[0], [1, 2], [2], [2, 0]];

        var m = MultiLabelMetrics.Compute(actual, predicted, ["x", "y", "z"]);

        Assert.Equal(2.0 / 3, m.MicroPrecision, Exact);
        Assert.Equal(0.8, m.MicroRecall, Exact);
        Assert.Equal(8.0 / 11, m.MicroF1, Exact);
        Assert.Equal((1 + 2.0 / 3 + 0.5) / 3, m.MacroF1, Exact);
        Assert.Equal(0.25, m.SubsetAccuracy, Exact);
        Assert.Equal(0.25, m.HammingLoss, Exact);
        Assert.Equal(new ClassMetrics("z", 1.0 / 3, 1, 0.5, 1), m.PerClass[2], MetricsComparer.Instance);
    }

    [Fact]
    public void Thresholds_maximise_each_class_f1_with_midpoints_and_fewest_predictions_on_ties()
    {
        // Class 0: predicting the top 4 gives F1 6/7, the best cut; threshold halfway between 0.6 and 0.3.
        // Class 1: no true document → the default 0.5.
        // Class 2: the top 1 and the top 4 both give F1 2/3 (0.5 is tied three ways); the smaller cut wins.
        float[][] p =
        [
            [0.9f, 0.1f, 0.5f], [0.8f, 0.2f, 0.5f], [0.7f, 0.3f, 0.5f],
            [0.6f, 0.4f, 0.2f], [0.3f, 0.6f, 0.2f], [0.1f, 0.9f, 0.9f],
        ];
        int[][] truth = [[0, 2], [], [0], [0], [], [2]];

        var thresholds = MultiLabelThresholds.Tune(p, truth, classCount: 3);

        Assert.Equal(0.45f, thresholds[0], 1e-6f);
        Assert.Equal(MultiLabelThresholds.Default, thresholds[1]);
        Assert.Equal(0.7f, thresholds[2], 1e-6f);
        Assert.Equal([0], MultiLabelThresholds.Apply(p[3], thresholds));
        Assert.Equal([1], MultiLabelThresholds.Apply(p[4], thresholds));
        Assert.Equal([1, 2], MultiLabelThresholds.Apply(p[5], thresholds));
    }

    [Fact]
    public void Thresholds_separate_neighbouring_float_values_exactly()
    {
        float high = 0.5f, low = MathF.BitDecrement(0.5f);
        var thresholds = MultiLabelThresholds.Tune([[high], [low]], [[0], []], classCount: 1);

        Assert.Equal([0], MultiLabelThresholds.Apply([high], thresholds));
        Assert.Empty(MultiLabelThresholds.Apply([low], thresholds));
    }

    sealed class MetricsComparer : IEqualityComparer<ClassMetrics>
    {
        public static readonly MetricsComparer Instance = new();

        public bool Equals(ClassMetrics? x, ClassMetrics? y) => x is not null && y is not null && x.Class == y.Class
            && Math.Abs(x.Precision - y.Precision) < Exact && Math.Abs(x.Recall - y.Recall) < Exact
            && Math.Abs(x.F1 - y.F1) < Exact && x.Support == y.Support;

        public int GetHashCode(ClassMetrics obj) => obj.Class.GetHashCode();
    }
}
