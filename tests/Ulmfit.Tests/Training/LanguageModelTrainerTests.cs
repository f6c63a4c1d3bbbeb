using TorchSharp;
using Ulmfit.Data;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using Ulmfit.Training;

namespace Ulmfit.Tests.Training;

[Collection(TorchRandomCollection.Name)]
public sealed class LanguageModelTrainerTests : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), $"ulmfit-trainer-{Guid.NewGuid():N}");

    public LanguageModelTrainerTests() => TorchRuntime.Initialise(2);

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    static readonly InMemoryTokenDocuments Train = TinyCorpus.Counting(documents: 40, length: 25, seed: 1);
    static readonly InMemoryTokenDocuments Valid = TinyCorpus.Counting(documents: 8, length: 25, seed: 2);

    LanguageModelTrainerOptions Options(int epochs = 2, string? checkpoints = null) => new()
    {
        Epochs = epochs,
        Batching = new LanguageModelBatcherOptions { BatchSize = 4, Bptt = 10, Seed = 5 },
        Schedule = total => new OneCycleSchedule(total, 1e-2, Momentums: MomentumCycle.Text),
        CheckpointDirectory = checkpoints,
        TorchSeed = 17,
    };

    /// <summary>Runs <paramref name="run"/>, recording each step's loss; optionally cancels once a step is reached.</summary>
    static async Task<(List<LanguageModelProgress> Steps, LanguageModelTrainingResult? Result)> Record(
        Func<IProgress<LanguageModelProgress>, CancellationToken, Task<LanguageModelTrainingResult>> run, long cancelAtStep = -1)
    {
        var steps = new List<LanguageModelProgress>();
        using var cancel = new CancellationTokenSource();
        var progress = new InlineProgress<LanguageModelProgress>(p =>
        {
            steps.Add(p);
            if (p.Step == cancelAtStep) cancel.Cancel();
        });
        try { return (steps, await run(progress, cancel.Token)); }
        catch (OperationCanceledException) { return (steps, null); }
    }

    [Fact]
    public async Task A_run_interrupted_and_resumed_equals_an_uninterrupted_run()
    {
        using var reference = new TinyLstmLanguageModel(TinyCorpus.CountingVocab, dropout: 0.2);
        var (referenceSteps, referenceResult) = await Record((p, c) =>
            new LanguageModelTrainer(reference, Train, Valid, Options()).TrainAsync(p, c));

        // Interrupt in the middle of the first epoch, so recurrent state, data position and RNG all matter.
        string checkpoints = Path.Combine(_folder, "run");
        using (var interrupted = new TinyLstmLanguageModel(TinyCorpus.CountingVocab, dropout: 0.2))
        {
            var (firstSteps, firstResult) = await Record((p, c) =>
                new LanguageModelTrainer(interrupted, Train, Valid, Options(checkpoints: checkpoints)).TrainAsync(p, c), cancelAtStep: 7);
            Assert.Null(firstResult);
            Assert.Equal(7, firstSteps.Count);
        }
        Assert.True(LanguageModelTrainer.HasCheckpoint(checkpoints));

        // A brand-new model (other initial weights) picks the run up from the checkpoint.
        using var resumedModel = new TinyLstmLanguageModel(TinyCorpus.CountingVocab, dropout: 0.2, seed: 1234);
        var (resumedSteps, resumedResult) = await Record((p, c) =>
            new LanguageModelTrainer(resumedModel, Train, Valid, Options(checkpoints: checkpoints)).ResumeAsync(p, c));

        Assert.Equal(referenceSteps.Skip(7).Select(s => s.Step), resumedSteps.Select(s => s.Step));
        foreach (var (expected, actual) in referenceSteps.Skip(7).Zip(resumedSteps))
        {
            Assert.Equal(expected.Loss, actual.Loss, 1e-5);
            Assert.Equal(expected.LearningRate, actual.LearningRate, 1e-12);
        }
        Assert.NotNull(resumedResult);
        Assert.Equal(2, resumedResult!.Epochs.Count);
        foreach (var (expected, actual) in referenceResult!.Epochs.Zip(resumedResult.Epochs))
        {
            Assert.Equal(expected.Steps, actual.Steps);
            Assert.Equal(expected.TrainLoss, actual.TrainLoss, 1e-5);
            Assert.Equal(expected.Validation!.Loss, actual.Validation!.Loss, 1e-5);
            Assert.Equal(expected.Validation.Accuracy, actual.Validation.Accuracy, 1e-9);
        }
    }

    // The real AWD-LSTM (weight drop, embedding and hidden dropout, variable BPTT, AR/TAR) interrupted at several
    // points: early, mid-epoch, on the last step of an epoch and in the second epoch.
    [Theory]
    [InlineData(3)]
    [InlineData(11)]
    [InlineData(23)]
    [InlineData(0)]  // the first epoch's last step
    [InlineData(45)] // in the second epoch
    public async Task An_AWD_LSTM_run_interrupted_anywhere_and_resumed_equals_an_uninterrupted_run(long cancelAtStep)
    {
        static AwdLstmLanguageModel Model(long seed)
        {
            torch.manual_seed(seed);
            return new AwdLstmLanguageModel(new AwdLstmConfig(TinyCorpus.CountingVocab)
            { EmbeddingSize = 8, HiddenSize = 12, Layers = 2, Dropouts = AwdLstmDropouts.LanguageModel });
        }
        var options = Options(epochs: 3) with { Batching = new LanguageModelBatcherOptions { BatchSize = 4, Bptt = 8, Seed = 5 } };
        using var reference = Model(1);
        var (referenceSteps, referenceResult) = await Record((p, c) =>
            new LanguageModelTrainer(reference, Train, Valid, options).TrainAsync(p, c));
        if (cancelAtStep == 0) cancelAtStep = referenceResult!.Epochs[0].Steps;
        Assert.True(referenceSteps.Count > cancelAtStep + 2, $"the run has only {referenceSteps.Count} steps");

        string checkpoints = Path.Combine(_folder, $"awd-{cancelAtStep}");
        using (var interrupted = Model(1))
        {
            var (_, firstResult) = await Record((p, c) =>
                new LanguageModelTrainer(interrupted, Train, Valid, options with { CheckpointDirectory = checkpoints }).TrainAsync(p, c), cancelAtStep);
            Assert.Null(firstResult);
        }
        using var resumedModel = Model(99);
        var (resumedSteps, resumedResult) = await Record((p, c) =>
            new LanguageModelTrainer(resumedModel, Train, Valid, options with { CheckpointDirectory = checkpoints }).ResumeAsync(p, c));

        Assert.Equal(referenceSteps.Skip((int)cancelAtStep).Select(s => (s.Step, s.Loss)), resumedSteps.Select(s => (s.Step, s.Loss)));
        Assert.Equal(referenceResult!.Epochs.Select(e => e.Validation!.Loss), resumedResult!.Epochs.Select(e => e.Validation!.Loss));
    }

    [Fact]
    public async Task Dropout_makes_the_seed_matter_and_a_fixed_seed_makes_runs_repeat()
    {
        async Task<double[]> Losses(long torchSeed)
        {
            using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab, dropout: 0.2);
            var (steps, _) = await Record((p, c) =>
                new LanguageModelTrainer(model, Train, null, Options(epochs: 1) with { TorchSeed = torchSeed }).TrainAsync(p, c));
            return [.. steps.Select(s => s.Loss)];
        }
        double[] first = await Losses(3), again = await Losses(3), other = await Losses(4);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task Cancelling_stops_after_the_step_and_leaves_a_complete_checkpoint()
    {
        string checkpoints = Path.Combine(_folder, "cancel");
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        var (steps, result) = await Record((p, c) =>
            new LanguageModelTrainer(model, Train, Valid, Options(checkpoints: checkpoints)).TrainAsync(p, c), cancelAtStep: 3);

        Assert.Null(result);
        Assert.Equal(3, steps.Count);
        string latest = new CheckpointStore(checkpoints).FindLatest()!;
        Assert.Equal("step-000000000003", Path.GetFileName(latest));
        var manifest = CheckpointStore.ReadManifest(latest);
        Assert.Equal(3, manifest.Step);
        Assert.Equal(0, manifest.Batcher.Epoch);
        Assert.True(manifest.Batcher.Offset > 0);
        Assert.True(manifest.HasRecurrentState);
        Assert.Equal(["manifest.json", "model.bin", "optimizer.bin", "recurrent-state.bin", "torch-random.bin"],
            Directory.GetFiles(latest).Select(Path.GetFileName).Order());
        Assert.Empty(Directory.GetDirectories(checkpoints, ".incoming-*"));
    }

    [Fact]
    public async Task Timed_checkpoints_are_written_during_the_epoch_and_the_newest_are_kept()
    {
        string checkpoints = Path.Combine(_folder, "timed");
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        var options = Options(epochs: 1, checkpoints: checkpoints) with { CheckpointInterval = TimeSpan.FromTicks(1), CheckpointsToKeep = 3 };
        var result = await new LanguageModelTrainer(model, Train, null, options).TrainAsync();

        long total = result.Steps;
        Assert.Equal([$"step-{total - 2:D12}", $"step-{total - 1:D12}", $"step-{total:D12}"],
            Directory.GetDirectories(checkpoints).Select(Path.GetFileName).Order());
        var last = CheckpointStore.ReadManifest(new CheckpointStore(checkpoints).FindLatest()!);
        Assert.Equal(new BatcherPosition(1, 0, last.Batcher.RandomState), last.Batcher); // the epoch-end save replaced the timed one
        Assert.Single(last.EpochResults);
        Assert.Equal(Path.Combine(Path.GetFullPath(checkpoints), $"step-{total:D12}"), result.CheckpointDirectory);
    }

    [Fact]
    public async Task Starting_afresh_over_an_existing_run_is_refused()
    {
        string checkpoints = Path.Combine(_folder, "existing");
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        await new LanguageModelTrainer(model, Train, null, Options(epochs: 1, checkpoints: checkpoints)).TrainAsync();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new LanguageModelTrainer(model, Train, null, Options(epochs: 1, checkpoints: checkpoints)).TrainAsync());
        Assert.Contains("resume", error.Message);
    }

    [Fact]
    public async Task Resuming_with_other_batching_settings_is_refused()
    {
        string checkpoints = Path.Combine(_folder, "settings");
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        await Record((p, c) => new LanguageModelTrainer(model, Train, null, Options(checkpoints: checkpoints)).TrainAsync(p, c), cancelAtStep: 2);
        var changed = Options(checkpoints: checkpoints) with { Batching = new LanguageModelBatcherOptions { BatchSize = 8, Bptt = 10, Seed = 5 } };
        var error = await Assert.ThrowsAsync<InvalidInputException>(() =>
            new LanguageModelTrainer(model, Train, null, changed).ResumeAsync());
        Assert.Contains("batch size 4 (this run: 8)", error.Message);
    }

    [Fact]
    public async Task Resuming_a_finished_run_returns_its_results_without_training()
    {
        string checkpoints = Path.Combine(_folder, "finished");
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        var done = await new LanguageModelTrainer(model, Train, Valid, Options(epochs: 1, checkpoints: checkpoints)).TrainAsync();
        var (steps, again) = await Record((p, c) => new LanguageModelTrainer(model, Train, Valid, Options(epochs: 1, checkpoints: checkpoints)).ResumeAsync(p, c));
        Assert.Empty(steps);
        Assert.Equal(done.Steps, again!.Steps);
        Assert.Equal(done.Epochs.Single().Validation!.Loss, again.Epochs.Single().Validation!.Loss);
    }

    [Fact]
    public async Task A_run_at_an_absurd_rate_reports_its_divergence_once()
    {
        // A tiny LSTM learns at 1e-2 for 30 steps (smoothed loss 3.0 → 1.7), then Adam at 20 wrecks its weights: the loss
        // climbs past 4 at once and stays above 25 (it is robust enough to keep learning at 0.5).
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        var options = Options(epochs: 4) with { Schedule = total => new JumpSchedule(total, 30, 1e-2, 20) };
        var (steps, _) = await Record((p, c) => new LanguageModelTrainer(model, Train, Valid, options).TrainAsync(p, c));

        var warning = Assert.Single(steps, s => s.Divergence is not null).Divergence!;
        Assert.True(warning.Loss >= warning.BestLoss + 0.5 && warning.Step > warning.BestStep);
        Assert.Equal(20, warning.LearningRate);
        Assert.True(warning.BestStep <= 31, $"best step {warning.BestStep}");
    }

    sealed record JumpSchedule(long TotalSteps, long JumpAt, double Before, double After) : ITrainingSchedule
    {
        public ScheduleValues At(long step) => new(step < JumpAt ? Before : After, null);
    }

    [Fact]
    public async Task Progress_reports_steps_epochs_rates_and_throughput()
    {
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        var options = Options(epochs: 2);
        var (steps, result) = await Record((p, c) => new LanguageModelTrainer(model, Train, Valid, options).TrainAsync(p, c));

        long total = steps[0].TotalSteps;
        var schedule = options.Schedule(total);
        Assert.Equal(Enumerable.Range(1, (int)total).Select(i => (long)i), steps.Select(s => s.Step));
        Assert.Equal(result!.Steps, total);
        Assert.Equal([0, 1], steps.Select(s => s.Epoch).Distinct());
        Assert.All(steps, s => Assert.Equal(schedule.At(s.Step - 1).LearningRate, s.LearningRate));
        Assert.All(steps, s => Assert.True(s.TokensPerSecond > 0 && double.IsFinite(s.SmoothedLoss)));
        Assert.All(steps, s => Assert.Null(s.Divergence));   // a healthy run raises no divergence warning
        Assert.Equal(TimeSpan.Zero, steps[^1].Remaining);
        Assert.Equal(result.Epochs.Sum(e => e.Steps), total);
    }

    [Fact]
    public async Task Validation_reports_perplexity_as_exp_loss_and_leaves_the_model_in_train_mode()
    {
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        var result = await new LanguageModelTrainer(model, Train, Valid, Options(epochs: 1)).TrainAsync();
        var validation = result.Epochs.Single().Validation!;
        Assert.Equal(Math.Exp(validation.Loss), validation.Perplexity, 1e-9);
        Assert.InRange(validation.Accuracy, 0, 1);
        Assert.Equal(Valid.TokenCount / 4 * 4 - 4, validation.Tokens); // 4 rows, each loses its last position
        Assert.True(model.Module.training);

        // Measured directly: eval mode disables dropout, so two measurements agree exactly.
        var direct = LanguageModelEvaluator.Evaluate(model, Valid, Options().Batching);
        var again = LanguageModelEvaluator.Evaluate(model, Valid, Options().Batching);
        Assert.Equal(direct, again);
    }

    [Fact]
    public async Task A_validation_cap_scores_only_the_first_tokens_the_same_way_every_epoch()
    {
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        var result = await new LanguageModelTrainer(model, Train, Valid, Options(epochs: 2) with { MaxValidationTokens = 60 }).TrainAsync();
        // 60 tokens in 4 rows of 15, each row losing its last position as a target.
        Assert.All(result.Epochs, e => Assert.Equal(56, e.Validation!.Tokens));

        // The cap is a prefix in document order: the first two documents (50 tokens) score as the cap of 50 does.
        var batching = Options().Batching;
        var capped = LanguageModelEvaluator.Evaluate(model, Valid, batching, maxTokens: 50);
        int[] Document(int i) { var tokens = new int[Valid.Length(i)]; Valid.CopyTo(i, tokens); return tokens; }
        var firstTwo = LanguageModelEvaluator.Evaluate(model, new InMemoryTokenDocuments([Document(0), Document(1)]), batching);
        Assert.Equal(firstTwo, capped);
        // A cap beyond the text changes nothing.
        Assert.Equal(LanguageModelEvaluator.Evaluate(model, Valid, batching), LanguageModelEvaluator.Evaluate(model, Valid, batching, maxTokens: 1_000_000));
        Assert.Throws<ArgumentOutOfRangeException>(() => (Options() with { MaxValidationTokens = 1 }).Validate());
    }

    [Fact]
    public async Task A_tiny_model_overfits_a_tiny_corpus()
    {
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab, dropout: 0);
        var options = Options(epochs: 6) with
        {
            Schedule = total => new OneCycleSchedule(total, 3e-2, Momentums: MomentumCycle.Text),
            Optimizer = AdamWSettings.Ulmfit with { WeightDecay = 0 },
        };
        var started = DateTime.UtcNow;
        var (steps, result) = await Record((p, c) => new LanguageModelTrainer(model, Train, Valid, options).TrainAsync(p, c));

        double first = steps[0].Loss;
        Assert.InRange(first, 2.5, 3.3); // about ln(19) ≈ 2.94 for an untrained model
        Assert.True(result!.Epochs[^1].TrainLoss < 0.25 * first, $"train loss {result.Epochs[^1].TrainLoss} vs {first} at the start");
        Assert.True(result.Epochs[^1].Validation!.Accuracy > 0.8, $"accuracy {result.Epochs[^1].Validation!.Accuracy}");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Live_tensor_count_stays_flat_over_300_training_steps()
    {
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        var live = new Dictionary<long, long>();
        var progress = new InlineProgress<LanguageModelProgress>(p =>
        {
            // Reported on the training thread, so these thread-local counts are the training loop's own (the global
            // Tensor.TotalCount would also see tests running in parallel).
            // Every tensor created on the thread, in a scope or not, minus every one disposed (detaching from a
            // scope only moves a tensor between the two tallies).
            var stats = DisposeScopeManager.Statistics.TensorStatistics;
            live[p.Step] = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - stats.DisposedInScopeCount - stats.DisposedOutsideScopeCount;
        });
        var options = Options(epochs: 30) with { Batching = new LanguageModelBatcherOptions { BatchSize = 4, Bptt = 10, Seed = 5 } };
        var result = await new LanguageModelTrainer(model, Train, null, options).TrainAsync(progress);

        Assert.True(result.Steps >= 300, $"only {result.Steps} steps");
        long atStart = live[10];
        Assert.All(live.Where(kv => kv.Key >= 10), kv => Assert.Equal(atStart, kv.Value));
    }
}

/// <summary>An IProgress that runs its handler synchronously on the reporting thread (Progress&lt;T&gt; would post
/// to the thread pool).</summary>
internal sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
