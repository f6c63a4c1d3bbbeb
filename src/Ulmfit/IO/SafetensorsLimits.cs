namespace Ulmfit.IO;

/// <summary>
/// Caps a safetensors reader enforces before it allocates anything, so that a hostile header cannot make it allocate
/// or loop without bound. The defaults fit every model this library trains or imports with a wide margin.
/// </summary>
public sealed record SafetensorsLimits
{
    /// <summary>The defaults.</summary>
    public static SafetensorsLimits Default { get; } = new();

    /// <summary>Largest JSON header accepted, in bytes (the reference implementation's cap: 100 MB).</summary>
    public long MaxHeaderBytes { get; init; } = 100_000_000;

    /// <summary>Most tensors one file may declare.</summary>
    public int MaxTensors { get; init; } = 100_000;

    /// <summary>Most dimensions one tensor may have.</summary>
    public int MaxRank { get; init; } = 16;

    /// <summary>Longest tensor name, in characters.</summary>
    public int MaxNameLength { get; init; } = 1_024;

    /// <summary>Largest single tensor, in bytes. A tensor is read into one engine buffer through a span, so this cannot
    /// exceed 2 GiB − 1; an AWD-LSTM embedding of 1 M tokens × 400 floats is 1.6 GB.</summary>
    public long MaxTensorBytes { get; init; } = int.MaxValue;

    /// <summary>Throws <see cref="ArgumentException"/> when a cap is not positive or beyond what the reader can do.</summary>
    public void Validate()
    {
        if (MaxHeaderBytes <= 0 || MaxHeaderBytes > int.MaxValue) throw new ArgumentException($"MaxHeaderBytes must be in [1, {int.MaxValue}], got {MaxHeaderBytes}.");
        if (MaxTensors <= 0) throw new ArgumentException($"MaxTensors must be positive, got {MaxTensors}.");
        if (MaxRank <= 0) throw new ArgumentException($"MaxRank must be positive, got {MaxRank}.");
        if (MaxNameLength <= 0) throw new ArgumentException($"MaxNameLength must be positive, got {MaxNameLength}.");
        if (MaxTensorBytes <= 0 || MaxTensorBytes > int.MaxValue) throw new ArgumentException($"MaxTensorBytes must be in [1, {int.MaxValue}], got {MaxTensorBytes}.");
    }
}
