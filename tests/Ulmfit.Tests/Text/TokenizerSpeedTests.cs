using System.Diagnostics;
using System.Text;
using Ulmfit.Text;

namespace Ulmfit.Tests.Text;

/// <summary>
/// A single 10 MB document takes linear time: ordinary prose, and a mix of inputs that would make a naive scanner
/// rescan (no white space for megabytes, addresses, repeats, dots, apostrophes). Bounds are loose because the
/// machine is shared; a quadratic pass would take minutes, not seconds.
/// </summary>
public class TokenizerSpeedTests
{
    const int TenMegabytes = 10_000_000;
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    static string Repeat(IReadOnlyList<string> parts, int length, int seed)
    {
        var random = new Random(seed);
        var sb = new StringBuilder(length + 100);
        while (sb.Length < length) sb.Append(parts[random.Next(parts.Count)]);
        return sb.ToString();
    }

    static (IReadOnlyList<string> Tokens, TimeSpan Elapsed) Time(string document)
    {
        UlmfitTokenizer.Default.Tokenize("warm up: Don't <br /> https://x.org cooool U.S. 😂");
        var clock = Stopwatch.StartNew();
        IReadOnlyList<string> tokens = UlmfitTokenizer.Default.Tokenize(document);
        return (tokens, clock.Elapsed);
    }

    [Fact]
    public void Ten_megabytes_of_prose_in_one_document_take_seconds_at_most()
    {
        string[] sentences =
        [
            "The movie was GREAT, and I don't say that often! ", "It's a state-of-the-art film (really). ",
            "Sooo good... ", "<br /><br />We'll see; Mr. Smith paid $5 for 3.5 hours. ", "Visit https://www.imdb.com/ now. ",
            "\"Quoted,\" she said. ", "no no no, never again!!! ", "Привет, мир! 日本語です。 😂 ",
        ];
        string document = Repeat(sentences, TenMegabytes, seed: 1);
        var (tokens, elapsed) = Time(document);
        Assert.True(tokens.Count > 2_000_000, $"only {tokens.Count} tokens");
        Assert.True(elapsed < Limit, $"10 MB of prose took {elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public void Ten_megabytes_of_hostile_text_in_one_document_take_seconds_at_most()
    {
        // Each part repeated for a megabyte, without white space between repeats.
        string[] hostile =
        [
            "a,b.c-d'e", "a@b", "http://x.y/", "www.a.com/", "imdb.com/", "U.S.", "'s", "a.", ".a", "1,", "x-", "C++",
            ":)", "&amp;", "#39;", "quot;", "aaab", "f*ck", "😂", "\u0301",
        ];
        var sb = new StringBuilder(TenMegabytes + 1000);
        foreach (string part in hostile)
            for (int end = sb.Length + TenMegabytes / hostile.Length; sb.Length < end;) sb.Append(part);
        var (tokens, elapsed) = Time(sb.ToString());
        Assert.True(tokens.Count > 500_000, $"only {tokens.Count} tokens");
        Assert.True(elapsed < Limit, $"10 MB of hostile text took {elapsed.TotalSeconds:F1} s");
    }
}
