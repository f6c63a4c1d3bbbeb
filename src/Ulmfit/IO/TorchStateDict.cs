namespace Ulmfit.IO;

/// <summary>The tensors of a PyTorch state-dict file, by key in file order (see <see cref="TorchStateDictReader"/>).</summary>
public sealed class TorchStateDict
{
    internal TorchStateDict(string source, string format, bool wrapped, List<KeyValuePair<string, TorchTensorRecord>> tensors,
        IReadOnlyList<string> nonTensorKeys, IReadOnlyList<string> otherTopLevelKeys)
    {
        Source = source;
        Format = format;
        WasWrapped = wrapped;
        Keys = tensors.Select(kv => kv.Key).ToArray();
        Tensors = tensors.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        NonTensorKeys = nonTensorKeys;
        OtherTopLevelKeys = otherTopLevelKeys;
    }

    /// <summary>The file, as named by the caller.</summary>
    public string Source { get; }

    /// <summary><c>"zip"</c> (PyTorch ≥ 1.6 default) or <c>"legacy"</c> (the older non-zip pickle format).</summary>
    public string Format { get; }

    /// <summary>Whether the state dict was wrapped as <c>{'model': state_dict, …}</c> (fastai's learner saves).</summary>
    public bool WasWrapped { get; }

    /// <summary>Tensor keys in file order.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>Tensors by key.</summary>
    public IReadOnlyDictionary<string, TorchTensorRecord> Tensors { get; }

    /// <summary>State-dict keys whose values are not tensors (ignored).</summary>
    public IReadOnlyList<string> NonTensorKeys { get; }

    /// <summary>When wrapped, the wrapper's other keys (such as <c>opt</c>, the optimizer state; ignored).</summary>
    public IReadOnlyList<string> OtherTopLevelKeys { get; }
}
