using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// One quasi-recurrent layer (Bradbury et al. 2016, window 2, output gate, as in MultiFiT): the gates come from a
/// causal convolution of width 2 over time — a single linear map of [x_{t−1}; x_t] to 3·hidden values split into
/// z = tanh, f = sigmoid, o = sigmoid — and the only recurrence is element-wise:
/// c_t = f_t·z_t + (1 − f_t)·c_{t−1} (<see cref="ForgetMultFunction"/>), h_t = o_t·c_t.
/// </summary>
/// <remarks>
/// In training the gate weight gets DropConnect (MultiFiT's counterpart of the AWD-LSTM's weight drop): every forward
/// call samples a fresh Bernoulli mask over its entries, scaled by 1/(1−p). In eval mode the raw weight is used.
/// <para>Parameters (stable state-dict keys; renaming breaks saved models): <c>gate_weight_raw</c>
/// (3·hidden, 2·input) — rows gate blocks z, f, o; columns x_{t−1} then x_t (fastai's order, so its
/// <c>layers.0.linear.weight_raw</c> maps one to one) — and <c>gate_bias</c> (3·hidden). Initialised like a PyTorch
/// linear layer: uniform in ±1/√(2·input).</para>
/// Not thread-safe: one forward pass at a time.
/// </remarks>
public sealed class QrnnLayer : nn.Module, IComputePrecisionLayer, IRecurrentLayer<QrnnState>
{
#pragma warning disable IDE1006 // field names are state-dict keys
    Parameter gate_weight_raw;
    Parameter gate_bias;
#pragma warning restore IDE1006

    /// <summary>Creates the layer; <paramref name="weightDropout"/> is the DropConnect probability on the gate weight.</summary>
    public QrnnLayer(long inputSize, long hiddenSize, double weightDropout, string name = nameof(QrnnLayer)) : base(name)
    {
        RecurrentLayerArguments.Validate(inputSize, hiddenSize, weightDropout);
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        WeightDropout = weightDropout;

        double bound = 1.0 / Math.Sqrt(2 * inputSize);
        Parameter Uniform(params long[] shape)
        {
            using var _ = no_grad();
            var p = new Parameter(empty(shape).uniform_(-bound, bound));
            p.DetachFromDisposeScope(); // parameters outlive any dispose scope the model is built in
            return p;
        }
        gate_weight_raw = Uniform(3 * hiddenSize, 2 * inputSize);
        gate_bias = Uniform(3 * hiddenSize);
        RegisterComponents();
    }

    /// <summary>Features per input step.</summary>
    public long InputSize { get; }

    /// <summary>Features per output step (and of the cell state).</summary>
    public long HiddenSize { get; }

    /// <summary>DropConnect probability on the gate weight (training only).</summary>
    public double WeightDropout { get; }

    /// <summary><c>gate_weight_raw</c>, (3·hidden, 2·input), before DropConnect.</summary>
    public Parameter RawGateWeight => gate_weight_raw;

    /// <summary><c>gate_bias</c>, (3·hidden).</summary>
    public Parameter GateBias => gate_bias;

    /// <summary>The two trainable tensors, in state-dict order.</summary>
    public IReadOnlyList<Parameter> Weights => [gate_weight_raw, gate_bias];

    /// <summary>
    /// Runs the layer over <paramref name="input"/> (batch, seq, input) from <paramref name="state"/> (zeros when
    /// null). Returns the output h (batch, seq, hidden) and the final state (views into this call's tensors, attached
    /// to the graph: detach them before keeping them).
    /// </summary>
    public (Tensor Output, QrnnState State) Forward(Tensor input, QrnnState? state = null)
    {
        if (input.dim() != 3 || input.shape[2] != InputSize || input.shape[1] == 0)
            throw new ArgumentException($"{GetName()} expects input (batch, seq > 0, {InputSize}), got [{string.Join(", ", input.shape)}].");
        long batch = input.shape[0], steps = input.shape[1];
        if (state is { } s && (!s.LastInput.shape.SequenceEqual([batch, 1, InputSize]) || !s.Cell.shape.SequenceEqual([batch, HiddenSize])))
            throw new ArgumentException($"{GetName()} expects state ({batch}, 1, {InputSize}) and ({batch}, {HiddenSize}), got " +
                $"[{string.Join(", ", s.LastInput.shape)}] and [{string.Join(", ", s.Cell.shape)}].");

        using var gates = Gates(input, state?.LastInput);                 // (batch, seq, 3·hidden)
        var blocks = gates.chunk(3, 2);
        using var candidate = blocks[0].tanh();                          // z (batch, seq, hidden)
        using var forget = blocks[1].sigmoid();                          // f
        using var outputGate = blocks[2].sigmoid();                      // o
        foreach (var b in blocks) b.Dispose();

        using var zeroCell = state is null ? zeros(batch, HiddenSize, dtype: forget.dtype, device: forget.device) : null;
        var initial = state?.Cell ?? zeroCell!;                          // (batch, hidden)
        bool needsGraph = is_grad_enabled() && (forget.requires_grad || candidate.requires_grad || initial.requires_grad);
        using var cells = needsGraph
            ? ForgetMultFunction.Apply(forget, candidate, initial)
            : ForgetMultFunction.Scan(forget, candidate, initial);       // c (batch, seq, hidden)
        var output = outputGate * cells;                                 // h (batch, seq, hidden)
        var next = new QrnnState(input.narrow(1, steps - 1, 1), cells.select(1, steps - 1));
        return (output, next);
    }

    /// <summary>Under <see cref="ComputePrecision.BFloat16"/> the gate product runs in bfloat16 on casts of the float32
    /// weights; the gates come back in float32, so the forget-mult recurrence and the cell state stay float32.</summary>
    public ComputePrecision Precision { get; set; }

    /// <summary>The gate pre-activations for the window [x_{t−1}; x_t] of every step: (batch, seq, 3·hidden).</summary>
    Tensor Gates(Tensor input, Tensor? lastInput)
    {
        long batch = input.shape[0], steps = input.shape[1];
        using var zeroStep = lastInput is null ? zeros(batch, 1, InputSize, dtype: input.dtype, device: input.device) : null;
        // A state carried from a call in another precision is brought to this call's input type.
        using var converted = lastInput is not null && lastInput.dtype != input.dtype ? lastInput.to(input.dtype) : null;
        var before = converted ?? lastInput ?? zeroStep!;                 // (batch, 1, input): x_0 of this call
        using var earlier = steps == 1 ? null : input.narrow(1, 0, steps - 1);
        using var shifted = earlier is null ? before.alias() : cat([before, earlier], 1);   // (batch, seq, input): x_{t−1}
        using var window = cat([shifted, input], 2);                     // (batch, seq, 2·input)
        bool drop = training && WeightDropout > 0;
        using var dropped = drop ? nn.functional.dropout(gate_weight_raw, WeightDropout, training: true) : null;
        // The one matrix product of the layer, and so the one place the compute precision applies.
        var weight = dropped ?? gate_weight_raw;
        if (Precision == ComputePrecision.Fp32 && window.dtype == weight.dtype) return nn.functional.linear(window, weight, gate_bias);
        using var x = window.to(Precision.ComputeType(weight.dtype));    // (batch, seq, 2·input)
        using var w = weight.CastTo(Precision);                          // (3·hidden, 2·input)
        using var b = gate_bias.CastTo(Precision);                       // (3·hidden)
        using var gates = nn.functional.linear(x, w, b);                 // (batch, seq, 3·hidden)
        return gates.to(gate_bias.dtype);                                // float32 for the recurrence
    }
}
