using TorchSharp;
using Ulmfit.Engine;
using Ulmfit.Training;

namespace Ulmfit.Tests.Training;

[Collection(TorchRandomCollection.Name)]
public class LearningRateFinderTests
{
    public LearningRateFinderTests() => TorchRuntime.Initialise(2);

    static readonly LanguageModelTrainerOptions Training = new()
    {
        Batching = new LanguageModelBatcherOptions { BatchSize = 4, Bptt = 10, Seed = 5 },
    };

    static float[][] Weights(TinyLstmLanguageModel model) => [.. model.Module.parameters().Select(p => p.data<float>().ToArray())];

    [Fact]
    public void Valley_suggestion_lies_inside_the_longest_falling_stretch_not_at_a_noisy_dip()
    {
        // A curve flat (with one early noisy dip) until index 40, falling steadily to index 80, then exploding.
        var points = Enumerable.Range(0, 100).Select(i =>
        {
            double loss = i < 40 ? 5.0 + (i == 3 ? -0.3 : 0) + 0.001 * (i % 2) : i <= 80 ? 5.0 - (i - 40) * 0.05 : 3.0 + (i - 80) * 0.5;
            return new LearningRatePoint(new LearningRateSweep().LearningRateAt(i), loss, loss);
        }).ToList();
        double suggested = LearningRateFinder.Valley(points);
        int index = points.FindIndex(p => p.LearningRate == suggested);
        // The longest decreasing run spans about 40..80; half-way into its middle third is near 60.
        Assert.InRange(index, 55, 66);
    }

    [Fact]
    public void The_sweep_is_exponential_from_start_to_end()
    {
        var sweep = new LearningRateSweep();
        Assert.Equal(1e-7, sweep.LearningRateAt(0), 1e-20);
        Assert.Equal(1e-7 * Math.Pow(1e8, 0.5), sweep.LearningRateAt(50), 1e-15); // 1e-3 half-way
        Assert.Equal(10, sweep.LearningRateAt(100), 1e-12);
    }

    [Fact]
    public async Task The_default_sweep_records_100_points_and_suggests_a_rate_where_the_loss_falls_and_restores_the_model()
    {
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        var before = Weights(model);
        var randomBefore = torch.random.get_rng_state().data<byte>().ToArray();
        var freezer = new LayerGroupFreezer(model.LayerGroups);
        freezer.FreezeAllButLast(2);

        var result = await LearningRateFinder.FindAsync(model, TinyCorpus.Counting(40, 25, 1), Training with { TrainableGroups = 3 });

        Assert.False(result.Diverged); // the counting task is learnt even at high rates
        Assert.Equal(100, result.Points.Count);
        Assert.Equal(1e-7, result.Points[0].LearningRate, 1e-20);
        for (int i = 1; i < result.Points.Count; i++)
            Assert.Equal(Math.Pow(1e8, 1 / 100.0), result.Points[i].LearningRate / result.Points[i - 1].LearningRate, 1e-9);
        // The loss sits at ln(19) ≈ 2.94 for tiny rates and falls once rates reach about 1e-2.
        Assert.InRange(result.SuggestedLearningRate, 1e-3, 1);
        Assert.Equal(result.Points.MinBy(p => p.SmoothedLoss)!.LearningRate / 10, result.MinimumLossLearningRateOverTen);

        Assert.Equal(before, Weights(model));
        Assert.Equal(randomBefore, torch.random.get_rng_state().data<byte>().ToArray());
        Assert.Equal([false, true, true], freezer.Trainable);
        Assert.True(model.Module.training);
    }

    [Fact]
    public async Task The_sweep_stops_once_the_smoothed_loss_exceeds_four_times_its_best()
    {
        using var model = new TinyLstmLanguageModel(TinyCorpus.CountingVocab);
        var sweep = new LearningRateSweep { StartLearningRate = 1e-3, EndLearningRate = 1e6, Steps = 80 };
        var result = await LearningRateFinder.FindAsync(model, TinyCorpus.Counting(40, 25, 1), Training, sweep);

        Assert.True(result.Diverged);
        Assert.True(result.Points.Count < 80);
        double best = result.Points.SkipLast(1).Min(p => p.SmoothedLoss);
        Assert.True(result.Points[^1].SmoothedLoss > 4 * best);
        Assert.All(result.Points.SkipLast(1), p => Assert.True(p.SmoothedLoss <= 4 * best));
    }

    [Fact]
    public void The_suggestion_is_the_steepest_descent_of_the_smoothed_curve()
    {
        // 30 points; the smoothed loss is flat, then drops fastest between points 12 and 13, then rises.
        var points = Enumerable.Range(0, 30).Select(i =>
        {
            double lr = 1e-5 * Math.Pow(10, i / 10.0);
            double smoothed = i < 12 ? 3.0 - 0.01 * i : i == 12 ? 2.8 : i < 20 ? 1.0 - 0.05 * (i - 13) : 1.0 + (i - 20);
            return new LearningRatePoint(lr, smoothed, smoothed);
        }).ToList();
        Assert.Equal(points[12].LearningRate, LearningRateFinder.Steepest(points));
        Assert.Equal(points[19].LearningRate / 10, LearningRateFinder.MinimumOverTen(points));
    }

    [Fact]
    public void Bad_sweep_settings_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new LearningRateSweep { StartLearningRate = 1, EndLearningRate = 0.1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSweep { Steps = 1 }.Validate());
    }
}
