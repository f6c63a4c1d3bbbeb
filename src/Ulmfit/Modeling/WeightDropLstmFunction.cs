using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>What <see cref="WeightDropLstm"/> hands the autograd function besides tensors.</summary>
/// <param name="Workspace">The free native LSTM to compute on.</param>
/// <param name="HiddenWeightMask">Scaled DropConnect keep-mask, shape of the raw matrix; null for no dropout.</param>
/// <param name="OwnsMask">True when the mask was sampled for this call only, so the call may free it after backward.</param>
/// <param name="ParameterType">The real parameters' type (float32 master weights): the weight gradients are returned
/// in it even when the workspace computes in bf16.</param>
internal sealed record WeightDropCall(NativeLstmWorkspace Workspace, Tensor? HiddenWeightMask, bool OwnsMask, ScalarType ParameterType);

/// <summary>
/// The autograd node of one <see cref="WeightDropLstm"/> call. Inputs, in order: input (batch, seq, in), raw
/// hidden-to-hidden weight, input weight, input bias, hidden bias, h0, c0 (1, batch, hidden), and a
/// <see cref="WeightDropCall"/>. One output, (batch, seq + 1, hidden): the LSTM output for every step followed by the
/// final cell state. (The final hidden state is the last step's output.)
/// </summary>
/// <remarks>
/// Forward runs the native LSTM on a workspace loaded with raw ⊙ mask, recording a private graph (like activation
/// checkpointing, but without recomputation). Backward differentiates that private graph with
/// <c>autograd.grad</c> and returns the gradients for the real parameters: the hidden-to-hidden one becomes
/// mask ⊙ ∂L/∂(raw ⊙ mask), which is exactly the chain rule through the DropConnect product.
/// <para>Why a single packed output: TorchSharp hands a custom backward an empty-handle tensor for every output that
/// received no gradient (h_n and c_n usually are detached), and such wrappers stay counted as live tensors forever;
/// asking it to substitute zeros instead builds them from a cache owned by the forward's dispose scope, which crashes
/// the process when backward runs after that scope. With one output there is always exactly one, defined gradient.
/// The packing copies the output once (a few milliseconds per layer at full size).</para>
/// Double backward (create_graph) is not supported.
/// </remarks>
internal sealed class WeightDropLstmFunction : autograd.MultiTensorFunction<WeightDropLstmFunction>
{
    public override string Name => nameof(WeightDropLstm);

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var rawHiddenWeight = (Tensor)vars[1];
        var inputWeight = (Tensor)vars[2];
        var inputBias = (Tensor)vars[3];
        var hiddenBias = (Tensor)vars[4];
        var h0 = (Tensor)vars[5];
        var c0 = (Tensor)vars[6];
        var call = (WeightDropCall)vars[7];

        call.Workspace.Load(inputWeight, rawHiddenWeight, call.HiddenWeightMask, inputBias, hiddenBias);
        var graph = call.Workspace.RunWithGraph(input, h0, c0, call.HiddenWeightMask, call.OwnsMask, call.ParameterType);
        ctx.save_data("graph", graph);
        ctx.set_materialize_grads(false);
        using var cellAsStep = graph.Cell.transpose(0, 1);       // (batch, 1, hidden)
        return [cat([graph.Output, cellAsStep], 1)];             // (batch, seq + 1, hidden)
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        try
        {
            var graph = (WeightDropInnerGraph)ctx.get_data("graph");
            var g = graph.Backward(gradOutputs[0]);
            // One entry per forward argument; null where no gradient flows (state, the non-tensor call record).
            return [g.Input!, g.RawHiddenWeight!, g.InputWeight!, g.InputBias!, g.HiddenBias!, g.H0!, g.C0!, null!];
        }
        catch (Exception e)
        {
            // This runs inside libtorch's autograd engine: a managed exception escaping here would abort the process.
            // Instead, keep the reason and return empty gradients, which libtorch rejects with a catchable error at
            // the caller's backward() ("returned an invalid gradient at index 0 - got [0]").
            WeightDropLstm.LastBackwardFailure = e;
            return [.. Enumerable.Range(0, 7).Select(_ => empty(0)), null!];
        }
    }
}

/// <summary>Gradients of one weight-dropped LSTM call with respect to its inputs; null where an input needs none.</summary>
internal sealed record WeightDropGradients(
    Tensor? Input, Tensor? RawHiddenWeight, Tensor? InputWeight, Tensor? InputBias, Tensor? HiddenBias, Tensor? H0, Tensor? C0);

/// <summary>
/// The private graph recorded by one forward call on a workspace. It finishes when back-propagated once or when its
/// tensors are disposed (the caller's dispose scope ended); after that the workspace may be reused.
/// </summary>
internal sealed class WeightDropInnerGraph
{
    readonly NativeLstmWorkspace _workspace;
    readonly Tensor? _inputLeaf, _h0Leaf, _c0Leaf;
    readonly Tensor? _mask;
    readonly bool _ownsMask;
    readonly ScalarType _parameterType;
    bool _backwardDone;

    WeightDropInnerGraph(NativeLstmWorkspace workspace, Tensor? inputLeaf, Tensor? h0Leaf, Tensor? c0Leaf, Tensor? mask,
        bool ownsMask, ScalarType parameterType, Tensor output, Tensor cell)
    {
        _parameterType = parameterType;
        _workspace = workspace;
        _inputLeaf = inputLeaf;
        _h0Leaf = h0Leaf;
        _c0Leaf = c0Leaf;
        _mask = mask;
        _ownsMask = ownsMask;
        Output = output;
        Cell = cell;
    }

    public Tensor Output { get; }  // (batch, seq, hidden)
    public Tensor Cell { get; }    // (1, batch, hidden)

    public bool IsFinished => _backwardDone || Output.IsInvalid;

    public static WeightDropInnerGraph Record(NativeLstmWorkspace workspace, Tensor input, Tensor h0, Tensor c0, Tensor? mask, bool ownsMask,
        ScalarType parameterType)
    {
        // Fresh leaves cut from the outer graph: the outer node (WeightDropLstmFunction) owns the edges to the real
        // inputs, so the private graph must end here.
        Tensor? Leaf(Tensor t) => t.requires_grad ? t.detach().requires_grad_(true) : null;
        var inputLeaf = Leaf(input);
        var h0Leaf = Leaf(h0);
        var c0Leaf = Leaf(c0);
        using var _ = enable_grad();
        var (output, hidden, cell) = workspace.CallNative(inputLeaf ?? input, h0Leaf ?? h0, c0Leaf ?? c0);
        hidden.Dispose(); // equal to the last step of output, which carries its gradient
        return new WeightDropInnerGraph(workspace, inputLeaf, h0Leaf, c0Leaf, mask, ownsMask, parameterType, output, cell);
    }

    /// <summary>Back-propagates <paramref name="packedGrad"/>, the gradient of the packed output (batch, seq + 1, hidden).</summary>
    public WeightDropGradients Backward(Tensor packedGrad)
    {
        if (IsFinished)
            throw new InvalidOperationException(
                "WeightDropLstm: this forward pass was already back-propagated, or its tensors were disposed (its dispose " +
                "scope ended) before backward. Run backward once, inside the dispose scope of the forward pass.");
        // Differentiate only what needs a gradient: frozen weights (requires_grad off, mirrored by Load) and inputs
        // that are not leaves of the outer graph are skipped.
        var w = _workspace;
        Tensor?[] wrt = [w.InputWeight, w.HiddenWeight, w.InputBias, w.HiddenBias, _inputLeaf, _h0Leaf, _c0Leaf];
        var needed = wrt.Select((t, k) => (t, k)).Where(e => e.t is { requires_grad: true }).ToList();

        long steps = Output.shape[1];
        using var outputGrad = packedGrad.narrow(1, 0, steps);                  // (batch, seq, hidden)
        using var cellGrad = packedGrad.narrow(1, steps, 1).transpose(0, 1);    // (1, batch, hidden)
        var computed = autograd.grad([Output, Cell], needed.Select(e => e.t!).ToList(), [outputGrad, cellGrad],
            retain_graph: false, create_graph: false, allow_unused: false);
        var grads = new Tensor?[wrt.Length];
        for (int i = 0; i < needed.Count; i++) grads[needed[i].k] = computed[i];
        // A bf16 workspace yields bf16 weight gradients; the master weights take them in their own type (float32).
        for (int k = 0; k < 4; k++)
            if (grads[k] is { } g && g.dtype != _parameterType)
            {
                grads[k] = g.to(_parameterType);
                g.Dispose();
            }

        if (_mask is not null && grads[1] is { } maskedGrad)
        {
            // d(raw ⊙ m)/d(raw) = m: the dropped entries get no gradient, the kept ones are scaled like the forward.
            grads[1] = maskedGrad * _mask;
            maskedGrad.Dispose();
        }
        _backwardDone = true;
        Release();
        return new WeightDropGradients(grads[4], grads[1], grads[0], grads[2], grads[3], grads[5], grads[6]);
    }

    // The private graph's tensors are no longer needed once back-propagated; free them now rather than at scope end.
    void Release()
    {
        Output.Dispose();
        Cell.Dispose();
        _inputLeaf?.Dispose();
        _h0Leaf?.Dispose();
        _c0Leaf?.Dispose();
        if (_ownsMask) _mask?.Dispose();
    }
}
