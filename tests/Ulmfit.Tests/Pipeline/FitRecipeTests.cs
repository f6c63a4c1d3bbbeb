using Ulmfit.Pipeline;

namespace Ulmfit.Tests.Pipeline;

// Pins what the recipe chooses for given data sizes (the rules and their measurements: FitRecipe's constants).
public class FitRecipeTests
{
    // A pretrained forward LM (the recipe only reads whether there is one).
    static readonly FitOptions Defaults = new() { Train = "t.csv", OutputDirectory = "o", LanguageModel = "lm", BackwardLanguageModel = null };

    static FitRecipe For(int labelled, FitOptions? given = null, bool validationFile = false) =>
        FitRecipe.Choose(new DataProfile(labelled, 2, labelled / 2, 200, validationFile), given ?? Defaults);

    [Theory]
    [InlineData(50, 8, 22)]      // 7 steps an epoch: 22 epochs reach 150 steps
    [InlineData(100, 16, 22)]    // 7 steps an epoch
    [InlineData(300, 32, 15)]    // 10 steps an epoch
    [InlineData(1_000, 64, 10)]  // 16 steps an epoch: fastai's 10 epochs are 160 steps already
    public void Low_shot_data_trains_every_group_on_all_labels_for_at_least_the_minimum_steps(int labelled, int batch, int epochs)
    {
        var recipe = For(labelled);

        Assert.Equal(batch, recipe.BatchSize);
        Assert.Equal(UnfreezingMode.All, recipe.Unfreezing);
        Assert.Equal(0, recipe.ValidFraction);
        Assert.Equal(epochs, recipe.FinalStageEpochs + 3);
        Assert.True(recipe.PlannedSteps >= FitRecipe.MinimumSteps);
        Assert.Contains("fixed schedule", recipe.Selection);
    }

    [Theory]
    [InlineData(5_452)]    // TREC-6
    [InlineData(22_500)]   // IMDb
    public void Full_data_sets_keep_the_papers_recipe(int labelled)
    {
        var recipe = For(labelled);

        Assert.Equal(64, recipe.BatchSize);
        Assert.Equal(UnfreezingMode.Gradual, recipe.Unfreezing);
        Assert.Equal(0.1, recipe.ValidFraction);
        Assert.Equal(FitOptions.DefaultTotalEpochs, recipe.FinalStageEpochs + 3);
        Assert.Equal(FitOptions.DefaultLanguageModelEpochs, recipe.LanguageModelEpochs);
        Assert.Contains("best epoch", recipe.Selection);
    }

    [Fact]
    public void The_thresholds_fall_where_the_constants_say()
    {
        Assert.Equal(0, For(FitRecipe.FixedScheduleBelow - 1).ValidFraction);
        Assert.Equal(0.1, For(FitRecipe.FixedScheduleBelow).ValidFraction);
        Assert.Equal(UnfreezingMode.All, For(FitRecipe.UnfreezeAllBelow - 1).Unfreezing);
        Assert.Equal(UnfreezingMode.Gradual, For(FitRecipe.UnfreezeAllBelow).Unfreezing);
        Assert.Equal(FitRecipe.MaximumEpochs, For(2).FinalStageEpochs + 3);
    }

    [Fact]
    public void What_the_caller_sets_is_kept_and_said()
    {
        var given = Defaults with { BatchSize = 24, Epochs = 4, ValidFraction = 0.2, Unfreezing = UnfreezingMode.LastLayer, LanguageModelEpochs = 0 };

        var recipe = For(100, given);

        Assert.Equal((24, UnfreezingMode.LastLayer, 4, 0.2, 0), (recipe.BatchSize, recipe.Unfreezing, recipe.FinalStageEpochs, recipe.ValidFraction, recipe.LanguageModelEpochs));
        Assert.Equal(4, recipe.Reasons.Count(r => r.Contains("set by the caller")));
    }

    [Fact]
    public void A_final_rate_asks_for_gradual_unfreezing_and_a_validation_file_selects_the_epoch()
    {
        Assert.Equal(UnfreezingMode.Gradual, For(100, Defaults with { FinalLearningRate = 1e-3 }).Unfreezing);

        var withFile = For(100, validationFile: true);
        Assert.Equal(0, withFile.ValidFraction);
        Assert.Contains("validation file", withFile.Selection);
    }

    [Fact]
    public void From_scratch_the_epochs_given_are_every_epoch()
    {
        var recipe = For(5_000, Defaults with { LanguageModel = null, Epochs = 5 });

        Assert.Equal(5, recipe.FinalStageEpochs + 3);
        Assert.Contains("from scratch", string.Join(" ", recipe.Reasons));
        Assert.Contains("5 classifier epochs (set by the caller)", recipe.Reasons);
    }

    [Fact]
    public void The_summary_line_names_the_data_and_every_choice()
    {
        string line = For(100).Describe();

        Assert.Contains("100 labelled documents, 2 classes", line);
        Assert.Contains("median 200 words", line);
        Assert.Contains("batch size 16", line);
        Assert.Contains("unfreezing all", line);
        Assert.Contains("22 classifier epochs", line);
    }
}
