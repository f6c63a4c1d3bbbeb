namespace Ulmfit.Data;

/// <summary>Progress of a tokenization, reported through <see cref="IProgress{T}"/> a few times a second.</summary>
/// <param name="Phase"><c>tokenizing</c> (reading, tokenizing, counting) or <c>writing</c> (second pass that maps ids
/// to a vocabulary built from the corpus).</param>
/// <param name="Documents">Documents done in this phase.</param>
/// <param name="Tokens">Tokens done in this phase.</param>
/// <param name="Elapsed">Time since the build started.</param>
public sealed record TokenizeProgress(string Phase, long Documents, long Tokens, TimeSpan Elapsed);

/// <summary>What a tokenization produced (the CLI's <c>tokenize --json</c> summary).</summary>
/// <param name="Documents">Documents in the store.</param>
/// <param name="Tokens">Tokens in the store.</param>
/// <param name="TokensPerSecond"><see cref="Tokens"/> / <see cref="Elapsed"/>. For a cache hit this is the rate of the
/// check, not of a tokenization (see <see cref="FromCache"/>).</param>
/// <param name="VocabSize">Size of the vocabulary the ids index.</param>
/// <param name="SkippedRows">Empty rows skipped while reading.</param>
/// <param name="UnknownTokens">Tokens mapped to <c>xxunk</c>.</param>
/// <param name="Elapsed">Wall time of this call.</param>
/// <param name="FromCache">Whether an existing store was reused instead of tokenizing.</param>
public sealed record TokenizeSummary(
    int Documents,
    long Tokens,
    double TokensPerSecond,
    int VocabSize,
    int SkippedRows,
    long UnknownTokens,
    TimeSpan Elapsed,
    bool FromCache)
{
    internal static double Rate(long tokens, TimeSpan elapsed) => elapsed.TotalSeconds > 0 ? tokens / elapsed.TotalSeconds : 0;
}

/// <summary>A store built together with its vocabulary.</summary>
public sealed record TokenStoreBuildResult(Vocabulary Vocabulary, TokenizeSummary Summary);
