using TorchSharp;
using static TorchSharp.torch;

namespace Ulmfit.IO;

/// <summary>
/// Copies a loaded state dict into a module, after checking that the names and shapes match the module's own
/// <c>state_dict()</c> exactly. A mismatch is one <see cref="ModelFileException"/> that lists the missing keys, the
/// unexpected keys and the shape differences together, instead of libtorch's first-error-only message or a silent
/// partial load.
/// </summary>
public static class ModuleWeights
{
    /// <summary>
    /// Copies <paramref name="weights"/> into <paramref name="module"/>'s parameters and buffers (values converted to
    /// the module's dtype and device; the module keeps its own tensors, so ties between them are kept).
    /// <paramref name="source"/> names where the weights came from, for the error message. Keys for which
    /// <paramref name="skip"/> returns true are neither required nor copied (for example the classifier head when only
    /// the encoder is transferred).
    /// </summary>
    public static void CopyInto(nn.Module module, IReadOnlyDictionary<string, Tensor> weights, string source, Func<string, bool>? skip = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(weights);
        skip ??= _ => false;
        Dictionary<string, Tensor> targets = module.state_dict();
        List<string> problems = Compare(targets, weights, skip);
        if (problems.Count > 0) throw new ModelFileException(source, $"weights do not fit the model: {string.Join("; ", problems)}");
        using var noGrad = no_grad();
        foreach ((string name, Tensor target) in targets)
        {
            if (skip(name)) continue;
            target.copy_(weights[name]);
        }
    }

    /// <summary>Every difference between the module's keys/shapes and <paramref name="weights"/> (empty when they match).</summary>
    public static IReadOnlyList<string> Differences(nn.Module module, IReadOnlyDictionary<string, Tensor> weights, Func<string, bool>? skip = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(weights);
        return Compare(module.state_dict(), weights, skip ?? (_ => false));
    }

    static List<string> Compare(Dictionary<string, Tensor> targets, IReadOnlyDictionary<string, Tensor> weights, Func<string, bool> skip)
    {
        var missing = targets.Keys.Where(k => !skip(k) && !weights.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var unexpected = weights.Keys.Where(k => !skip(k) && !targets.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var shapes = new List<string>();
        var types = new List<string>();
        foreach ((string name, Tensor target) in targets.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (skip(name) || !weights.TryGetValue(name, out Tensor? given)) continue;
            if (!given.shape.SequenceEqual(target.shape))
                shapes.Add($"{name} is [{string.Join(", ", given.shape)}] in the file, [{string.Join(", ", target.shape)}] in the model");
            else if (given.is_floating_point() != target.is_floating_point())
                types.Add($"{name} is {given.dtype} in the file, {target.dtype} in the model");
        }
        var problems = new List<string>();
        if (missing.Count > 0) problems.Add($"missing keys: {WeightShapeCheck.List(missing)}");
        if (unexpected.Count > 0) problems.Add($"unexpected keys: {WeightShapeCheck.List(unexpected)}");
        if (shapes.Count > 0) problems.Add($"shape mismatches: {WeightShapeCheck.List(shapes)}");
        if (types.Count > 0) problems.Add($"type mismatches: {WeightShapeCheck.List(types)}");
        return problems;
    }
}
