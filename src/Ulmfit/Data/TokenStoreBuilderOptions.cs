namespace Ulmfit.Data;

/// <summary>How <see cref="TokenStoreBuilder"/> runs (none of it changes the output, so none of it is in the cache key).</summary>
public sealed record TokenStoreBuilderOptions
{
    /// <summary>Tokenizer threads (the CLI's <c>--threads</c>).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Documents per work item: large enough to amortise scheduling, small enough to balance threads.</summary>
    public int MaxBatchDocuments { get; init; } = 256;

    /// <summary>Characters per work item, so that a few huge documents do not make one giant batch.</summary>
    public long MaxBatchCharacters { get; init; } = 1 << 20;

    /// <summary>Receives <see cref="TokenizeProgress"/> at most every <see cref="ProgressInterval"/> and at the end of each phase.</summary>
    public IProgress<TokenizeProgress>? Progress { get; init; }

    /// <summary>Minimum time between two progress reports.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Throws <see cref="ArgumentException"/> with a message that says what to fix.</summary>
    public void Validate()
    {
        if (Threads < 1) throw new ArgumentException($"threads must be at least 1, got {Threads}", nameof(Threads));
        if (MaxBatchDocuments < 1) throw new ArgumentException($"batch size must be at least 1, got {MaxBatchDocuments}", nameof(MaxBatchDocuments));
        if (MaxBatchCharacters < 1) throw new ArgumentException($"batch characters must be at least 1, got {MaxBatchCharacters}", nameof(MaxBatchCharacters));
    }
}
