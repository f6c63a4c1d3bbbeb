using Ulmfit.Modeling;

namespace Ulmfit.Training;

/// <summary>
/// Freezes and unfreezes whole layer groups (ULMFiT's gradual unfreezing acts only on groups): a frozen group's
/// parameters stop requiring gradients, and any gradient they still hold is dropped, so the optimizer (which skips
/// parameters without a gradient) neither moves nor weight-decays them.
/// </summary>
public sealed class LayerGroupFreezer(IReadOnlyList<LayerGroup> groups)
{
    readonly IReadOnlyList<LayerGroup> _groups = groups ?? throw new ArgumentNullException(nameof(groups));

    /// <summary>Number of groups.</summary>
    public int Count => _groups.Count;

    /// <summary>For each group (input side first): whether all of its parameters train.</summary>
    public IReadOnlyList<bool> Trainable => [.. _groups.Select(g => g.Parameters.All(p => p.requires_grad))];

    /// <summary>Trains only the last (output-side) <paramref name="trainableGroups"/> groups and freezes the rest.</summary>
    public void FreezeAllButLast(int trainableGroups)
    {
        if (trainableGroups < 1 || trainableGroups > _groups.Count)
            throw new ArgumentOutOfRangeException(nameof(trainableGroups), trainableGroups,
                $"the model has {_groups.Count} layer groups; between 1 and {_groups.Count} can train");
        for (int i = 0; i < _groups.Count; i++) SetTrainable(i, i >= _groups.Count - trainableGroups);
    }

    /// <summary>Trains every group.</summary>
    public void UnfreezeAll()
    {
        for (int i = 0; i < _groups.Count; i++) SetTrainable(i, true);
    }

    /// <summary>Sets whether group <paramref name="index"/> trains.</summary>
    public void SetTrainable(int index, bool trainable)
    {
        foreach (var parameter in _groups[index].Parameters)
        {
            parameter.requires_grad = trainable;
            if (!trainable) DropGradient(parameter);
        }
    }

    static void DropGradient(TorchSharp.Modules.Parameter parameter)
    {
        var gradient = parameter.grad;
        if (gradient is null) return;
        parameter.grad = null;
        gradient.Dispose();
    }
}
