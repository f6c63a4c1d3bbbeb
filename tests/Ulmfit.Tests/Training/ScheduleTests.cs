using Ulmfit.Training;

namespace Ulmfit.Tests.Training;

public class ScheduleTests
{
    const double Tolerance = 1e-15;

    [Theory]
    // T = 1000, cut_frac 0.1 → cut = 100; ratio 32, maxLr 0.01.
    [InlineData(0, 0.01 / 32)]                    // p = 0: the floor maxLr/ratio
    [InlineData(50, 0.01 * (1 + 0.5 * 31) / 32)]  // halfway up: p = 0.5
    [InlineData(100, 0.01)]                       // the peak at the cut
    [InlineData(550, 0.01 * (1 + 0.5 * 31) / 32)] // p = 1 − 450/(100·9) = 0.5
    [InlineData(1000, 0.01 / 32)]                 // p = 1 − 900/900 = 0
    [InlineData(5000, 0.01 / 32)]                 // past the end: stays at the floor
    public void Slanted_triangular_rates_follow_the_papers_formula(long step, double expected)
    {
        var schedule = new SlantedTriangularSchedule(1000, 0.01);
        Assert.Equal(100, schedule.Cut);
        var values = schedule.At(step);
        Assert.Equal(expected, values.LearningRate, Tolerance);
        Assert.Null(values.Momentum);
    }

    [Fact]
    public void Slanted_triangular_rises_for_a_tenth_of_the_steps_then_falls()
    {
        var schedule = new SlantedTriangularSchedule(500, 4e-3);
        var rates = Enumerable.Range(0, 501).Select(t => schedule.At(t).LearningRate).ToArray();
        Assert.Equal(50, Array.IndexOf(rates, rates.Max()));
        for (int t = 1; t <= 50; t++) Assert.True(rates[t] > rates[t - 1]);
        for (int t = 51; t <= 500; t++) Assert.True(rates[t] < rates[t - 1]);
    }

    [Fact]
    public void Slanted_triangular_stays_defined_for_runs_shorter_than_ten_steps()
    {
        var schedule = new SlantedTriangularSchedule(5, 0.01);
        Assert.Equal(1, schedule.Cut);
        Assert.Equal(0.01 / 32, schedule.At(0).LearningRate, Tolerance);
        Assert.Equal(0.01, schedule.At(1).LearningRate, Tolerance);
        Assert.All(Enumerable.Range(0, 6), t => Assert.True(double.IsFinite(schedule.At(t).LearningRate)));
    }

    [Theory]
    // T = 200, warm-up 25% = 50 steps, maxLr 0.01, div 25 → 4e-4, div_final 1e5 → 1e-7; moms 0.95 → 0.85 → 0.95.
    [InlineData(0, 4e-4, 0.95)]
    [InlineData(25, 4e-4 + (0.01 - 4e-4) / 2, 0.90)]   // half-way through the warm-up: cosine midpoint
    [InlineData(50, 0.01, 0.85)]                       // peak
    [InlineData(125, 0.01 + (1e-7 - 0.01) / 2, 0.90)]  // half-way down
    [InlineData(200, 1e-7, 0.95)]                      // end
    public void One_cycle_follows_fastais_cosine_segments(long step, double lr, double momentum)
    {
        var values = new OneCycleSchedule(200, 0.01).At(step);
        Assert.Equal(lr, values.LearningRate, 1e-12);
        Assert.Equal(momentum, values.Momentum!.Value, 1e-12);
    }

    [Fact]
    public void One_cycle_at_a_quarter_of_the_warm_up_matches_the_cosine_formula()
    {
        // pos 0.5 within warm-up is the midpoint; at a quarter: start + (1 + cos(π·0.75))·(end − start)/2.
        var values = new OneCycleSchedule(400, 0.01).At(25);
        double expected = 4e-4 + (1 + Math.Cos(Math.PI * 0.75)) * (0.01 - 4e-4) / 2;
        Assert.Equal(expected, values.LearningRate, 1e-15);
    }

    [Fact]
    public void One_cycle_takes_the_text_momentums_when_asked()
    {
        var schedule = new OneCycleSchedule(100, 2e-2, Momentums: MomentumCycle.Text);
        Assert.Equal(0.8, schedule.At(0).Momentum!.Value, 1e-12);
        Assert.Equal(0.7, schedule.At(25).Momentum!.Value, 1e-12);
        Assert.Equal(0.8, schedule.At(100).Momentum!.Value, 1e-12);
    }

    [Fact]
    public void Constant_schedule_gives_the_same_rate_at_every_step()
    {
        var schedule = new ConstantSchedule(10, 3e-3);
        Assert.All(new long[] { 0, 5, 10, 99 }, t => Assert.Equal(new ScheduleValues(3e-3, null), schedule.At(t)));
    }

    [Fact]
    public void Discriminative_rates_fall_by_2_6_per_group_towards_the_input()
    {
        double[] rates = DiscriminativeLearningRates.ForGroups(4, 0.01);
        Assert.Equal(0.01 / (2.6 * 2.6 * 2.6), rates[0], Tolerance);
        Assert.Equal(0.01 / (2.6 * 2.6), rates[1], Tolerance);
        Assert.Equal(0.01 / 2.6, rates[2], Tolerance);
        Assert.Equal(0.01, rates[3]);
    }

    [Fact]
    public void Discriminative_factor_is_configurable()
    {
        Assert.Equal([0.25, 0.5, 1.0], DiscriminativeLearningRates.ForGroups(3, 1.0, factor: 2));
        Assert.Equal([1.0, 1.0], DiscriminativeLearningRates.ForGroups(2, 1.0, factor: 1));
    }
}
