using System.Collections.Frozen;

namespace Ulmfit.Text;

/// <summary>
/// Recognises web addresses and e-mail addresses so that they stay one token (fastai's pre-rules would cut them
/// at every <c>/</c> and <c>#</c>, and turn <c>www</c> into <c>xxrep 3 w</c>). Every match looks only forward
/// from where it starts and the scanner skips what it matched, so the work stays linear.
/// </summary>
internal static class UrlMatcher
{
    // Top-level domains that make "name.tld/path" a web address without a scheme. Kept to common ones so that
    // "file.txt/..." or "and.or/" are not mistaken for addresses.
    static readonly FrozenSet<string> TopLevelDomains = new[]
    {
        "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "io", "co", "uk", "us", "ca", "de", "fr",
        "jp", "au", "ru", "cn", "in", "br", "it", "es", "nl", "se", "no", "fi", "dk", "pl", "ch", "be", "at", "tv",
        "me", "ly", "gl", "ie", "nz", "eu", "ai", "app", "dev",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> TopLevelDomainLookup =
        TopLevelDomains.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>End of a web address that starts with a scheme or <c>www.</c> at <paramref name="i"/>; <paramref name="i"/> if none.</summary>
    public static int MatchSchemeUrl(ReadOnlySpan<char> s, int i)
    {
        ReadOnlySpan<char> rest = s[i..];
        int body;
        if (rest.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) body = 7;
        else if (rest.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) body = 8;
        else if (rest.StartsWith("ftp://", StringComparison.OrdinalIgnoreCase)) body = 6;
        else if (rest.StartsWith("www.", StringComparison.OrdinalIgnoreCase)) body = 4;
        else return i;
        int p = i + body;
        if (p >= s.Length || !char.IsLetterOrDigit(s[p])) return i;
        int end = ScanUrlBody(s, p);
        end = TrimUrlEnd(s, i, end);
        return end > p ? end : i;
    }

    /// <summary>
    /// End of a schemeless address whose host starts at <paramref name="hostStart"/> (already scanned as a word, e.g.
    /// <c>imdb.com</c>) and which continues with a path at <paramref name="pathStart"/>; -1 if the host is not a domain.
    /// </summary>
    public static int MatchPathAfterHost(ReadOnlySpan<char> s, int hostStart, int pathStart)
    {
        if (pathStart >= s.Length || s[pathStart] != '/' || !IsDomain(s[hostStart..pathStart])) return -1;
        int end = TrimUrlEnd(s, hostStart, ScanUrlBody(s, pathStart));
        return end > pathStart ? end : -1;
    }

    /// <summary>End of the domain of an e-mail address whose <c>@</c> is at <paramref name="at"/>; -1 if there is none.</summary>
    public static int MatchEmailDomain(ReadOnlySpan<char> s, int at)
    {
        int p = at + 1;
        int end = p;
        while (end < s.Length && (char.IsAsciiLetterOrDigit(s[end]) || s[end] is '-' or '.')) end++;
        while (end > p && s[end - 1] is '.' or '-') end--;
        return end > p && IsDomain(s[p..end]) ? end : -1;
    }

    /// <summary>Labels of letters, digits and hyphens joined by dots, ending in a known top-level domain.</summary>
    static bool IsDomain(ReadOnlySpan<char> host)
    {
        int lastDot = host.LastIndexOf('.');
        if (lastDot <= 0 || !TopLevelDomainLookup.Contains(host[(lastDot + 1)..])) return false;
        bool labelEmpty = true;
        foreach (char c in host)
        {
            if (c == '.')
            {
                if (labelEmpty) return false;
                labelEmpty = true;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '-') labelEmpty = false;
            else return false;
        }
        return !labelEmpty;
    }

    static int ScanUrlBody(ReadOnlySpan<char> s, int p)
    {
        while (p < s.Length && IsUrlChar(s[p])) p++;
        return p;
    }

    static bool IsUrlChar(char c) =>
        !CharClass.IsWhitespace(c) && c is not ('<' or '>' or '"' or '\u201C' or '\u201D' or '\u00AB' or '\u00BB' or '`');

    /// <summary>
    /// Drops sentence punctuation that follows an address ("see http://x.org/a)." keeps "http://x.org/a"), but keeps a
    /// closing bracket that the address itself opened, as in Wikipedia links.
    /// </summary>
    static int TrimUrlEnd(ReadOnlySpan<char> s, int start, int end)
    {
        int openRound = 0, closeRound = 0, openSquare = 0, closeSquare = 0;
        foreach (char c in s[start..end])
        {
            if (c == '(') openRound++;
            else if (c == ')') closeRound++;
            else if (c == '[') openSquare++;
            else if (c == ']') closeSquare++;
        }
        while (end > start)
        {
            char c = s[end - 1];
            if (c is '.' or ',' or ';' or ':' or '!' or '?' or '\'' or '*' or '\u2019') end--;
            else if (c == ')' && closeRound > openRound) { end--; closeRound--; }
            else if (c == ']' && closeSquare > openSquare) { end--; closeSquare--; }
            else break;
        }
        return end;
    }
}
