namespace Ulmfit.Text;

/// <summary>
/// Text emoticons that stay one token (spaCy keeps them whole) instead of falling apart into punctuation.
/// Matched only where a word cannot be glued to them on either side ("(see 3:)" is not a smile).
/// </summary>
internal static class Emoticons
{
    // Longest first, so ":-)" wins over ":-".
    static readonly string[] All =
    [
        "</3", ":-)", ":-(", ":-D", ":-P", ":-p", ":-/", ":-|", ":-]", ":-[", ";-)", ":')", ":'(", "^_^",
        ":)", ":(", ":D", ":P", ":p", ":/", ":|", ":]", ":[", ":o", ":O", ":3", ":*", ";)", ";D", ";P", ";p",
        "=)", "=(", "=D", "<3", "^^",
    ];

    /// <summary>End of the emoticon at <paramref name="i"/>, or <paramref name="i"/> if there is none.</summary>
    public static int Match(ReadOnlySpan<char> s, int i)
    {
        ReadOnlySpan<char> rest = s[i..];
        foreach (string e in All)
        {
            if (!rest.StartsWith(e, StringComparison.Ordinal)) continue;
            int end = i + e.Length;
            if (end < s.Length && CharClass.IsLetterOrDigit(CharClass.CodePointAt(s, end, out _))) continue;
            return end;
        }
        return i;
    }
}
