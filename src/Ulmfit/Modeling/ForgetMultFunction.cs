using TorchSharp;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// The QRNN's element-wise recurrence ("forget-mult", Bradbury et al. 2016) as one autograd node:
/// c_t = f_t·z_t + (1 − f_t)·c_{t−1}, from c_0 = <c>initial</c>. Inputs: forget gate f (batch, seq, hidden) in (0, 1),
/// candidate z (batch, seq, hidden), initial cell (batch, hidden). Output: every cell state c (batch, seq, hidden).
/// </summary>
/// <remarks>
/// Written as a plain per-step loop of tensor ops, autograd would record several nodes per time step and keep every
/// intermediate alive. Here the forward runs without a graph and writes straight into the preallocated output, and the
/// backward is the analytic reverse scan. On CPU float32/float64 both are single passes over memory
/// (<see cref="ForgetMultKernel"/>); otherwise they are tensor loops with one in-place <c>addcmul_</c> per step
/// (f·z computed for the whole sequence at once). The reverse scan:
/// <code>
/// D_t  = ∂L/∂c_t + (1 − f_{t+1})·D_{t+1}        (total gradient reaching c_t; D_T = ∂L/∂c_T)
/// ∂L/∂z_t = D_t·f_t
/// ∂L/∂f_t = D_t·(z_t − c_{t−1})
/// ∂L/∂c_0 = D_1·(1 − f_1)
/// </code>
/// Saved for backward: f, z, the initial cell and the output c (libtorch keeps them alive until the node is freed).
/// Double backward (create_graph) is not supported.
/// </remarks>
internal sealed class ForgetMultFunction : autograd.SingleTensorFunction<ForgetMultFunction>
{
    public override string Name => "ForgetMult";

    /// <summary>The recurrence with autograd support: c (batch, seq, hidden).</summary>
    public static Tensor Apply(Tensor forget, Tensor candidate, Tensor initial)
    {
        Validate(forget, candidate, initial);
        return apply(forget, candidate, initial);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var forget = (Tensor)vars[0];      // (batch, seq, hidden)
        var candidate = (Tensor)vars[1];   // (batch, seq, hidden)
        var initial = (Tensor)vars[2];     // (batch, hidden)
        var cells = Scan(forget, candidate, initial);
        ctx.save_for_backward([forget, candidate, initial, cells]);
        ctx.set_materialize_grads(false);
        return cells;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradCells)
    {
        try
        {
            var saved = ctx.get_saved_variables();
            try
            {
                return Gradients(saved[0], saved[1], saved[2], saved[3], gradCells);
            }
            finally
            {
                foreach (var t in saved) t.Dispose();
            }
        }
        catch (Exception e)
        {
            // Inside libtorch's autograd engine an escaping managed exception would abort the process; empty gradients
            // make libtorch raise a catchable error at the caller's backward() instead ("invalid gradient").
            LastBackwardFailure = e;
            return [empty(0), empty(0), empty(0)];
        }
    }

    /// <summary>Why the last failed backward through the forget-mult failed (see <see cref="WeightDropLstm.LastBackwardFailure"/>).</summary>
    public static Exception? LastBackwardFailure { get; private set; }

    /// <summary>The forward recurrence without a graph: c (batch, seq, hidden), a new tensor.</summary>
    internal static Tensor Scan(Tensor forget, Tensor candidate, Tensor initial)
    {
        using var _ = no_grad();
        if (ForgetMultKernel.Supports(forget, candidate, initial))
        {
            var result = empty_like(forget);
            ForgetMultKernel.Forward(forget, candidate, initial, result);
            return result;
        }
        return ScanWithTensorOps(forget, candidate, initial);
    }

    /// <summary>The same with one in-place tensor op per step (any device and dtype).</summary>
    internal static Tensor ScanWithTensorOps(Tensor forget, Tensor candidate, Tensor initial)
    {
        using var _ = no_grad();
        long steps = forget.shape[1];
        var cells = forget.mul(candidate);                   // (batch, seq, hidden): f_t·z_t, completed in place below
        using var retain = forget.neg().add_(1.0);           // (batch, seq, hidden): 1 − f_t
        using var one = 1.0.ToScalar();                      // one native scalar for every step's addcmul_
        Tensor previous = initial.alias();                   // (batch, hidden)
        for (long t = 0; t < steps; t++)
        {
            var current = cells.select(1, t);                // (batch, hidden), a view into cells
            using (var keep = retain.select(1, t))
                current.addcmul_(keep, previous, one);            // c_t = f_t·z_t + (1 − f_t)·c_{t−1}
            previous.Dispose();
            previous = current;
        }
        previous.Dispose();
        return cells;
    }

    /// <summary>The analytic gradients [∂L/∂f, ∂L/∂z, ∂L/∂c_0] for the upstream gradient <paramref name="gradCells"/>.</summary>
    internal static List<Tensor> Gradients(Tensor forget, Tensor candidate, Tensor initial, Tensor cells, Tensor gradCells)
    {
        using var _ = no_grad();
        using var upstream = gradCells.contiguous();         // autograd may hand over an expanded or strided gradient
        if (ForgetMultKernel.Supports(forget, candidate, initial, cells, upstream))
        {
            var gradForget = empty_like(forget);
            var gradCandidate = empty_like(candidate);
            var gradInitial = empty_like(initial);
            ForgetMultKernel.Backward(forget, candidate, initial, cells, upstream, gradForget, gradCandidate, gradInitial);
            return [gradForget, gradCandidate, gradInitial];
        }
        return GradientsWithTensorOps(forget, candidate, initial, cells, upstream);
    }

    /// <summary>The same with one in-place tensor op per step (any device and dtype).</summary>
    internal static List<Tensor> GradientsWithTensorOps(Tensor forget, Tensor candidate, Tensor initial, Tensor cells, Tensor gradCells)
    {
        using var _ = no_grad();
        long steps = forget.shape[1];
        var total = gradCells.clone();                       // (batch, seq, hidden): D_t, accumulated right to left
        using var retain = forget.neg().add_(1.0);           // (batch, seq, hidden): 1 − f_t
        using var one = 1.0.ToScalar();
        for (long t = steps - 2; t >= 0; t--)
        {
            using var here = total.select(1, t);
            using var next = total.select(1, t + 1);
            using var keep = retain.select(1, t + 1);
            here.addcmul_(keep, next, one);                       // D_t += (1 − f_{t+1})·D_{t+1}
        }
        var gradCandidate = total.mul(forget);               // (batch, seq, hidden)
        // c_{t−1} for every t: the initial cell, then the outputs shifted one step right.
        using var previous = steps == 1
            ? initial.unsqueeze(1)
            : cat([initial.unsqueeze(1), cells.narrow(1, 0, steps - 1)], 1);     // (batch, seq, hidden)
        using var difference = candidate.sub(previous);
        var gradForget = total.mul(difference);              // (batch, seq, hidden)
        using var first = total.select(1, 0);
        using var firstRetain = retain.select(1, 0);
        var gradInitial = first.mul(firstRetain);            // (batch, hidden)
        total.Dispose();
        return [gradForget, gradCandidate, gradInitial];
    }

    static void Validate(Tensor forget, Tensor candidate, Tensor initial)
    {
        if (forget.dim() != 3 || forget.shape[1] == 0 || !forget.shape.SequenceEqual(candidate.shape))
            throw new ArgumentException($"ForgetMult expects f and z of one shape (batch, seq > 0, hidden), got [{string.Join(", ", forget.shape)}] and [{string.Join(", ", candidate.shape)}].");
        if (initial.dim() != 2 || initial.shape[0] != forget.shape[0] || initial.shape[1] != forget.shape[2])
            throw new ArgumentException($"ForgetMult expects the initial cell ({forget.shape[0]}, {forget.shape[2]}), got [{string.Join(", ", initial.shape)}].");
        if (forget.dtype != candidate.dtype || forget.dtype != initial.dtype)
            throw new ArgumentException($"ForgetMult inputs must share one dtype, got {forget.dtype}, {candidate.dtype}, {initial.dtype}.");
    }
}
