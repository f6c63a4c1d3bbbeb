using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// A single-layer, batch-first LSTM whose hidden-to-hidden matrix gets DropConnect (weight dropout, Wan et al. 2013,
/// as in AWD-LSTM): in training, every forward call samples a fresh Bernoulli mask over the matrix's entries, scaled by
/// 1/(1-p), and runs with raw ⊙ mask. In eval mode the raw matrix is used as is.
/// </summary>
/// <remarks>
/// Parameters (stable state-dict keys; renaming breaks saved models), PyTorch's names and shapes, gates in PyTorch's
/// order i, f, g, o along the first dimension (so fastai weights import row for row):
/// <c>weight_ih_l0</c> (4·hidden, input), <c>weight_hh_l0_raw</c> (4·hidden, hidden), <c>bias_ih_l0</c> (4·hidden),
/// <c>bias_hh_l0</c> (4·hidden). fastai stores the same tensors as <c>weight_hh_l0_raw</c> and
/// <c>module.weight_ih_l0</c>, <c>module.bias_ih_l0</c>, <c>module.bias_hh_l0</c> (plus a derived
/// <c>module.weight_hh_l0</c> that carries no information). The computation runs on libtorch's native LSTM kernel;
/// see <see cref="NativeLstmWorkspace"/> for how the masked weight reaches it and the gradient comes back.
/// Not thread-safe: one forward pass at a time per layer.
/// </remarks>
public sealed class WeightDropLstm : nn.Module, IComputePrecisionLayer, IRecurrentLayer<LstmState>
{
    // Field names are the parameter names: TorchSharp registers and moves (module.to) parameters by field name.
#pragma warning disable IDE1006 // PyTorch naming, on purpose
    Parameter weight_ih_l0;
    Parameter weight_hh_l0_raw;
    Parameter bias_ih_l0;
    Parameter bias_hh_l0;
#pragma warning restore IDE1006
    readonly NativeLstmWorkspacePool _workspaces;
    ComputePrecision _precision;
    Int8LstmKernel? _int8;  // packed on the first int8 forward, dropped whenever the precision is set

    /// <summary>
    /// Creates the layer with PyTorch's LSTM initialisation: every parameter uniform in ±1/√hidden.
    /// </summary>
    public WeightDropLstm(long inputSize, long hiddenSize, double weightDropout, string name = nameof(WeightDropLstm)) : base(name)
    {
        RecurrentLayerArguments.Validate(inputSize, hiddenSize, weightDropout);
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        WeightDropout = weightDropout;

        double bound = 1.0 / Math.Sqrt(hiddenSize);
        Parameter Uniform(params long[] shape)
        {
            using var _ = no_grad();
            // Parameters outlive any dispose scope the model happens to be built in.
            var p = new Parameter(empty(shape).uniform_(-bound, bound));
            p.DetachFromDisposeScope();
            return p;
        }
        weight_ih_l0 = Uniform(4 * hiddenSize, inputSize);
        weight_hh_l0_raw = Uniform(4 * hiddenSize, hiddenSize);
        bias_ih_l0 = Uniform(4 * hiddenSize);
        bias_hh_l0 = Uniform(4 * hiddenSize);
        _workspaces = new NativeLstmWorkspacePool(inputSize, hiddenSize);
        RegisterComponents();
    }

    /// <summary>Features per input step.</summary>
    public long InputSize { get; }

    /// <summary>Features per output step (and per state vector).</summary>
    public long HiddenSize { get; }

    /// <summary>DropConnect probability on the hidden-to-hidden matrix (training only).</summary>
    public double WeightDropout { get; }

    /// <inheritdoc />
    /// <remarks>With bf16 the native LSTM runs on a bfloat16 workspace: the float32 parameters are copied (rounded) into
    /// it before each call, the input and state are cast, and the weight gradients are cast back to float32 before
    /// they reach the parameters. The output and the carried state are bf16. With int8 (inference only) the weights are
    /// quantized and packed once, on the first forward call after the precision was set: setting the precision again
    /// (to any value) is what makes later weight changes visible to the int8 kernel.</remarks>
    public ComputePrecision Precision
    {
        get => _precision;
        set
        {
            _int8?.Dispose();
            _int8 = null;
            _precision = value;
        }
    }

    /// <summary><c>weight_ih_l0</c>, (4·hidden, input), gate blocks i, f, g, o.</summary>
    public Parameter InputWeight => weight_ih_l0;

    /// <summary><c>weight_hh_l0_raw</c>, (4·hidden, hidden): the matrix before DropConnect.</summary>
    public Parameter RawHiddenWeight => weight_hh_l0_raw;

    /// <summary><c>bias_ih_l0</c>, (4·hidden).</summary>
    public Parameter InputBias => bias_ih_l0;

    /// <summary><c>bias_hh_l0</c>, (4·hidden).</summary>
    public Parameter HiddenBias => bias_hh_l0;

    /// <summary>The four trainable tensors, in state-dict order.</summary>
    public IReadOnlyList<Parameter> Weights => [weight_ih_l0, weight_hh_l0_raw, bias_ih_l0, bias_hh_l0];

    /// <summary>
    /// Why the last failed backward through a <see cref="WeightDropLstm"/> failed. The gradient is computed inside
    /// libtorch's autograd engine, where an exception cannot be raised; a failure there surfaces at the caller's
    /// <c>backward()</c> as libtorch's "returned an invalid gradient at index 0 - got [0]" error, and this property
    /// holds the actual reason (typically: backward ran after the forward pass's dispose scope had ended).
    /// </summary>
    public static Exception? LastBackwardFailure { get; internal set; }

    /// <summary>Native workspaces created so far (diagnostics: stays 1 when every forward is followed by its backward).</summary>
    internal int WorkspaceCount => _workspaces.Count;

    /// <summary>
    /// Runs the layer over <paramref name="input"/> (batch, seq, input) from <paramref name="state"/> (zeros when null).
    /// Returns the output (batch, seq, hidden) and the final state (1, batch, hidden) each, attached to the graph.
    /// Back-propagate once, inside the dispose scope of this call (the layer's private graph lives in that scope);
    /// several calls may be back-propagated together.
    /// </summary>
    public (Tensor Output, LstmState State) Forward(Tensor input, LstmState? state = null)
    {
        Tensor? mask = training && WeightDropout > 0 ? SampleHiddenWeightMask() : null;
        return Forward(input, state, mask, ownsMask: true);
    }

    /// <summary>The same with a given scaled keep-mask (0 or 1/(1-p), shape of the raw matrix), or none.</summary>
    internal (Tensor Output, LstmState State) Forward(Tensor input, LstmState? state, Tensor? hiddenWeightMask) =>
        Forward(input, state, hiddenWeightMask, ownsMask: false);

    (Tensor Output, LstmState State) Forward(Tensor input, LstmState? state, Tensor? mask, bool ownsMask)
    {
        if (input.dim() != 3 || input.shape[2] != InputSize || input.shape[1] == 0)
            throw new ArgumentException($"{GetName()} expects input (batch, seq > 0, {InputSize}), got [{string.Join(", ", input.shape)}].");
        long batch = input.shape[0];
        if (state is { } s && (s.Hidden.dim() != 3 || s.Hidden.shape[1] != batch || s.Hidden.shape[2] != HiddenSize
                               || !s.Cell.shape.SequenceEqual(s.Hidden.shape)))
            throw new ArgumentException($"{GetName()} expects state (1, {batch}, {HiddenSize}), got [{string.Join(", ", s.Hidden.shape)}].");
        bool needsGraph = is_grad_enabled() && (input.requires_grad || Weights.Any(p => p.requires_grad));
        if (Precision == ComputePrecision.Int8) return ForwardInt8(input, state, mask, ownsMask, needsGraph);
        var dtype = Precision.ComputeType(weight_ih_l0.dtype);
        var h0 = state is { } s0 ? InType(s0.Hidden, dtype) : zeros(1, batch, HiddenSize, dtype: dtype, device: input.device);
        var c0 = state is { } s1 ? InType(s1.Cell, dtype) : zeros(1, batch, HiddenSize, dtype: dtype, device: input.device);
        // A new handle (an alias when no cast is needed), so disposing it never touches the caller's tensor.
        using var x = input.to(dtype);                                         // (batch, seq, input)

        var workspace = _workspaces.Rent(dtype, weight_ih_l0.device);
        if (!needsGraph)
        {
            workspace.Load(weight_ih_l0, weight_hh_l0_raw, mask, bias_ih_l0, bias_hh_l0);
            if (ownsMask) mask?.Dispose();
            var (y, hn, cn) = workspace.RunWithoutGraph(x, h0, c0);
            return (y, new LstmState(hn, cn));
        }
        using var packed = WeightDropLstmFunction.apply(x, weight_hh_l0_raw, weight_ih_l0, bias_ih_l0, bias_hh_l0, h0, c0,
            new WeightDropCall(workspace, mask, ownsMask, weight_hh_l0_raw.dtype))[0]; // (batch, seq + 1, hidden)
        long steps = input.shape[1];
        var output = packed.narrow(1, 0, steps);                              // (batch, seq, hidden)
        var hidden = output.narrow(1, steps - 1, 1).transpose(0, 1);          // (1, batch, hidden): h_n = last output
        var cell = packed.narrow(1, steps, 1).transpose(0, 1);                // (1, batch, hidden)
        return (output, new LstmState(hidden, cell));
    }

    (Tensor Output, LstmState State) ForwardInt8(Tensor input, LstmState? state, Tensor? mask, bool ownsMask, bool needsGraph)
    {
        if (ownsMask) mask?.Dispose();
        if (training || needsGraph)
            throw new InvalidOperationException($"{GetName()}: int8 compute is for inference only; call eval() and run under no_grad(), or train in fp32 or bf16.");
        _int8 ??= Int8LstmKernel.Pack(weight_ih_l0, weight_hh_l0_raw, bias_ih_l0, bias_hh_l0);
        var (output, hidden, cell) = _int8.Forward(input, state?.Hidden, state?.Cell, get_num_threads());
        return (output, new LstmState(hidden, cell));
    }

    // A state carried from a call in another precision (or restored from a checkpoint) is cast to this call's type.
    static Tensor InType(Tensor t, ScalarType dtype) => t.dtype == dtype ? t : t.to(dtype);

    Tensor SampleHiddenWeightMask()
    {
        using var _ = no_grad();
        return empty_like(weight_hh_l0_raw).bernoulli_(1 - WeightDropout).div_(1 - WeightDropout);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _workspaces.Dispose();
            _int8?.Dispose();
        }
        base.Dispose(disposing);
    }
}
