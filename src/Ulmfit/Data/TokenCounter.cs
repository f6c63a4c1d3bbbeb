using System.Runtime.InteropServices;
using Ulmfit.Text;

namespace Ulmfit.Data;

/// <summary>
/// Token frequencies, the input of <see cref="Vocabulary.Build"/>. Not thread-safe by itself: count on each
/// thread into its own counter and <see cref="MergeFrom"/> them (addition commutes, so the result does not
/// depend on the thread schedule); <see cref="Count"/> does exactly that.
/// </summary>
public sealed class TokenCounter
{
    readonly Dictionary<string, long> counts = new(StringComparer.Ordinal);

    /// <summary>Distinct tokens seen.</summary>
    public int DistinctTokens => counts.Count;

    /// <summary>All occurrences counted.</summary>
    public long TotalTokens { get; private set; }

    /// <summary>Frequency of every token seen.</summary>
    public IReadOnlyDictionary<string, long> Counts => counts;

    /// <summary>Occurrences of <paramref name="token"/> (0 if never seen).</summary>
    public long this[string token] => counts.GetValueOrDefault(token);

    /// <summary>Counts <paramref name="count"/> more occurrences of <paramref name="token"/>.</summary>
    public void Add(string token, long count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        CollectionsMarshal.GetValueRefOrAddDefault(counts, token, out _) += count;
        TotalTokens += count;
    }

    /// <summary>Counts every token of <paramref name="tokens"/> once.</summary>
    public void Add(IEnumerable<string> tokens)
    {
        foreach (string token in tokens) Add(token);
    }

    /// <summary>Adds all of <paramref name="other"/>'s counts to this counter.</summary>
    public void MergeFrom(TokenCounter other)
    {
        foreach (var (token, count) in other.counts) Add(token, count);
    }

    /// <summary>Tokenizes and counts <paramref name="documents"/> on <paramref name="threads"/> threads, one counter per thread.</summary>
    public static TokenCounter Count(IEnumerable<TextDocument> documents, ITextTokenizer tokenizer, int threads,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var total = new TokenCounter();
        var gate = new object();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
        Parallel.ForEach(documents, parallel,
            () => new TokenCounter(),
            (document, _, local) =>
            {
                local.Add(tokenizer.Tokenize(document));
                return local;
            },
            local =>
            {
                lock (gate) total.MergeFrom(local);
            });
        return total;
    }
}
