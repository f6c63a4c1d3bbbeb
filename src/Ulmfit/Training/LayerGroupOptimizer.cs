using TorchSharp;
using TorchSharp.Modules;
using Ulmfit.Modeling;

namespace Ulmfit.Training;

/// <summary>
/// AdamW with one parameter group per layer group, so each group can have its own learning rate (discriminative
/// fine-tuning) and a schedule can set them all, and β1, at every step. Frozen parameters (no gradient) are skipped
/// by the update, weight decay included.
/// </summary>
public sealed class LayerGroupOptimizer : IDisposable
{
    readonly AdamW _adam;
    readonly AdamW.ParamGroup[] _groups;
    readonly IReadOnlyList<Parameter> _parameters;

    /// <summary>Builds AdamW over <paramref name="layerGroups"/> (input side first).</summary>
    /// <param name="layerGroups">The model's layer groups; a parameter may appear in only one.</param>
    /// <param name="settings">AdamW constants.</param>
    /// <param name="groupFactor">Learning rates fall by this factor per group towards the input (2.6 in the paper).</param>
    public LayerGroupOptimizer(IReadOnlyList<LayerGroup> layerGroups, AdamWSettings settings, double groupFactor = DiscriminativeLearningRates.PaperFactor)
    {
        ArgumentNullException.ThrowIfNull(layerGroups);
        ArgumentNullException.ThrowIfNull(settings);
        if (layerGroups.Count == 0) throw new ArgumentException("the model has no layer groups", nameof(layerGroups));
        settings.Validate();
        CheckEachParameterOnce(layerGroups);
        Settings = settings;
        GroupFactor = groupFactor;
        _groups = [.. layerGroups.Select(g => new AdamW.ParamGroup(g.Parameters, lr: 0, beta1: settings.Beta1,
            beta2: settings.Beta2, eps: settings.Epsilon, weight_decay: settings.WeightDecay))];
        _adam = torch.optim.AdamW(_groups, lr: 0, beta1: settings.Beta1, beta2: settings.Beta2, eps: settings.Epsilon,
            weight_decay: settings.WeightDecay);
        _parameters = [.. layerGroups.SelectMany(g => g.Parameters)];
    }

    /// <summary>The AdamW constants.</summary>
    public AdamWSettings Settings { get; }

    /// <summary>Factor between neighbouring groups' learning rates.</summary>
    public double GroupFactor { get; }

    /// <summary>Number of parameter groups (= layer groups).</summary>
    public int GroupCount => _groups.Length;

    /// <summary>Each group's current learning rate, input side first.</summary>
    public IReadOnlyList<double> LearningRates => [.. _groups.Select(g => g.LearningRate)];

    /// <summary>Each group's current β1.</summary>
    public IReadOnlyList<double> Beta1s => [.. _groups.Select(g => g.Betas.Item1)];

    /// <summary>Sets the top group's rate to <paramref name="values"/>.LearningRate and the lower groups' rates
    /// discriminatively below it; sets β1 of every group to the momentum when the schedule gives one.</summary>
    public void Apply(ScheduleValues values)
    {
        var rates = DiscriminativeLearningRates.ForGroups(_groups.Length, values.LearningRate, GroupFactor);
        for (int i = 0; i < _groups.Length; i++)
        {
            _groups[i].LearningRate = rates[i];
            if (values.Momentum is double momentum) _groups[i].Betas = (momentum, _groups[i].Betas.Item2);
        }
    }

    /// <summary>Rescales the gradients of the trainable parameters so their global L2 norm is at most
    /// <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public double ClipGradients(double maxNorm)
    {
        var withGradients = _parameters.Where(p => p.requires_grad && p.grad is not null).ToList();
        return withGradients.Count == 0 ? 0 : torch.nn.utils.clip_grad_norm_(withGradients, maxNorm);
    }

    /// <summary>One AdamW update of every parameter that has a gradient.</summary>
    public void Step() => _adam.step();

    /// <summary>Drops all gradients (PyTorch's set-to-none): cheaper than zeroing, and a parameter frozen later keeps
    /// no stale gradient that the optimizer would still apply.</summary>
    public void ClearGradients()
    {
        foreach (var parameter in _parameters)
        {
            var gradient = parameter.grad;
            if (gradient is null) continue;
            parameter.grad = null;
            gradient.Dispose();
        }
    }

    /// <summary>Writes the moments, step counts and group settings (TorchSharp's optimizer state format).</summary>
    public void Save(string path) => _adam.save_state_dict(path);

    /// <summary>Reads state written by <see cref="Save"/> from an optimizer over the same groups.</summary>
    public void Load(string path)
    {
        try { _adam.load_state_dict(path); }
        catch (Exception e) when (e is ArgumentException or EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: optimizer state does not match this model's layer groups ({e.Message})", e);
        }
    }

    /// <summary>The first and second moment of <paramref name="parameter"/> (copies; the caller disposes them), or
    /// null before its first update. For tests and diagnostics.</summary>
    public (torch.Tensor ExpAvg, torch.Tensor ExpAvgSq, long Step)? MomentsOf(Parameter parameter)
    {
        var states = _adam.state_dict().State;
        int index = 0;
        foreach (var group in _groups)
        {
            foreach (var p in group.Parameters)
            {
                if (p.Handle == parameter.Handle && states[index] is AdamW.State state)
                    return state.step == 0 ? null : (state.exp_avg.clone(), state.exp_avg_sq.clone(), state.step);
                index++;
            }
        }
        throw new ArgumentException("the parameter is not in this optimizer", nameof(parameter));
    }

    public void Dispose() => _adam.Dispose();

    static void CheckEachParameterOnce(IReadOnlyList<LayerGroup> layerGroups)
    {
        var seen = new Dictionary<IntPtr, string>();
        foreach (var group in layerGroups)
            foreach (var parameter in group.Parameters)
                if (!seen.TryAdd(parameter.Handle, group.Name))
                    throw new ArgumentException(
                        $"a parameter is in both layer group '{seen[parameter.Handle]}' and '{group.Name}'; a tied weight must be listed once");
    }
}
