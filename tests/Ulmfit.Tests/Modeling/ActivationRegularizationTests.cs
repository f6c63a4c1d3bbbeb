using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

public class ActivationRegularizationTests
{
    public ActivationRegularizationTests() => TorchRuntime.Initialise(2);

    [Fact]
    public void Ar_is_alpha_times_the_mean_square_activation()
    {
        using var h = tensor(new float[] { 1, 2, 3, 4 }).reshape(1, 2, 2);
        using var ar = ActivationRegularization.Ar(h, alpha: 2);
        Assert.Equal(2 * (1 + 4 + 9 + 16) / 4f, ar.item<float>(), 5);
    }

    [Fact]
    public void Tar_is_beta_times_the_mean_square_step_to_step_change_along_time()
    {
        using var h = tensor(new float[] { 0, 1, 3 }).reshape(1, 3, 1);         // changes 1 and 2
        using var tar = ActivationRegularization.Tar(h, beta: 3);
        Assert.Equal(3 * (1 + 4) / 2f, tar.item<float>(), 5);
    }

    [Fact]
    public void Tar_differences_run_within_each_sequence_never_across_the_batch()
    {
        // Sequence 0 changes by 1, sequence 1 is constant; across the batch the values differ by 10.
        using var h = tensor(new float[] { 0, 1, 10, 10 }).reshape(2, 2, 1);
        using var tar = ActivationRegularization.Tar(h);
        Assert.Equal((1 + 0) / 2f, tar.item<float>(), 5);
    }

    [Fact]
    public void Tar_of_a_single_step_is_zero()
    {
        using var h = randn(2, 1, 4);
        using var tar = ActivationRegularization.Tar(h);
        Assert.Equal(0f, tar.item<float>());
    }

    [Fact]
    public void Both_regularisers_are_differentiable()
    {
        using var scope = NewDisposeScope();
        var h = tensor(new float[] { 1, 3 }).reshape(1, 2, 1).requires_grad_(true);
        (ActivationRegularization.Ar(h, 2) + ActivationRegularization.Tar(h, 1)).backward();
        // d/dh of 2·mean(h²) = 2h; of mean((h1-h0)²) = ∓2(h1-h0) → h0: 2 - 4 = -2, h1: 6 + 4 = 10.
        Assert.Equal(new float[] { -2, 10 }, h.grad!.data<float>().ToArray());
    }
}
