using TorchSharp;
using static TorchSharp.torch;

namespace Ulmfit.Training;

/// <summary>An in-memory copy of a module's state dict (parameters and buffers), to put the weights back after an
/// experiment such as the learning-rate sweep.</summary>
internal sealed class WeightSnapshot : IDisposable
{
    readonly Dictionary<string, Tensor> _copies;

    WeightSnapshot(Dictionary<string, Tensor> copies) => _copies = copies;

    public static WeightSnapshot Take(nn.Module module)
    {
        var copies = new Dictionary<string, Tensor>();
        using (no_grad())
        {
            foreach (var (name, value) in module.state_dict())
            {
                using var detached = value.detach(); // a view: dispose it, keep only the clone
                copies[name] = detached.clone().DetachFromDisposeScope();
            }
        }
        return new WeightSnapshot(copies);
    }

    /// <summary>Copies the saved values back into the module's own tensors (in place, so optimizers and layer groups
    /// that hold the parameters keep working).</summary>
    public void Restore(nn.Module module)
    {
        using var _ = no_grad();
        foreach (var (name, value) in module.state_dict())
        {
            if (!_copies.TryGetValue(name, out var saved))
                throw new InvalidOperationException($"the module gained a tensor '{name}' after the snapshot");
            value.copy_(saved);
        }
    }

    public void Dispose()
    {
        foreach (var t in _copies.Values) t.Dispose();
        _copies.Clear();
    }
}
