using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Pipeline;

namespace Ulmfit.Tests.Pipeline;

public class UnfreezingModeTests
{
    static readonly ClassificationDataset Two = ClassificationDataset.SingleLabel(
        new InMemoryTokenDocuments([[5, 6, 7], [8, 9]]), [0, 1], ["a", "b"]);

    static IReadOnlyList<UnfreezingStage> Stages(UnfreezingMode mode, bool pretrained = true) =>
        ClassifierPipeline.TrainerOptions(new FitOptions { Train = "t.csv", OutputDirectory = "o", Epochs = 2, LearningRate = 2e-2, Unfreezing = mode },
            pretrained, Two).Stages;

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
    public void From_scratch_everything_trains_whatever_the_mode()
    {
        var only = Assert.Single(Stages(UnfreezingMode.LastLayer, pretrained: false));
        Assert.Null(only.TrainableGroups);
        Assert.Equal(2, only.Epochs);
    }
}
