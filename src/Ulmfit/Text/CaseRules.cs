using System.Buffers;

namespace Ulmfit.Text;

/// <summary>
/// Rule 5, per token (fastai v1's post-rules <c>replace_all_caps</c> and <c>deal_caps</c>, with Python's string
/// semantics): a token of two or more characters whose cased letters are all upper case gets <c>xxup</c>
/// ("GREAT", "U.S.", "N'T", "3D"); a token of two or more characters that starts with an upper-case letter and
/// whose other cased letters are all lower case gets <c>xxmaj</c> ("Hello", "Mr.", "Ñandú"). One-character tokens
/// ("I", "A") get no marker, nor do mixed ones ("iPhone", "McDonald"): they are only lower-cased. Then every
/// token is lower-cased, code point by code point with invariant (culture-free) case mapping.
/// Strings are made here, once per token, through a per-thread cache so that a corpus holds one "the".
/// </summary>
internal static class CaseRules
{
    enum Shape { Plain, AllCaps, Capitalised }

    /// <summary>Turns the raw tokens of one document into strings, appending them to <paramref name="output"/>.</summary>
    public static void Emit(ReadOnlySpan<char> source, List<RawToken> tokens, List<string> output,
        TokenStringCache cache, bool markCase, bool lowercase)
    {
        foreach (RawToken token in tokens)
        {
            if (token.Kind == RawTokenKind.Verbatim)
            {
                output.Add(token.Literal ?? cache.Get(token.Text(source)));
                continue;
            }
            ReadOnlySpan<char> text = token.Text(source);
            Shape shape = Analyse(text, out bool hasUpper);
            if (markCase && shape == Shape.AllCaps) output.Add(SpecialTokens.AllCaps);
            else if (markCase && shape == Shape.Capitalised) output.Add(SpecialTokens.Capitalised);
            output.Add(lowercase && hasUpper ? Lower(text, cache) : token.Literal ?? cache.Get(text));
        }
    }

    /// <summary>
    /// Python's <c>t.isupper()</c> and <c>t[0].isupper() and t[1:].islower()</c>, for tokens of 2+ code points;
    /// also whether lower-casing would change anything.
    /// </summary>
    static Shape Analyse(ReadOnlySpan<char> text, out bool changesWhenLowered)
    {
        int codePoints = 0;
        bool firstUpper = false, anyUpper = false, anyLower = false, restUpper = false, restLower = false;
        changesWhenLowered = false;
        for (int k = 0; k < text.Length;)
        {
            int cp = CharClass.CodePointAt(text, k, out int len);
            k += len;
            bool upper = CharClass.IsUpper(cp), lower = !upper && CharClass.IsLower(cp);
            if (!upper && !lower && cp >= 128 && CharClass.ToLower(cp) != cp)
            {
                // A title-case letter (ǅ): neither upper nor lower for Python, but lower-casing changes it.
                changesWhenLowered = true;
                anyLower = true; // makes isupper() false, as in Python
                if (codePoints > 0) restUpper = true; // and islower() false
            }
            if (upper) changesWhenLowered = true;
            if (codePoints == 0) firstUpper = upper;
            else
            {
                restUpper |= upper;
                restLower |= lower;
            }
            anyUpper |= upper;
            anyLower |= lower;
            codePoints++;
        }
        if (codePoints < 2) return Shape.Plain;
        if (anyUpper && !anyLower) return Shape.AllCaps;
        if (firstUpper && restLower && !restUpper) return Shape.Capitalised;
        return Shape.Plain;
    }

    static string Lower(ReadOnlySpan<char> text, TokenStringCache cache)
    {
        char[]? rented = null;
        Span<char> buffer = text.Length <= 256 ? stackalloc char[text.Length] : (rented = ArrayPool<char>.Shared.Rent(text.Length));
        int written = 0;
        for (int k = 0; k < text.Length;)
        {
            int cp = CharClass.CodePointAt(text, k, out int len);
            k += len;
            int lower = CharClass.ToLower(cp);
            // Simple case mapping never moves a character between the BMP and the astral planes, so the
            // lower-cased text is exactly as long as the original.
            if (lower < 0x10000) buffer[written++] = (char)lower;
            else written += new System.Text.Rune(lower).EncodeToUtf16(buffer[written..]);
        }
        string result = cache.Get(buffer[..written]);
        if (rented != null) ArrayPool<char>.Shared.Return(rented);
        return result;
    }
}
