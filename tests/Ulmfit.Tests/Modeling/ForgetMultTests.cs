using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

public class ForgetMultTests
{
    public ForgetMultTests() => TorchRuntime.Initialise(2);

    static (Tensor F, Tensor Z, Tensor C0) Inputs(long batch, long seq, long hidden, bool requiresGrad)
    {
        var f = rand(batch, seq, hidden, dtype: ScalarType.Float64).requires_grad_(requiresGrad);
        var z = randn(batch, seq, hidden, dtype: ScalarType.Float64).requires_grad_(requiresGrad);
        var c0 = randn(batch, hidden, dtype: ScalarType.Float64).requires_grad_(requiresGrad);
        return (f, z, c0);
    }

    static double MaxAbs(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        using var d = (a - b).abs().max();
        return d.item<double>();
    }

    [Theory]
    [InlineData(3, 7, 5)]
    [InlineData(2, 1, 4)]
    [InlineData(2, 6, 19)]     // SIMD lanes and a scalar tail
    [InlineData(4, 50, 200)]   // big enough to split the batch rows over threads
    public void Forward_equals_the_step_by_step_recurrence(long batch, long seq, long hidden)
    {
        using var scope = NewDisposeScope();
        var (f, z, c0) = Inputs(batch, seq, hidden, requiresGrad: false);
        var fast = ForgetMultFunction.Apply(f, z, c0);
        var reference = QrnnReference.ForgetMult(f, z, c0);
        Assert.True(MaxAbs(fast, reference) < 1e-12, $"max difference {MaxAbs(fast, reference)}");
    }

    [Theory]
    [InlineData(3, 7, 5)]
    [InlineData(2, 1, 4)]
    [InlineData(2, 6, 19)]
    [InlineData(4, 50, 200)]
    public void Gradients_for_forget_candidate_and_initial_cell_equal_autograd_through_the_reference(long batch, long seq, long hidden)
    {
        using var scope = NewDisposeScope();
        var (f, z, c0) = Inputs(batch, seq, hidden, requiresGrad: true);
        var upstream = randn(batch, seq, hidden, dtype: ScalarType.Float64);   // an arbitrary dL/dc

        var fastGrads = autograd.grad([ForgetMultFunction.Apply(f, z, c0)], [f, z, c0], [upstream]);
        var referenceGrads = autograd.grad([QrnnReference.ForgetMult(f, z, c0)], [f, z, c0], [upstream]);

        string[] names = ["f", "z", "c0"];
        for (int i = 0; i < 3; i++)
            Assert.True(MaxAbs(fastGrads[i], referenceGrads[i]) < 1e-8, $"gradient for {names[i]} differs by {MaxAbs(fastGrads[i], referenceGrads[i])}");
    }

    [Fact]
    public void The_tensor_op_loop_for_other_devices_and_dtypes_agrees_with_the_reference_too()
    {
        using var scope = NewDisposeScope();
        var (f, z, c0) = Inputs(3, 7, 5, requiresGrad: true);
        var upstream = randn(3, 7, 5, dtype: ScalarType.Float64);
        var cells = ForgetMultFunction.ScanWithTensorOps(f, z, c0);
        var reference = QrnnReference.ForgetMult(f, z, c0);
        Assert.True(MaxAbs(cells, reference) < 1e-12);
        var grads = ForgetMultFunction.GradientsWithTensorOps(f, z, c0, cells, upstream);
        var referenceGrads = autograd.grad([reference], [f, z, c0], [upstream]);
        for (int i = 0; i < 3; i++) Assert.True(MaxAbs(grads[i], referenceGrads[i]) < 1e-8, $"gradient {i}");
    }

    [Fact]
    public void Float32_inputs_give_float32_results_close_to_the_float64_ones()
    {
        using var scope = NewDisposeScope();
        var (f, z, c0) = Inputs(3, 9, 21, requiresGrad: false);
        var single = ForgetMultFunction.Apply(f.to(ScalarType.Float32), z.to(ScalarType.Float32), c0.to(ScalarType.Float32));
        Assert.Equal(ScalarType.Float32, single.dtype);
        Assert.True(MaxAbs(single.to(ScalarType.Float64), ForgetMultFunction.Apply(f, z, c0)) < 1e-5);
    }

    [Fact]
    public void Forward_and_backward_leave_as_many_tensors_behind_for_200_steps_as_for_2()
    {
        // One node for the whole sequence: neither pass keeps anything per time step.
        long Leftovers(long seq)
        {
            using var scope = NewDisposeScope();
            var (f, z, c0) = Inputs(2, seq, 3, requiresGrad: true);
            long before = scope.DisposablesCount;
            var cells = ForgetMultFunction.Apply(f, z, c0);
            cells.sum().backward();
            return scope.DisposablesCount - before;
        }
        Assert.Equal(Leftovers(2), Leftovers(200));
    }

    [Fact]
    public void Mismatched_shapes_are_refused_with_the_shapes_in_the_message()
    {
        using var scope = NewDisposeScope();
        var (f, z, _) = Inputs(2, 4, 3, requiresGrad: false);
        var wrong = zeros(2, 4, dtype: ScalarType.Float64);
        var e = Assert.Throws<ArgumentException>(() => ForgetMultFunction.Apply(f, z, wrong));
        Assert.Contains("(2, 3)", e.Message);
    }
}
