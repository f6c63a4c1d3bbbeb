using Ulmfit.Cli.Commands;
using Ulmfit.Pipeline;
using Ulmfit.Tests.Cli;
using Ulmfit.Training;

namespace Ulmfit.Tests.Training;

public sealed class DivergenceWatchTests
{
    /// <summary>Feeds a loss curve step by step (steps numbered from 1); returns every warning raised.</summary>
    static List<DivergenceWarning> Watch(IEnumerable<double> losses, double learningRate = 8e-3)
    {
        var watch = new DivergenceWatch();
        var warnings = new List<DivergenceWarning>();
        long step = 0;
        foreach (double loss in losses)
            if (watch.Observe(++step, loss, learningRate) is { } w) warnings.Add(w);
        return warnings;
    }

    [Fact]
    public void A_binary_classifier_falling_back_to_chance_is_reported_by_the_classifier_watch()
    {
        // The from-scratch IMDb run on 10,000 labels: down to 0.36, then back to ln 2 for good — 0.33 nats, under the
        // language-model threshold of 0.5 but over the binary classifier's 0.4·ln 2 = 0.277.
        var down = Enumerable.Range(0, 100).Select(i => 0.75 - (0.75 - 0.36) * i / 99.0);
        var up = Enumerable.Range(1, 100).Select(i => Math.Min(0.693, 0.36 + 0.01 * i));
        var curve = down.Concat(up).ToArray();
        Assert.Empty(Watch(curve));
        var watch = DivergenceWatch.ForClassifier(2, multiLabel: false);
        Assert.Equal(0.4 * Math.Log(2), watch.Rise, 1e-12);
        var warnings = new List<DivergenceWarning>();
        for (int i = 0; i < curve.Length; i++)
            if (watch.Observe(i + 1, curve[i], 1e-2) is { } w) warnings.Add(w);
        var warning = Assert.Single(warnings);
        Assert.Equal(100, warning.BestStep);
        // With six classes the threshold is the language model's 0.5 again (0.4 · ln 6 = 0.72 is larger).
        Assert.Equal(0.5, DivergenceWatch.ForClassifier(6, multiLabel: false).Rise);
    }

    [Fact]
    public void A_healthy_noisy_curve_raises_nothing()
    {
        // Falling from 9.9 to about 5 with ±0.15 of batch-to-batch noise and a plateau: never 0.5 above its best.
        var random = new Random(3);
        var losses = Enumerable.Range(0, 400).Select(i => Math.Max(5.0, 9.9 - 0.02 * i) + 0.3 * (random.NextDouble() - 0.5));
        Assert.Empty(Watch(losses));
    }

    [Fact]
    public void A_curve_that_climbs_back_is_reported_once_with_its_best_point()
    {
        // The shape of the QRNN failure: down to 8.19 at step 29, then back up towards ln(vocab) and staying there.
        var down = Enumerable.Range(0, 29).Select(i => 9.9 - (9.9 - 8.19) * i / 28.0);
        var up = Enumerable.Range(1, 60).Select(i => Math.Min(9.3, 8.19 + 0.055 * i));
        var warnings = Watch(down.Concat(up));

        var warning = Assert.Single(warnings);
        Assert.Equal(29, warning.BestStep);
        Assert.Equal(8.19, warning.BestLoss, 1e-9);
        Assert.Equal(29 + 10, warning.Step);              // the first step at least 0.5 above 8.19 (8.74)
        Assert.True(warning.Loss >= 8.69 - 1e-9);
        Assert.Contains("training loss rose from 8.190 (step 29) to", warning.Message);
        Assert.Contains("at learning rate 0.008", warning.Message);
    }

    [Fact]
    public void The_first_steps_and_non_finite_losses_are_not_judged()
    {
        // A debiased average can jump in its first steps; a NaN is the trainer's own error, not a rise.
        Assert.Empty(Watch([5.0, 9.0, 4.0, 9.5, 5.0, 9.0, 5.0, 9.0, 5.0, 9.0, 6.0, double.NaN, 6.1, 6.0]));
    }

    [Fact]
    public void The_cli_prints_the_warning_as_one_line_naming_the_option()
    {
        var console = new CapturedConsole();
        var progress = LanguageModelCommandOptions.Progress(console);
        var warning = new DivergenceWarning(29, 8.19, 39, 8.7, 8e-3);
        progress.Report(new LanguageModelRunProgress("pretrain", null,
            new LanguageModelProgress(39, 149, 0, 9.1, 8.7, 1900, 8e-3, TimeSpan.FromMinutes(3), null, warning)));
        progress.Report(new LanguageModelRunProgress("pretrain", null,
            new LanguageModelProgress(40, 149, 0, 9.1, 8.72, 1900, 8e-3, TimeSpan.FromMinutes(3), null)));

        var line = Assert.Single(console.Infos, l => l.StartsWith("warning: ", StringComparison.Ordinal));
        Assert.Equal($"warning: {warning.Message} (--lr)", line);
    }
}
