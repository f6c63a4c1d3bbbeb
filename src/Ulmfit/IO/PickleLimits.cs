namespace Ulmfit.IO;

/// <summary>
/// Caps <see cref="RestrictedUnpickler"/> enforces while it reads, so that a hostile pickle cannot make it allocate,
/// recurse or loop without bound. The defaults are far above what fastai's files need (a 60,000-word vocabulary is
/// about 60,000 memo entries and 600 KB of strings; a state dict pickle is a few kilobytes).
/// </summary>
public sealed record PickleLimits
{
    /// <summary>The defaults.</summary>
    public static PickleLimits Default { get; } = new();

    /// <summary>Most bytes one pickle may span.</summary>
    public long MaxPickleBytes { get; init; } = 256L << 20;

    /// <summary>Longest single string or byte string.</summary>
    public int MaxStringBytes { get; init; } = 16 << 20;

    /// <summary>Most bytes of strings and container slots allocated in total.</summary>
    public long MaxTotalAllocation { get; init; } = 1L << 30;

    /// <summary>Most memo entries.</summary>
    public int MaxMemoEntries { get; init; } = 4_000_000;

    /// <summary>Most values on the stack at once.</summary>
    public int MaxStackItems { get; init; } = 8_000_000;

    /// <summary>Most open MARKs at once.</summary>
    public int MaxMarks { get; init; } = 10_000;

    /// <summary>Deepest nesting of containers (a list in a dict in a tuple… counts 3).</summary>
    public int MaxNestingDepth { get; init; } = 100;

    /// <summary>Longest integer, in bytes of two's complement (PyTorch's magic number needs 10).</summary>
    public int MaxIntegerBytes { get; init; } = 64;

    /// <summary>Throws <see cref="ArgumentException"/> when a cap is not positive.</summary>
    public void Validate()
    {
        if (MaxPickleBytes <= 0 || MaxStringBytes <= 0 || MaxTotalAllocation <= 0 || MaxMemoEntries <= 0 || MaxStackItems <= 0
            || MaxMarks <= 0 || MaxNestingDepth <= 0 || MaxIntegerBytes <= 0)
            throw new ArgumentException("Every pickle limit must be positive.");
    }
}
