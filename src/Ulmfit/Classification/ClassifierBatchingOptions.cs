using System.Globalization;

namespace Ulmfit.Classification;

/// <summary>How documents are grouped into classifier batches.</summary>
public sealed record ClassifierBatchingOptions
{
    /// <summary>Documents per batch at most (fastai's default <c>bs=64</c>).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Memory guard: a batch holds at most this many pooled tokens, counted as rows × min(longest row,
    /// MaxLength); batches of long documents get fewer rows. Gradients are kept for the pooled tokens only, so this
    /// bounds training memory (roughly 100 KB of activations per pooled token at 400/1152/3). Default: 64 rows of
    /// 400 tokens.</summary>
    public long MaxTokensPerBatch { get; init; } = 64 * 400;

    /// <summary>Training order: documents are shuffled, cut into chunks of this many batches, and sorted by length
    /// within each chunk (fastai's <c>SortishSampler</c> uses 50), so batches have little padding yet vary between
    /// epochs.</summary>
    public int SortChunkBatches { get; init; } = 50;

    /// <summary>Throws <see cref="ArgumentException"/> with a message that says what to fix.</summary>
    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentException(Invariant($"BatchSize must be at least 1, got {BatchSize}."));
        if (MaxTokensPerBatch < 1) throw new ArgumentException(Invariant($"MaxTokensPerBatch must be at least 1, got {MaxTokensPerBatch}."));
        if (SortChunkBatches < 1) throw new ArgumentException(Invariant($"SortChunkBatches must be at least 1, got {SortChunkBatches}."));
    }

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
