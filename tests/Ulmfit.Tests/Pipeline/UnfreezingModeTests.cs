using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Pipeline;

namespace Ulmfit.Tests.Pipeline;

public class UnfreezingModeTests
{
    static readonly ClassificationDataset Two = ClassificationDataset.SingleLabel(
        new InMemoryTokenDocuments([[5, 6, 7], [8, 9]]), [0, 1], ["a", "b"]);

    static readonly DataProfile TwoDocuments = new(2, 2, 1, 3, HasValidationFile: false);

    static ClassifierTrainerOptions Trainer(FitOptions options, bool pretrained, ClassificationDataset training) =>
        ClassifierPipeline.TrainerOptions(options, FitRecipe.Choose(TwoDocuments with { LabelledDocuments = training.Count }, options), pretrained, training);

    static IReadOnlyList<UnfreezingStage> Stages(UnfreezingMode mode, bool pretrained = true)
    {
        var options = new FitOptions { Train = "t.csv", OutputDirectory = "o", Epochs = 2, LearningRate = 2e-2, Unfreezing = mode };
        if (!pretrained) options = options with { LanguageModel = null, BackwardLanguageModel = null };
        return Trainer(options, pretrained, Two).Stages;
    }

    [Fact]
    public void Gradual_unfreezing_releases_one_more_group_per_epoch_then_all()
    {
        var stages = Stages(UnfreezingMode.Gradual);
        Assert.Equal(new int?[] { 1, 2, 3, null }, stages.Select(s => s.TrainableGroups));
        Assert.Equal(5, stages.Sum(s => s.Epochs));
    }

    [Fact]
    public void The_ablations_train_as_many_epochs_all_groups_or_the_head_only()
    {
        var all = Assert.Single(Stages(UnfreezingMode.All));
        Assert.Null(all.TrainableGroups);
        Assert.Equal(5, all.Epochs);
        var last = Assert.Single(Stages(UnfreezingMode.LastLayer));
        Assert.Equal(1, last.TrainableGroups);
        Assert.Equal(5, last.Epochs);
    }

    [Fact]
    public void The_last_gradual_stage_runs_at_a_quarter_of_the_rate_on_small_and_large_sets_unless_given()
    {
        Assert.Equal(new[] { 2e-2, 1e-2, 5e-3, 5e-3 }, Stages(UnfreezingMode.Gradual).Select(s => s.LearningRate), new RateComparer());

        int n = 22_500;                                                  // all of IMDb's labelled training reviews
        var large = ClassificationDataset.SingleLabel(new InMemoryTokenDocuments([.. Enumerable.Range(0, n).Select(i => new[] { 5 + i % 3 })]),
            [.. Enumerable.Range(0, n).Select(i => i % 2)], ["a", "b"]);
        var options = new FitOptions { Train = "t.csv", OutputDirectory = "o", Epochs = 2, LearningRate = 2e-2 };
        Assert.Equal(new[] { 2e-2, 1e-2, 5e-3, 5e-3 }, Trainer(options, true, large).Stages.Select(s => s.LearningRate), new RateComparer());

        var given = Trainer(options with { FinalLearningRate = 2e-3 }, true, Two).Stages;
        Assert.Equal(new[] { 2e-2, 1e-2, 5e-3, 2e-3 }, given.Select(s => s.LearningRate), new RateComparer());
        Assert.Equal(2, given[^1].Epochs);
    }

    [Fact]
    public void A_final_rate_is_refused_outside_gradual_unfreezing_and_must_be_positive()
    {
        string train = Path.GetTempFileName();   // Validate checks that the inputs exist before the rates
        try
        {
            var all = new FitOptions { Train = train, OutputDirectory = "o", LanguageModel = null, BackwardLanguageModel = null,
                Unfreezing = UnfreezingMode.All, FinalLearningRate = 1e-3 };
            Assert.Contains("gradual unfreezing only", Assert.Throws<ArgumentException>(() => all.Validate()).Message);
            var zero = all with { Unfreezing = UnfreezingMode.Gradual, FinalLearningRate = 0 };
            Assert.Contains("must be positive", Assert.Throws<ArgumentException>(() => zero.Validate()).Message);
            (zero with { FinalLearningRate = 5e-3 }).Validate();
        }
        finally
        {
            File.Delete(train);
        }
    }

    sealed class RateComparer : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= 1e-12;
        public int GetHashCode(double value) => 0;
    }

    [Fact]
    public void From_scratch_everything_trains_whatever_the_mode()
    {
        var only = Assert.Single(Stages(UnfreezingMode.LastLayer, pretrained: false));
        Assert.Null(only.TrainableGroups);
        Assert.Equal(2, only.Epochs);
    }
}
