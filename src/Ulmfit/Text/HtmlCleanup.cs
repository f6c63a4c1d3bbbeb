using System.Buffers;
using System.Text;

namespace Ulmfit.Text;

/// <summary>
/// Rule 1 (fastai's <c>fix_html</c>): undoes the escapes that web and WikiText corpora leave in text, in one
/// left-to-right pass (no regular expressions, linear in the length).
/// <list type="bullet">
/// <item><c>&lt;br /&gt;</c>, <c>&lt;br&gt;</c>, <c>&lt;br/&gt;</c>, <c>&lt;/br&gt;</c> (any case) and a literal <c>\n</c> become a line break.</item>
/// <item>Character references: named (<c>&amp;quot;</c>, <c>&amp;eacute;</c>, see <see cref="HtmlEntities"/>), decimal
/// and hexadecimal (<c>&amp;#39;</c>, <c>&amp;#x2019;</c>); 128..159 read as Windows-1252 like browsers do;
/// doubly escaped ones (<c>&amp;amp;quot;</c>) are undone fully.</item>
/// <item>References whose <c>&amp;</c> was stripped, as in AG News and IMDb dumps: <c>#39;</c> <c>#36;</c> <c>#146;</c>
/// (two or more digits, value 32 or more) anywhere, and <c>quot; amp; apos; lt; gt; nbsp;</c> when not glued to
/// a preceding letter or digit (so <c>camp;</c> stays <c>camp;</c>, where fastai would write <c>c&amp;</c>).</item>
/// <item>WikiText's <c> @-@ </c>, <c> @.@ </c>, <c> @,@ </c> become <c>-</c>, <c>.</c>, <c>,</c> (the spaces go too);
/// <c>&lt;unk&gt;</c> becomes the token <c>xxunk</c>; <c>\"</c> becomes <c>"</c>.</item>
/// </list>
/// Deviation from fastai, on purpose: <c>quot;</c> and <c>&amp;quot;</c> both give <c>"</c> (fastai turns the first into
/// <c>'</c> and the second into <c>&amp;'</c>).
/// </summary>
internal static class HtmlCleanup
{
    static readonly SearchValues<char> Triggers = SearchValues.Create("&;<\\@#");

    static readonly (string Name, string Value)[] BareNames =
        [("quot", "\""), ("amp", "&"), ("apos", "'"), ("nbsp", " "), ("lt", "<"), ("gt", ">")];

    public static string Clean(string text)
    {
        ReadOnlySpan<char> s = text;
        int i = s.IndexOfAny(Triggers);
        if (i < 0) return text;

        var sb = new StringBuilder(text.Length + 16);
        sb.Append(s[..i]);
        // The output ends with source[mirrorStart..i) unchanged; look-backs (bare names, " @-@ ") may only
        // rewrite characters inside that stretch.
        int mirrorStart = 0;
        while (i < s.Length)
        {
            int consumed = Replace(s, i, sb, mirrorStart);
            if (consumed > 0)
            {
                i += consumed;
                mirrorStart = i;
            }
            else
            {
                sb.Append(s[i]);
                i++;
            }
            int next = s[i..].IndexOfAny(Triggers);
            int stop = next < 0 ? s.Length : i + next;
            sb.Append(s[i..stop]);
            i = stop;
        }
        return sb.ToString();
    }

    /// <summary>Handles the trigger character at <paramref name="i"/>; returns how many source characters it replaced (0: none).</summary>
    static int Replace(ReadOnlySpan<char> s, int i, StringBuilder sb, int mirrorStart)
    {
        switch (s[i])
        {
            case '<':
            {
                int len = MatchLineBreakTag(s, i);
                if (len > 0)
                {
                    sb.Append('\n');
                    return len;
                }
                if (s[i..].StartsWith("<unk>", StringComparison.Ordinal))
                {
                    sb.Append(' ').Append(SpecialTokens.Unknown).Append(' ');
                    return 5;
                }
                return 0;
            }
            case '&':
            {
                int len = MatchReference(s, i + 1, out string? value);
                if (len == 0) return 0;
                len++;
                if (value == "&")
                {
                    // "&amp;quot;" is "&quot;" escaped twice: undo both.
                    int inner = MatchReference(s, i + len, out string? innerValue);
                    if (inner > 0)
                    {
                        value = innerValue;
                        len += inner;
                    }
                }
                sb.Append(value);
                return len;
            }
            case '#':
            {
                int len = MatchNumber(s, i + 1, requireTwoDigits: true, out long number);
                if (len == 0 || number < 32) return 0;
                sb.Append(HtmlEntities.FromNumber(number));
                return len + 1;
            }
            case ';':
                foreach (var (name, value) in BareNames)
                {
                    int from = i - name.Length;
                    if (from < mirrorStart || !s[from..i].SequenceEqual(name)) continue;
                    if (from > 0 && char.IsLetterOrDigit(s[from - 1])) continue;
                    sb.Length -= name.Length;
                    sb.Append(value);
                    return 1;
                }
                return 0;
            case '\\':
                if (i + 1 < s.Length && s[i + 1] == 'n')
                {
                    sb.Append('\n');
                    return 2;
                }
                if (i + 1 < s.Length && s[i + 1] == '"')
                {
                    sb.Append('"');
                    return 2;
                }
                return 0;
            case '@':
                // " @-@ " -> "-": the space before is already written, so take it back.
                if (i - 1 >= mirrorStart && s[i - 1] == ' ' && i + 3 < s.Length && s[i + 2] == '@' && s[i + 3] == ' '
                    && s[i + 1] is '-' or '.' or ',')
                {
                    sb.Length--;
                    sb.Append(s[i + 1]);
                    return 4;
                }
                return 0;
            default:
                return 0;
        }
    }

    /// <summary>Length of <c>&lt;br&gt;</c>, <c>&lt;br /&gt;</c>, <c>&lt;/br&gt;</c> and similar at <paramref name="i"/>, or 0.</summary>
    static int MatchLineBreakTag(ReadOnlySpan<char> s, int i)
    {
        int p = i + 1;
        if (p < s.Length && s[p] == '/') p++;
        if (p + 1 >= s.Length || (s[p] | 0x20) != 'b' || (s[p + 1] | 0x20) != 'r') return 0;
        p += 2;
        while (p < s.Length && s[p] == ' ') p++;
        if (p < s.Length && s[p] == '/') p++;
        while (p < s.Length && s[p] == ' ') p++;
        return p < s.Length && s[p] == '>' ? p + 1 - i : 0;
    }

    /// <summary>A reference after its <c>&amp;</c> (<c>quot;</c>, <c>#39;</c>, <c>#x27;</c>): its length and text, or 0.</summary>
    static int MatchReference(ReadOnlySpan<char> s, int p, out string? value)
    {
        value = null;
        if (p >= s.Length) return 0;
        if (s[p] == '#')
        {
            int len = MatchNumber(s, p + 1, requireTwoDigits: false, out long number);
            if (len == 0) return 0;
            value = HtmlEntities.FromNumber(number);
            return len + 1;
        }
        int end = p;
        while (end < s.Length && end - p <= HtmlEntities.MaxNameLength && char.IsAsciiLetterOrDigit(s[end])) end++;
        if (end == p || end >= s.Length || s[end] != ';') return 0;
        if (!HtmlEntities.Lookup.TryGetValue(s[p..end], out value)) return 0;
        return end + 1 - p;
    }

    /// <summary>Digits (or <c>x</c> and hex digits) then <c>;</c> at <paramref name="p"/>: length including the <c>;</c>, or 0.</summary>
    static int MatchNumber(ReadOnlySpan<char> s, int p, bool requireTwoDigits, out long number)
    {
        number = 0;
        bool hex = p < s.Length && !requireTwoDigits && (s[p] | 0x20) == 'x';
        int start = hex ? p + 1 : p;
        int end = start;
        while (end < s.Length && end - start < 8 && (hex ? char.IsAsciiHexDigit(s[end]) : char.IsAsciiDigit(s[end])))
        {
            char c = s[end];
            number = number * (hex ? 16 : 10) + (char.IsAsciiDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
            end++;
        }
        int digits = end - start;
        if (digits == 0 || (requireTwoDigits && digits < 2) || end >= s.Length || s[end] != ';') return 0;
        return end + 1 - p;
    }
}
