using System.Diagnostics;

namespace Ulmfit.Text;

/// <summary>How fast a tokenizer went over a set of documents.</summary>
/// <param name="Documents">Documents tokenized (the timed pass).</param>
/// <param name="Tokens">Tokens produced, markers included.</param>
/// <param name="Characters">UTF-16 characters of input.</param>
/// <param name="Threads">Threads used.</param>
/// <param name="Elapsed">Wall-clock time of the timed pass.</param>
public sealed record TokenizerThroughputResult(int Documents, long Tokens, long Characters, int Threads, TimeSpan Elapsed)
{
    /// <summary>Tokens per second of wall-clock time.</summary>
    public double TokensPerSecond => Tokens / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>Input megabytes (10^6 UTF-16 characters) per second.</summary>
    public double MegacharactersPerSecond => Characters / 1e6 / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>Measures tokenizer throughput; the numbers go into benchmark reports, not into tests.</summary>
public static class TokenizerThroughput
{
    /// <summary>
    /// Tokenizes <paramref name="texts"/> once untimed (JIT and caches warm up), then once timed with
    /// <see cref="UlmfitTokenizer.TokenizeMany"/> on <paramref name="threads"/> threads (0: all cores).
    /// </summary>
    public static TokenizerThroughputResult Measure(UlmfitTokenizer tokenizer, IReadOnlyList<string> texts, int threads = 0,
        bool warmUp = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(texts);
        int workers = threads > 0 ? threads : Environment.ProcessorCount;
        if (warmUp) tokenizer.TokenizeMany(texts, workers, cancellationToken);
        long characters = 0;
        foreach (string t in texts) characters += t.Length;
        var clock = Stopwatch.StartNew();
        IReadOnlyList<string>[] result = tokenizer.TokenizeMany(texts, workers, cancellationToken);
        clock.Stop();
        long tokens = 0;
        foreach (var doc in result) tokens += doc.Count;
        return new TokenizerThroughputResult(texts.Count, tokens, characters, workers, clock.Elapsed);
    }
}
