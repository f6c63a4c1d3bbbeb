using System.Globalization;
using System.Text;

namespace Ulmfit.Text;

/// <summary>
/// Character classes the scanner needs, at the level of Unicode code points. ASCII goes through a lookup table
/// (it is most of the text); everything else asks the Unicode category, so every script is classified the same way.
/// </summary>
internal static class CharClass
{
    [Flags]
    enum AsciiFlags : byte
    {
        None = 0,
        Letter = 1,
        Digit = 2,
        Upper = 4,
        Lower = 8,
        Word = 16,
        Space = 32,
        LineBreak = 64,
    }

    static readonly AsciiFlags[] Ascii = BuildAsciiTable();

    static AsciiFlags[] BuildAsciiTable()
    {
        var table = new AsciiFlags[128];
        for (int c = 0; c < 128; c++)
        {
            AsciiFlags f = AsciiFlags.None;
            if (c is >= 'a' and <= 'z') f = AsciiFlags.Letter | AsciiFlags.Lower | AsciiFlags.Word;
            else if (c is >= 'A' and <= 'Z') f = AsciiFlags.Letter | AsciiFlags.Upper | AsciiFlags.Word;
            else if (c is >= '0' and <= '9') f = AsciiFlags.Digit | AsciiFlags.Word;
            else if (c == '_') f = AsciiFlags.Word;
            // Every other C0 control counts as white space: it carries no text and must never end up inside a token.
            else if (c < 32 || c == 127 || c == ' ') f = AsciiFlags.Space;
            if (c is '\n' or '\r' or '\v' or '\f') f |= AsciiFlags.LineBreak;
            table[c] = f;
        }
        return table;
    }

    /// <summary>The code point at <paramref name="i"/> and how many UTF-16 units it takes (a lone surrogate is itself).</summary>
    public static int CodePointAt(ReadOnlySpan<char> s, int i, out int length)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(c, s[i + 1]);
        }
        length = 1;
        return c;
    }

    /// <summary>The code point that ends just before <paramref name="end"/>, or -1 at the start.</summary>
    public static int CodePointBefore(ReadOnlySpan<char> s, int end)
    {
        if (end <= 0) return -1;
        char c = s[end - 1];
        if (char.IsLowSurrogate(c) && end >= 2 && char.IsHighSurrogate(s[end - 2])) return char.ConvertToUtf32(s[end - 2], c);
        return c;
    }

    static UnicodeCategory Category(int cp) => CharUnicodeInfo.GetUnicodeCategory(cp);

    /// <summary>
    /// White space of any kind, C0/C1 controls, and invisible characters that can only separate words: the zero-width
    /// space, the byte-order mark, the word joiner and the bidirectional marks and controls.
    /// </summary>
    public static bool IsWhitespace(char c)
    {
        if (c < 128) return (Ascii[c] & AsciiFlags.Space) != 0;
        return c is (>= '\u0080' and <= '\u00A0') or '\u1680' or (>= '\u2000' and <= '\u200B') or '\u200E' or '\u200F'
            or (>= '\u2028' and <= '\u202F') or '\u205F' or '\u2060' or (>= '\u2066' and <= '\u2069') or '\u3000' or '\uFEFF';
    }

    /// <summary>Characters that end a line (CR LF counts once; the caller handles that pair).</summary>
    public static bool IsLineBreak(char c) =>
        c < 128 ? (Ascii[c] & AsciiFlags.LineBreak) != 0 : c is '\u0085' or '\u2028' or '\u2029';

    public static bool IsLetter(int cp)
    {
        if (cp < 128) return cp >= 0 && (Ascii[cp] & AsciiFlags.Letter) != 0;
        return Category(cp) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter;
    }

    /// <summary>Decimal digits of any script (the digits the repetition rule leaves alone).</summary>
    public static bool IsDigit(int cp)
    {
        if (cp < 128) return cp >= 0 && (Ascii[cp] & AsciiFlags.Digit) != 0;
        return Category(cp) == UnicodeCategory.DecimalDigitNumber;
    }

    public static bool IsLetterOrDigit(int cp) => IsLetter(cp) || IsDigit(cp);

    public static bool IsUpper(int cp)
    {
        if (cp < 128) return cp >= 0 && (Ascii[cp] & AsciiFlags.Upper) != 0;
        return Category(cp) == UnicodeCategory.UppercaseLetter;
    }

    public static bool IsLower(int cp)
    {
        if (cp < 128) return cp >= 0 && (Ascii[cp] & AsciiFlags.Lower) != 0;
        return Category(cp) == UnicodeCategory.LowercaseLetter;
    }

    /// <summary>
    /// What Python's <c>\w</c> means, near enough: letters, numbers, combining marks (accents, Indic vowel signs,
    /// variation selectors) and connector punctuation such as <c>_</c>. Runs of these make up words.
    /// </summary>
    public static bool IsWordChar(int cp)
    {
        if (cp < 128) return cp >= 0 && (Ascii[cp] & AsciiFlags.Word) != 0;
        // Zero-width (non-)joiners belong to Persian and Indic words; a soft hyphen is a hidden break inside a word.
        if (cp is 0x200C or 0x200D or 0xAD) return true;
        return Category(cp) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.ConnectorPunctuation;
    }

    /// <summary>Combining marks, which belong to the character before them.</summary>
    public static bool IsMark(int cp) =>
        cp >= 0x300 && Category(cp) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
            or UnicodeCategory.EnclosingMark;

    /// <summary>Pictographs and other symbols (emoji, ©, ™, ★): each is a token of its own.</summary>
    public static bool IsSymbol(int cp) => cp >= 128 && Category(cp) == UnicodeCategory.OtherSymbol;

    static bool IsRegionalIndicator(int cp) => cp is >= 0x1F1E6 and <= 0x1F1FF;
    static bool IsEmojiModifier(int cp) => cp is >= 0x1F3FB and <= 0x1F3FF;
    static bool IsTag(int cp) => cp is >= 0xE0020 and <= 0xE007F;

    /// <summary>
    /// Length in UTF-16 units of the symbol cluster starting at <paramref name="i"/>: a symbol with its variation
    /// selector, skin-tone modifier, keycap or tag characters, symbols joined by ZWJ (family emoji), and pairs of
    /// regional indicators (flags). One emoji as the reader sees it becomes one token.
    /// </summary>
    public static int SymbolClusterLength(ReadOnlySpan<char> s, int i)
    {
        int first = CodePointAt(s, i, out int len);
        int j = i + len;
        if (IsRegionalIndicator(first))
        {
            if (j < s.Length && IsRegionalIndicator(CodePointAt(s, j, out int l2))) j += l2;
            return j - i;
        }
        while (j < s.Length)
        {
            int cp = CodePointAt(s, j, out int l);
            if (cp is 0xFE0E or 0xFE0F or 0x20E3 || IsEmojiModifier(cp) || IsTag(cp))
            {
                j += l;
                continue;
            }
            if (cp == 0x200D && j + l < s.Length && IsSymbol(CodePointAt(s, j + l, out int l3)))
            {
                j += l + l3;
                continue;
            }
            break;
        }
        return j - i;
    }

    /// <summary>Appends the lower-case form of one code point (simple, culture-invariant case mapping).</summary>
    public static int ToLower(int cp) => cp < 128
        ? ((Ascii[cp] & AsciiFlags.Upper) != 0 ? cp + 32 : cp)
        : Rune.IsValid(cp) ? Rune.ToLowerInvariant(new Rune(cp)).Value : cp;

    public static int ToUpper(int cp) => cp < 128
        ? ((Ascii[cp] & AsciiFlags.Lower) != 0 ? cp - 32 : cp)
        : Rune.IsValid(cp) ? Rune.ToUpperInvariant(new Rune(cp)).Value : cp;
}
