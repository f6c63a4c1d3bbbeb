using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Pipeline;

namespace Ulmfit.Tests.Pipeline;

public class PseudoLabelsTests
{
    static readonly string[] Classes = ["neg", "pos"];

    static ClassificationPrediction Predicted(float pos) =>
        pos >= 0.5f ? new("pos", 1, ["pos"], [1 - pos, pos]) : new("neg", 0, ["neg"], [1 - pos, pos]);

    [Fact]
    public void The_most_confident_predictions_are_taken_the_same_number_per_class_in_candidate_order()
    {
        var candidates = Enumerable.Range(0, 6).Select(i => TextDocument.FromText($"review {i}")).ToList();
        // five reviews called positive, one negative: balance limits both classes to the negative's one
        float[] pos = [0.9f, 0.6f, 0.2f, 0.99f, 0.7f, 0.8f];

        var picked = PseudoLabels.Pick(candidates, [.. pos.Select(Predicted)], Classes, perClass: 3);

        Assert.Equal(["review 2", "review 3"], picked.Select(d => d.Fields[0]));
        Assert.Equal(["neg", "pos"], picked.Select(d => d.Label));
    }

    [Fact]
    public void Per_class_caps_the_count_and_one_predicted_class_gives_nothing()
    {
        var candidates = Enumerable.Range(0, 6).Select(i => TextDocument.FromText($"r{i}")).ToList();
        float[] pos = [0.1f, 0.9f, 0.3f, 0.95f, 0.05f, 0.6f];

        var picked = PseudoLabels.Pick(candidates, [.. pos.Select(Predicted)], Classes, perClass: 2);
        Assert.Equal(["r0", "r1", "r3", "r4"], picked.Select(d => d.Fields[0]));

        Assert.Empty(PseudoLabels.Pick(candidates, [.. pos.Select(_ => Predicted(0.9f))], Classes, perClass: 2));
    }
}
