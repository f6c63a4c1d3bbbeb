using TorchSharp;
using TorchSharp.Modules;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Training;

[Collection(TorchRandomCollection.Name)]
public class OptimizationTests
{
    public OptimizationTests() => TorchRuntime.Initialise(2);

    static HashSet<IntPtr> Handles(IEnumerable<Parameter> parameters) => [.. parameters.Select(p => p.Handle)];

    [Fact]
    public void Freezing_all_but_the_last_group_leaves_exactly_the_decoder_trainable()
    {
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        var freezer = new LayerGroupFreezer(model.LayerGroups);

        freezer.FreezeAllButLast(1);
        Assert.Equal([false, false, true], freezer.Trainable);
        var trainable = Handles(model.Module.parameters().Where(p => p.requires_grad));
        Assert.Equal(Handles(model.LayerGroups[2].Parameters), trainable);

        freezer.FreezeAllButLast(2);
        Assert.Equal(Handles(model.LayerGroups[1].Parameters.Concat(model.LayerGroups[2].Parameters)),
            Handles(model.Module.parameters().Where(p => p.requires_grad)));

        freezer.UnfreezeAll();
        Assert.All(model.Module.parameters(), p => Assert.True(p.requires_grad));
        Assert.Throws<ArgumentOutOfRangeException>(() => freezer.FreezeAllButLast(4));
    }

    [Fact]
    public void Each_layer_group_gets_its_discriminative_rate_and_the_schedules_momentum()
    {
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        using var optimizer = new LayerGroupOptimizer(model.LayerGroups, AdamWSettings.Ulmfit);

        optimizer.Apply(new ScheduleValues(0.01, null));
        Assert.Equal([0.01 / (2.6 * 2.6), 0.01 / 2.6, 0.01], optimizer.LearningRates);
        Assert.Equal([0.7, 0.7, 0.7], optimizer.Beta1s);

        optimizer.Apply(new ScheduleValues(1e-3, 0.85));
        Assert.Equal([1e-3 / (2.6 * 2.6), 1e-3 / 2.6, 1e-3], optimizer.LearningRates);
        Assert.Equal([0.85, 0.85, 0.85], optimizer.Beta1s);
    }

    [Fact]
    public void Each_groups_rate_really_sizes_its_update()
    {
        // Adam's first bias-corrected step is lr · g/(|g| + ε) ≈ lr per element, so each group moves by its own rate.
        using var lower = new Parameter(zeros(4), requires_grad: true);
        using var upper = new Parameter(zeros(4), requires_grad: true);
        using var optimizer = new LayerGroupOptimizer([new LayerGroup("lower", [lower]), new LayerGroup("upper", [upper])],
            new AdamWSettings(0.7, 0.99, 1e-5, 0));
        optimizer.Apply(new ScheduleValues(0.01, null));
        lower.grad = ones(4);
        upper.grad = ones(4);
        optimizer.Step();
        Assert.All(lower.data<float>().ToArray(), w => Assert.Equal(-0.01 / 2.6, w, 1e-7));
        Assert.All(upper.data<float>().ToArray(), w => Assert.Equal(-0.01, w, 1e-7));
    }

    [Fact]
    public void Weight_decay_is_decoupled_from_the_gradient()
    {
        // With a zero gradient Adam's update is 0, so only the decoupled decay moves the weight: w·(1 − lr·wd).
        using var weight = new Parameter(ones(3), requires_grad: true);
        var group = new LayerGroup("only", [weight]);
        using var optimizer = new LayerGroupOptimizer([group], new AdamWSettings(0.9, 0.99, 1e-5, 0.01));
        optimizer.Apply(new ScheduleValues(0.1, null));
        weight.grad = zeros(3);
        optimizer.Step();
        Assert.All(weight.data<float>().ToArray(), w => Assert.Equal(1 - 0.1 * 0.01, w, 1e-7));
    }

    [Fact]
    public void A_frozen_group_is_neither_updated_nor_decayed()
    {
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab, dropout: 0);
        using var optimizer = new LayerGroupOptimizer(model.LayerGroups, AdamWSettings.Ulmfit);
        var step = new LanguageModelStep(model, optimizer, new LanguageModelLoss(), 0.3);
        var batcher = new LanguageModelBatcher(TinyCorpus.Counting(20, 30, 1), new LanguageModelBatcherOptions { BatchSize = 4, Bptt = 8 });
        var freezer = new LayerGroupFreezer(model.LayerGroups);

        TrainOneStep(step, batcher); // every group has moments now
        freezer.FreezeAllButLast(1);
        var before = Snapshot(model);
        TrainOneStep(step, batcher);
        var after = Snapshot(model);

        for (int g = 0; g < 3; g++)
            for (int p = 0; p < before[g].Length; p++)
            {
                if (g < 2) Assert.Equal(before[g][p], after[g][p]);
                else Assert.NotEqual(before[g][p], after[g][p]);
            }
    }

    static void TrainOneStep(LanguageModelStep step, LanguageModelBatcher batcher)
    {
        using var scope = NewDisposeScope();
        step.Run(batcher.NextBatch()!, new ScheduleValues(1e-2, null));
    }

    static float[][][] Snapshot(ILanguageModel model) =>
        [.. model.LayerGroups.Select(g => g.Parameters.Select(p => p.data<float>().ToArray()).ToArray())];

    [Fact]
    public void Saved_optimizer_state_restores_adam_moments_and_step_counts()
    {
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab, dropout: 0);
        using var optimizer = new LayerGroupOptimizer(model.LayerGroups, AdamWSettings.Ulmfit);
        var step = new LanguageModelStep(model, optimizer, new LanguageModelLoss(), 0.3);
        var batcher = new LanguageModelBatcher(TinyCorpus.Counting(20, 30, 1), new LanguageModelBatcherOptions { BatchSize = 4, Bptt = 8 });
        for (int i = 0; i < 3; i++) TrainOneStep(step, batcher);
        string path = Path.Combine(Path.GetTempPath(), $"ulmfit-optimizer-{Guid.NewGuid():N}.bin");
        try
        {
            optimizer.Save(path);
            using var other = new TinyLstmLanguageModel(TinyCorpus.CountingVocab, dropout: 0, seed: 99);
            using var restored = new LayerGroupOptimizer(other.LayerGroups, AdamWSettings.Ulmfit);
            Assert.Null(restored.MomentsOf(other.LayerGroups[0].Parameters[0]));
            restored.Load(path);

            for (int g = 0; g < 3; g++)
                for (int p = 0; p < model.LayerGroups[g].Parameters.Count; p++)
                {
                    var (avg, avgSq, count) = optimizer.MomentsOf(model.LayerGroups[g].Parameters[p])!.Value;
                    var (avg2, avgSq2, count2) = restored.MomentsOf(other.LayerGroups[g].Parameters[p])!.Value;
                    Assert.Equal(3, count);
                    Assert.Equal(count, count2);
                    Assert.True(avg.abs().sum().item<float>() > 0);
                    Assert.Equal(avg.data<float>().ToArray(), avg2.data<float>().ToArray());
                    Assert.Equal(avgSq.data<float>().ToArray(), avgSq2.data<float>().ToArray());
                    foreach (var t in new[] { avg, avgSq, avg2, avgSq2 }) t.Dispose();
                }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_parameter_listed_in_two_groups_is_rejected()
    {
        using var shared = new Parameter(ones(2), requires_grad: true);
        var error = Assert.Throws<ArgumentException>(() =>
            new LayerGroupOptimizer([new LayerGroup("embedding", [shared]), new LayerGroup("decoder", [shared])], AdamWSettings.Ulmfit));
        Assert.Contains("'embedding' and 'decoder'", error.Message);
    }

    [Fact]
    public void Clipping_bounds_the_global_gradient_norm()
    {
        using var a = new Parameter(zeros(2), requires_grad: true);
        using var b = new Parameter(zeros(1), requires_grad: true);
        using var optimizer = new LayerGroupOptimizer([new LayerGroup("a", [a]), new LayerGroup("b", [b])], AdamWSettings.Ulmfit);
        a.grad = tensor(new float[] { 3, 0 });
        b.grad = tensor(new float[] { 4 });
        double before = optimizer.ClipGradients(0.5);
        Assert.Equal(5, before, 1e-5);
        Assert.Equal(new[] { 0.3f, 0f }, a.grad!.data<float>().ToArray().Select(x => MathF.Round(x, 5)));
        Assert.Equal(0.4f, b.grad!.data<float>()[0], 1e-5f);
    }

    [Fact]
    public void Activation_penalties_match_their_definitions()
    {
        // raw: (1, 3, 1) = 1, 2, 4 → changes 1, 2 → TAR mean 2.5; dropped: 0, 2, 0 → AR mean 4/3.
        using var raw = tensor(new float[] { 1, 2, 4 }).reshape(1, 3, 1);
        using var dropped = tensor(new float[] { 0, 2, 0 }).reshape(1, 3, 1);
        using var logits = zeros(1, 3, 5);
        var output = new LanguageModelOutput(logits, raw, dropped);

        using var penalty = new LanguageModelLoss(Alpha: 2, Beta: 1).Regularisation(output);
        Assert.Equal(2 * 4.0 / 3 + 1 * 2.5, penalty.item<float>(), 1e-5);
        using var none = new LanguageModelLoss(0, 0).Regularisation(output);
        Assert.Equal(0, none.item<float>());

        using var single = tensor(new float[] { 1 }).reshape(1, 1, 1); // one time step: TAR has no change to measure
        using var onlyAr = new LanguageModelLoss(2, 1).Regularisation(new LanguageModelOutput(zeros(1, 1, 5), single, single));
        Assert.Equal(2, onlyAr.item<float>(), 1e-6);
    }

    [Fact]
    public void Cross_entropy_of_uniform_logits_is_log_vocab()
    {
        using var logits = zeros(2, 3, 7);
        using var targets = tensor(new long[] { 0, 1, 2, 3, 4, 5 }).reshape(2, 3);
        using var loss = LanguageModelLoss.CrossEntropy(logits, targets);
        Assert.Equal(Math.Log(7), loss.item<float>(), 1e-5);
    }
}
