using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// A libtorch <c>nn.LSTM</c> (one layer, batch-first) used as a compute engine for <see cref="WeightDropLstm"/>.
/// </summary>
/// <remarks>
/// TorchSharp exposes no functional LSTM (no <c>torch.lstm(input, hx, weights)</c>), and the native module reads its
/// own registered weight tensors, which cannot be replaced by graph tensors. So the real parameters live in
/// <see cref="WeightDropLstm"/>, and before each call their values (the hidden-to-hidden one already multiplied by its
/// DropConnect mask) are copied into this module's tensors. <see cref="WeightDropLstmFunction"/> then maps the
/// native gradients back onto the real parameters. The copy costs a few milliseconds against a forward pass of
/// hundreds; the native kernel is about 2.5 times faster than a per-step loop of TorchSharp operations (measured
/// forward+backward, batch 64, 70 steps, 1152→1152, 2 threads: 1.55 s native, 4.0 s managed loop).
/// A workspace whose values a pending backward still needs must not be overwritten: libtorch would reject the
/// backward (in-place modification of a saved tensor). <see cref="NativeLstmWorkspacePool"/> hands out only free ones.
/// </remarks>
internal sealed class NativeLstmWorkspace : IDisposable
{
    readonly LSTM _lstm;
    WeakReference<WeightDropInnerGraph>? _pending;

    public NativeLstmWorkspace(long inputSize, long hiddenSize, ScalarType dtype, Device device)
    {
        // nn.LSTM draws initial weights (overwritten before every call) from libtorch's global generator. That draw
        // would shift every later dropout mask by when the workspace happens to be created: a resumed run creates
        // it on its first step, the run it continues had created it long before, so the two would drop different
        // units. Creating a workspace leaves the generator where it was.
        using (var generator = torch.random.get_rng_state())
        {
            try { _lstm = nn.LSTM(inputSize, hiddenSize, numLayers: 1, bias: true, batchFirst: true, device: device, dtype: dtype); }
            finally { torch.random.set_rng_state(generator); }
        }
        // named_parameters() makes new wrappers owned by the current dispose scope; these must live as long as we do.
        var byName = _lstm.named_parameters().ToDictionary(p => p.name, p => (Parameter)p.parameter.DetachFromDisposeScope());
        InputWeight = byName["weight_ih_l0"];
        HiddenWeight = byName["weight_hh_l0"];
        InputBias = byName["bias_ih_l0"];
        HiddenBias = byName["bias_hh_l0"];
        Dtype = dtype;
        Device = device;
    }

    public Parameter InputWeight { get; }   // (4*hidden, input), gates i, f, g, o
    public Parameter HiddenWeight { get; }  // (4*hidden, hidden): holds raw ⊙ mask during a call
    public Parameter InputBias { get; }     // (4*hidden)
    public Parameter HiddenBias { get; }    // (4*hidden)
    public ScalarType Dtype { get; }
    public Device Device { get; }

    /// <summary>True when no graph that may still be back-propagated reads this workspace's values.</summary>
    public bool IsFree => _pending is null || !_pending.TryGetTarget(out var graph) || graph.IsFinished;

    /// <summary>
    /// Copies the real parameters in; the hidden-to-hidden matrix is multiplied by <paramref name="hiddenWeightMask"/>
    /// (scaled keep-mask) when given. Each copy requires a gradient only if its original does, so a frozen layer
    /// (gradual unfreezing) back-propagates to its input without computing weight gradients.
    /// </summary>
    public void Load(Tensor inputWeight, Tensor rawHiddenWeight, Tensor? hiddenWeightMask, Tensor inputBias, Tensor hiddenBias)
    {
        using var _ = no_grad();
        InputWeight.copy_(inputWeight).requires_grad_(inputWeight.requires_grad);
        HiddenWeight.copy_(rawHiddenWeight).requires_grad_(rawHiddenWeight.requires_grad);
        if (hiddenWeightMask is not null) HiddenWeight.mul_(hiddenWeightMask);
        InputBias.copy_(inputBias).requires_grad_(inputBias.requires_grad);
        HiddenBias.copy_(hiddenBias).requires_grad_(hiddenBias.requires_grad);
    }

    /// <summary>Runs the loaded LSTM without recording a graph. input (batch, seq, in); state (1, batch, hidden) each.</summary>
    /// <remarks>
    /// Not under no_grad: with grad mode off, libtorch runs oneDNN's inference-only LSTM, which on some AVX-512 CPUs
    /// computes wrong outputs for some layer sizes (an AMD EPYC Zen 5 with libtorch 2.10: hidden 16, 48 and 400 off
    /// by 0.1–0.7, hidden 24, 32, 64, 128, 512 and 1152 right; every size right on AVX2 or with
    /// ONEDNN_MAX_CPU_ISA=AVX2), while the forward libtorch runs in grad mode is right everywhere. So the call runs in
    /// grad mode on tensors that require no gradient — the copies here and detached inputs — and records nothing.
    /// <c>NativeLstmInferenceTests</c> checks this path against a plain LSTM written out in tensor operations.
    /// </remarks>
    public (Tensor Output, Tensor Hidden, Tensor Cell) RunWithoutGraph(Tensor input, Tensor h0, Tensor c0)
    {
        InputWeight.requires_grad_(false);
        HiddenWeight.requires_grad_(false);
        InputBias.requires_grad_(false);
        HiddenBias.requires_grad_(false);
        using var x = input.detach();
        using var h = h0.detach();
        using var c = c0.detach();
        using var _ = enable_grad();
        return _lstm.call(x, (h, c));
    }

    /// <summary>Runs the loaded LSTM recording a private graph; this workspace stays busy until that graph finishes.</summary>
    public WeightDropInnerGraph RunWithGraph(Tensor input, Tensor h0, Tensor c0, Tensor? hiddenWeightMask, bool ownsMask,
        ScalarType parameterType)
    {
        var graph = WeightDropInnerGraph.Record(this, input, h0, c0, hiddenWeightMask, ownsMask, parameterType);
        _pending = new WeakReference<WeightDropInnerGraph>(graph);
        return graph;
    }

    internal (Tensor Output, Tensor Hidden, Tensor Cell) CallNative(Tensor input, Tensor h0, Tensor c0) => _lstm.call(input, (h0, c0));

    public void Dispose()
    {
        InputWeight.Dispose();
        HiddenWeight.Dispose();
        InputBias.Dispose();
        HiddenBias.Dispose();
        _lstm.Dispose();
    }
}

/// <summary>
/// Hands out <see cref="NativeLstmWorkspace"/>s that no pending backward depends on. Usually one suffices (one forward,
/// one backward per step); the pool grows to the number of forward passes awaiting backward at once (e.g. a
/// classifier running several BPTT chunks before one backward) and keeps them until disposed.
/// </summary>
internal sealed class NativeLstmWorkspacePool : IDisposable
{
    readonly List<NativeLstmWorkspace> _workspaces = [];
    readonly long _inputSize, _hiddenSize;

    public NativeLstmWorkspacePool(long inputSize, long hiddenSize)
    {
        _inputSize = inputSize;
        _hiddenSize = hiddenSize;
    }

    /// <summary>Workspaces created so far (for tests and diagnostics).</summary>
    public int Count => _workspaces.Count;

    public NativeLstmWorkspace Rent(ScalarType dtype, Device device)
    {
        // A dtype or device change (module.to(...)) makes the old workspaces useless.
        for (int i = _workspaces.Count - 1; i >= 0; i--)
        {
            var w = _workspaces[i];
            if ((w.Dtype != dtype || w.Device.type != device.type || w.Device.index != device.index) && w.IsFree)
            {
                w.Dispose();
                _workspaces.RemoveAt(i);
            }
        }
        foreach (var w in _workspaces)
            if (w.IsFree && w.Dtype == dtype && w.Device.type == device.type && w.Device.index == device.index) return w;
        var created = new NativeLstmWorkspace(_inputSize, _hiddenSize, dtype, device);
        _workspaces.Add(created);
        return created;
    }

    public void Dispose()
    {
        foreach (var w in _workspaces) w.Dispose();
        _workspaces.Clear();
    }
}
