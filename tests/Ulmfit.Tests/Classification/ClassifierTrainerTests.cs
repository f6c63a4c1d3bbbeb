using TorchSharp;
using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Engine;
using Ulmfit.Tests.Training;
using Ulmfit.Training;
using static TorchSharp.torch;
using static Ulmfit.Tests.Classification.TinyClassifiers;

namespace Ulmfit.Tests.Classification;

[Collection(TorchRandomCollection.Name)]
public sealed class ClassifierTrainerTests : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), $"ulmfit-classifier-{Guid.NewGuid():N}");

    // Tiny models are bound by per-operator overhead: one thread is fastest (and is not slowed by a busy machine).
    public ClassifierTrainerTests() => TorchRuntime.Initialise(1);

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    static readonly ClassificationDataset Train = BandTask(240, seed: 1);
    static readonly ClassificationDataset Valid = BandTask(60, seed: 2);
    static readonly ClassificationDataset Small = BandTask(48, seed: 7); // for the mechanics, where learning does not matter

    static TextClassifier NewClassifier(long seed = 3, bool multiLabel = false)
    {
        torch.manual_seed(seed);
        return new TextClassifier(Config(bptt: 16, maxLength: 16, multiLabel: multiLabel, classes: ["class0", "class1", "class2"]));
    }

    /// <summary>From scratch nothing is pretrained to protect, so learning tests give every group the same rate
    /// (with the paper's 2.6 the embedding would learn 45 times slower than the head).</summary>
    static ClassifierTrainerOptions Options(IReadOnlyList<UnfreezingStage> stages, double groupFactor = 1) => new()
    {
        Stages = stages,
        GroupLearningRateFactor = groupFactor,
        Batching = new ClassifierBatchingOptions { BatchSize = 16 },
        Seed = 11,
    };

    static Dictionary<string, Tensor> Snapshot(TextClassifier classifier) =>
        classifier.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone().DetachFromDisposeScope());

    [Fact]
    public async Task A_tiny_classifier_learns_a_separable_task_and_ends_with_its_best_epoch()
    {
        using var classifier = NewClassifier();

        var result = await new ClassifierTrainer(classifier, Train, Valid, Options(UnfreezingStage.AllAtOnce(6, 1e-2))).TrainAsync();

        Assert.Equal(6, result.Epochs.Count);
        Assert.NotNull(result.BestEpoch);
        Assert.True(result.Validation!.Accuracy > 0.8, $"validation accuracy {result.Validation.Accuracy:P1}");
        // The restored best weights measure exactly what the best epoch measured.
        Assert.Equal(result.Epochs[result.BestEpoch!.Value].ValidAccuracy, result.Validation.Accuracy);
        Assert.Equal(result.Epochs.Max(e => e.ValidAccuracy), result.BestMetric);
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss);
        Assert.Equal(240, result.TrainingDocuments);
        Assert.True(result.DocumentsPerSecond > 0);
    }

    [Fact]
    public async Task A_tiny_qrnn_classifier_learns_the_separable_task_too()
    {
        torch.manual_seed(3);
        var config = Config(bptt: 16, maxLength: 16, classes: ["class0", "class1", "class2"]);
        using var classifier = new TextClassifier(config with { Encoder = config.Encoder with { Architecture = Ulmfit.Modeling.EncoderArchitecture.Qrnn } });

        var result = await new ClassifierTrainer(classifier, Train, Valid, Options(UnfreezingStage.AllAtOnce(6, 1e-2))).TrainAsync();

        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss);
        Assert.True(result.Validation!.Accuracy > 0.8, $"validation accuracy {result.Validation.Accuracy:P1}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task A_stage_trains_exactly_its_last_layer_groups_and_leaves_the_others_bit_identical(int trainable)
    {
        using var classifier = NewClassifier();
        var before = Snapshot(classifier);
        var stage = new UnfreezingStage(trainable == 5 ? null : trainable, 1, 1e-2);

        await new ClassifierTrainer(classifier, Small, null, Options([stage], groupFactor: 2.6) with { ValidFraction = 0 }).TrainAsync();

        // Group of each parameter by its state-dict name: embedding 0, encoder.rnns.l l + 1, head 4.
        static int GroupOf(string name) => name.StartsWith("encoder.embedding.", StringComparison.Ordinal) ? 0
            : name.StartsWith("encoder.rnns.", StringComparison.Ordinal) ? 1 + (name["encoder.rnns.".Length] - '0')
            : name.StartsWith("head.", StringComparison.Ordinal) ? 4 : throw new InvalidOperationException(name);
        foreach (var (name, parameter) in classifier.named_parameters())
        {
            bool shouldTrain = GroupOf(name) >= 5 - trainable;
            bool changed = !before[name].allclose(parameter, rtol: 0, atol: 0);
            Assert.True(shouldTrain == changed, $"{name}: {(changed ? "changed" : "unchanged")} with {trainable} trainable groups");
        }
        Assert.All(classifier.parameters(), p => Assert.True(p.requires_grad)); // handed back unfrozen
        foreach (var t in before.Values) t.Dispose();
    }

    [Fact]
    public async Task The_fastai_recipe_unfreezes_one_more_group_per_stage_then_all()
    {
        using var classifier = NewClassifier();
        var seen = new Dictionary<int, bool[]>();
        var progress = new InlineProgress<ClassifierProgress>(p =>
            seen.TryAdd(p.Stage, [.. classifier.LayerGroups.Select(g => g.Parameters.All(x => x.requires_grad))]));

        var result = await new ClassifierTrainer(classifier, Small, null, Options(UnfreezingStage.FastaiRecipe, groupFactor: 2.6)
            with { ValidFraction = 0 }).TrainAsync(progress);

        Assert.Equal([false, false, false, false, true], seen[0]);
        Assert.Equal([false, false, false, true, true], seen[1]);
        Assert.Equal([false, false, true, true, true], seen[2]);
        Assert.Equal([true, true, true, true, true], seen[3]);
        Assert.Equal([1, 2, 3, 5], result.Stages.Select(s => s.TrainableGroups));
        Assert.Null(result.BestEpoch); // no validation data: no selection
        Assert.Equal([2e-2, 1e-2, 5e-3, 1e-3], result.Stages.Select(s => s.LearningRate));
        Assert.Equal(5, result.Epochs.Count);
    }

    [Fact]
    public async Task A_stage_at_a_wrecking_rate_is_reported_once_as_divergence_and_a_healthy_run_never()
    {
        // The tiny classifier learns the band task at 1e-2, then a second stage at 30 wrecks it: Adam's first steps at
        // that rate throw the weights far off, and the smoothed loss climbs well above the best of the first stage.
        using var classifier = NewClassifier();
        var reports = new List<ClassifierProgress>();
        var options = Options([new UnfreezingStage(null, 6, 1e-2), new UnfreezingStage(null, 2, 30)]) with { ValidFraction = 0 };

        await new ClassifierTrainer(classifier, Train, null, options).TrainAsync(new InlineProgress<ClassifierProgress>(reports.Add));

        var report = Assert.Single(reports, r => r.Divergence is not null);
        var warning = report.Divergence!;
        Assert.Equal(1, report.Stage);
        Assert.Equal(report.Step, warning.Step);
        Assert.True(warning.Loss >= warning.BestLoss + DivergenceWatch.ForClassifier(3, false).Rise, $"{warning.BestLoss} -> {warning.Loss}");
        Assert.True(warning.BestStep <= reports.First(r => r.Stage == 1).Step, $"best step {warning.BestStep}");
        Assert.Contains("lower learning rate", warning.Message);

        using var healthy = NewClassifier();
        var healthyReports = new List<ClassifierProgress>();
        await new ClassifierTrainer(healthy, Train, null, Options(UnfreezingStage.AllAtOnce(6, 1e-2)) with { ValidFraction = 0 })
            .TrainAsync(new InlineProgress<ClassifierProgress>(healthyReports.Add));
        Assert.All(healthyReports, r => Assert.Null(r.Divergence));
    }

    [Theory]
    [InlineData(StageSchedule.OneCycle, 25.0)]
    [InlineData(StageSchedule.SlantedTriangular, 32.0)]
    public async Task Every_stage_starts_its_schedule_afresh_at_its_own_peak_rate(StageSchedule schedule, double startDivisor)
    {
        using var classifier = NewClassifier();
        var reports = new List<ClassifierProgress>();
        var options = Options([new UnfreezingStage(1, 1, 2e-2), new UnfreezingStage(null, 2, 1e-3)]) with { Schedule = schedule, ValidFraction = 0 };

        await new ClassifierTrainer(classifier, Small, null, options).TrainAsync(new InlineProgress<ClassifierProgress>(reports.Add));

        var firstOfStage = reports.GroupBy(r => r.Stage).Select(g => g.First()).ToArray();
        Assert.Equal(2e-2 / startDivisor, firstOfStage[0].LearningRate, 1e-12);
        Assert.Equal(1e-3 / startDivisor, firstOfStage[1].LearningRate, 1e-12);
        Assert.Equal(2e-2, reports.Where(r => r.Stage == 0).Max(r => r.LearningRate), 1e-3);
        Assert.Equal(reports.Count, reports[^1].TotalSteps);
        Assert.Equal(Enumerable.Range(1, reports.Count).Select(i => (long)i), reports.Select(r => r.Step));
    }

    [Fact]
    public async Task Early_stopping_ends_the_run_patience_epochs_after_the_best_and_the_best_checkpoint_is_what_remains()
    {
        using var classifier = NewClassifier();
        string checkpoint = Path.Combine(_folder, "best.bin");
        // A rate far too small to move the weights: the accuracy cannot keep improving for 30 epochs.
        var options = Options(UnfreezingStage.AllAtOnce(30, 1e-30)) with { EarlyStoppingPatience = 1, BestCheckpointPath = checkpoint };

        var result = await new ClassifierTrainer(classifier, Small, Valid, options).TrainAsync();

        Assert.True(result.StoppedEarly);
        Assert.Equal(result.BestEpoch + 2, result.Epochs.Count);
        Assert.True(File.Exists(checkpoint));
        using var fromFile = NewClassifier(seed: 99);
        fromFile.load(checkpoint);
        foreach (var (name, value) in classifier.state_dict())
            Assert.True(value.allclose(fromFile.state_dict()[name], rtol: 0, atol: 0), name);
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public async Task Without_validation_data_a_stratified_tenth_is_held_out()
    {
        using var classifier = NewClassifier();

        var result = await new ClassifierTrainer(classifier, Small, null, Options(UnfreezingStage.AllAtOnce(1, 1e-2))).TrainAsync();

        Assert.Equal(6, result.ValidationDocuments); // 16 per class, 1.6 rounds to 2
        Assert.Equal(42, result.TrainingDocuments);
        Assert.NotNull(result.Epochs[0].ValidAccuracy);
    }

    [Fact]
    public async Task A_multi_label_classifier_learns_label_sets_and_tunes_a_threshold_per_class()
    {
        static ClassificationDataset Sets(int count, ulong seed)
        {
            var bands = BandTask(count, seed);
            // Every third document also carries the next band's words, and so both classes.
            var random = new Xoshiro256StarStar(seed + 100);
            var documents = new int[count][];
            var labels = new IReadOnlyList<int>[count];
            for (int i = 0; i < count; i++)
            {
                int c = bands.Label(i), extra = (c + 1) % 3;
                var ids = new int[bands.Documents.Length(i)];
                bands.Documents.CopyTo(i, ids);
                bool both = i % 3 == 0;
                documents[i] = both ? [.. ids, .. Enumerable.Range(0, 4).Select(_ => 2 + 10 * extra + random.NextInt(10))] : ids;
                labels[i] = both ? [c, extra] : [c];
            }
            return ClassificationDataset.MultiLabelled(new InMemoryTokenDocuments(documents), labels, bands.Classes);
        }
        using var classifier = NewClassifier(multiLabel: true);

        var result = await new ClassifierTrainer(classifier, Sets(240, 5), Sets(60, 6), Options(UnfreezingStage.AllAtOnce(6, 1e-2))).TrainAsync();

        Assert.Equal(ClassifierMetric.MicroF1, result.Metric);
        Assert.True(result.Validation!.MultiLabel!.MicroF1 > 0.8, $"micro-F1 {result.Validation.MultiLabel.MicroF1:F3}");
        Assert.Equal(3, result.Thresholds!.Length);
        Assert.NotEqual(Enumerable.Repeat(0.5f, 3), result.Thresholds);
        Assert.Equal(result.Thresholds, classifier.DecisionThresholds);
    }

    [Fact]
    public async Task Cancelling_stops_the_run_with_an_operation_cancelled_exception()
    {
        using var classifier = NewClassifier();
        using var cancel = new CancellationTokenSource();
        var progress = new InlineProgress<ClassifierProgress>(p => { if (p.Step == 2) cancel.Cancel(); });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new ClassifierTrainer(classifier, Small, Valid, Options(UnfreezingStage.AllAtOnce(3, 1e-2))).TrainAsync(progress, cancel.Token));
    }

    [Fact]
    public void Options_that_cannot_work_are_refused_up_front()
    {
        using var classifier = NewClassifier();

        Assert.Throws<ArgumentException>(() => new ClassifierTrainer(classifier, Train, Valid, Options([new UnfreezingStage(6, 1, 1e-2)])));
        Assert.Throws<ArgumentException>(() => new ClassifierTrainer(classifier, Train, Valid, Options([new UnfreezingStage(null, 0, 1e-2)])));
        Assert.Throws<ArgumentException>(() => new ClassifierTrainer(classifier, Train, Valid,
            Options(UnfreezingStage.FastaiRecipe) with { Batching = new ClassifierBatchingOptions { BatchSize = 1 } }));
        var otherClasses = ClassificationDataset.SingleLabel(Train.Documents, Enumerable.Repeat(0, Train.Count).ToArray(), ["x", "y", "z"]);
        Assert.Throws<ArgumentException>(() => new ClassifierTrainer(classifier, otherClasses, null));
    }
}
