using System.Collections.Frozen;

namespace Ulmfit.Text;

/// <summary>
/// What happens to a word once the scanner has found its extent: abbreviations keep their period, contractions
/// split the way spaCy's English rules split them (<c>don't</c> → <c>do n't</c>, <c>can't</c> → <c>ca n't</c>,
/// <c>I'm</c> → <c>I 'm</c>, <c>John's</c> → <c>John 's</c>, <c>dont</c> → <c>do nt</c>, <c>gonna</c> → <c>gon na</c>),
/// and a unit written against a number comes off it (<c>10km</c> → <c>10 km</c>). Apostrophes in split-off
/// suffixes are normalised to <c>'</c>, so <c>don’t</c> and <c>don't</c> give the same tokens.
/// </summary>
internal static class WordRules
{
    // Words that are abbreviations when a period follows ("Mr.", "etc."); compared ignoring case.
    static readonly FrozenSet<string> Abbreviations = new[]
    {
        "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "inc", "ltd", "corp", "co", "mt", "gen", "gov",
        "sen", "rep", "rev", "lt", "col", "sgt", "capt", "cpl", "jan", "feb", "apr", "jun", "jul", "aug", "sep", "sept",
        "oct", "nov", "dec", "approx", "dept", "est", "fig", "vol", "ave", "blvd", "esp", "cf", "al",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> AbbreviationLookup =
        Abbreviations.GetAlternateLookup<ReadOnlySpan<char>>();

    // Units that spaCy splits off a number ("5kg", "10pm"); compared ignoring case.
    static readonly FrozenSet<string> Units = new[]
    {
        "km", "kg", "cm", "mm", "m", "g", "mg", "lb", "lbs", "oz", "ft", "mph", "kmh", "kph", "hz", "khz", "mhz", "ghz",
        "kb", "mb", "gb", "tb", "ml", "am", "pm", "min", "mins", "hr", "hrs", "sec", "secs",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> UnitLookup = Units.GetAlternateLookup<ReadOnlySpan<char>>();

    // Contractions written without an apostrophe, and where they split (spaCy's English exceptions). Words that
    // are also ordinary words ("ill", "well", "were", "its", "shed", "hell", "id") are deliberately absent.
    static readonly FrozenDictionary<string, int> Unapostrophised = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        ["dont"] = 2, ["cant"] = 2, ["wont"] = 2, ["didnt"] = 3, ["doesnt"] = 4, ["isnt"] = 2, ["wasnt"] = 3,
        ["arent"] = 3, ["werent"] = 4, ["hasnt"] = 3, ["havent"] = 4, ["hadnt"] = 3, ["couldnt"] = 5,
        ["shouldnt"] = 6, ["wouldnt"] = 5, ["mustnt"] = 4, ["aint"] = 2, ["shant"] = 3, ["neednt"] = 4,
        ["mightnt"] = 5, ["im"] = 1, ["ive"] = 1, ["youre"] = 3, ["youve"] = 3, ["youll"] = 3, ["youd"] = 3,
        ["theyre"] = 4, ["theyve"] = 4, ["theyll"] = 4, ["theyd"] = 4, ["weve"] = 2, ["wouldve"] = 5,
        ["couldve"] = 5, ["shouldve"] = 6, ["mustve"] = 4, ["mightve"] = 5, ["gonna"] = 3, ["gotta"] = 3,
        ["wanna"] = 3, ["cannot"] = 3, ["gimme"] = 3, ["lemme"] = 3,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    static readonly FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> UnapostrophisedLookup =
        Unapostrophised.GetAlternateLookup<ReadOnlySpan<char>>();

    const int LongestUnapostrophised = 8;

    /// <summary>Whether <paramref name="left"/> and <paramref name="right"/> are the two halves of a split such as "do" "nt" or "gon" "na".</summary>
    public static bool IsUnapostrophisedSplit(string left, string right)
    {
        int length = left.Length + right.Length;
        if (length > LongestUnapostrophised) return false;
        Span<char> joined = stackalloc char[length];
        left.CopyTo(joined);
        right.CopyTo(joined[left.Length..]);
        return UnapostrophisedLookup.TryGetValue(joined, out int split) && split == left.Length;
    }

    public static bool IsApostrophe(char c) => c is '\'' or '\u2019';

    /// <summary>
    /// Whether a period right after <paramref name="word"/> belongs to it: known abbreviations (<c>Mr.</c>, <c>etc.</c>),
    /// dotted acronyms of one- and two-letter parts (<c>U.S.</c>, <c>e.g.</c>, <c>a.m.</c>, <c>Ph.D.</c>) and initials
    /// (<c>J.</c>; not <c>I.</c>, which ends far more sentences than it abbreviates names).
    /// </summary>
    public static bool KeepsTrailingPeriod(ReadOnlySpan<char> word)
    {
        if (word.Length == 1) return CharClass.IsUpper(word[0]) && word[0] != 'I';
        if (word.Length <= 6 && AbbreviationLookup.Contains(word)) return true;
        return IsDottedAcronym(word);
    }

    static bool IsDottedAcronym(ReadOnlySpan<char> word)
    {
        int parts = 0, partLength = 0;
        foreach (char c in word)
        {
            if (c == '.')
            {
                if (partLength == 0) return false;
                parts++;
                partLength = 0;
            }
            else if (CharClass.IsLetter(c) && ++partLength <= 2) { }
            else return false;
        }
        return partLength > 0 && parts >= 1;
    }

    /// <summary>Appends the tokens of the word <c>s[start..end)</c>: split units and contractions, or the word itself.</summary>
    public static void Append(ReadOnlySpan<char> s, int start, int end, List<RawToken> output)
    {
        if (CharClass.IsDigit(s[start]) && TrySplitUnit(s, start, end, output)) return;
        AppendContractions(s, start, end, output);
    }

    /// <summary>"10km" → "10" "km", "12:00pm" → "12:00" "pm": digits (with separators) followed by a known unit.</summary>
    static bool TrySplitUnit(ReadOnlySpan<char> s, int start, int end, List<RawToken> output)
    {
        int p = start;
        while (p < end && (char.IsAsciiDigit(s[p]) || s[p] is '.' or ',' or ':')) p++;
        if (p == start || p == end || end - p > 4 || !UnitLookup.Contains(s[p..end])) return false;
        output.Add(RawToken.Slice(start, p - start));
        output.Add(RawToken.Slice(p, end - p));
        return true;
    }

    static void AppendContractions(ReadOnlySpan<char> s, int start, int end, List<RawToken> output)
    {
        // "'s 'm 'd" and "'ll 've 're" after a letter or digit ("John's", "I'm"), then "n't" before them
        // ("shouldn't've" → should n't 've). One suffix of each kind at most: "'s's's" is not a contraction.
        int suffixStart = end;
        for (int suffix = 2; suffix <= 3; suffix++)
        {
            int p = end - suffix;
            if (p <= start || !IsApostrophe(s[p]) || !CharClass.IsLetterOrDigit(s[p - 1])) continue;
            if (!IsContractionSuffix(s[(p + 1)..end])) continue;
            suffixStart = p;
            break;
        }
        int baseEnd = suffixStart;
        int length = baseEnd - start;
        // "n't" as in "don't", "CAN'T", "won’t": the base keeps what is left ("ca", "wo"), as spaCy does.
        if (length >= 4 && (s[baseEnd - 1] | 0x20) == 't' && IsApostrophe(s[baseEnd - 2]) && (s[baseEnd - 3] | 0x20) == 'n'
            && CharClass.IsLetter(s[baseEnd - 4]))
        {
            output.Add(RawToken.Slice(start, length - 3));
            AddSuffix(s, baseEnd - 3, baseEnd, output);
        }
        else if (suffixStart == end && length <= LongestUnapostrophised
                 && UnapostrophisedLookup.TryGetValue(s[start..end], out int split))
        {
            output.Add(RawToken.Slice(start, split));
            output.Add(RawToken.Slice(start + split, length - split));
        }
        else
        {
            output.Add(RawToken.Slice(start, length));
        }
        if (suffixStart < end) AddSuffix(s, suffixStart, end, output);
    }

    /// <summary>The letters after the apostrophe of a suffix that spaCy splits off: s m d ll ve re.</summary>
    public static bool IsContractionSuffix(ReadOnlySpan<char> letters)
    {
        if (letters.Length == 1) return (letters[0] | 0x20) is 's' or 'm' or 'd';
        if (letters.Length != 2) return false;
        int a = letters[0] | 0x20, b = letters[1] | 0x20;
        return (a, b) is ('l', 'l') or ('v', 'e') or ('r', 'e');
    }

    /// <summary>Adds the suffix <c>s[start..end)</c>, with a typographic apostrophe replaced by <c>'</c>.</summary>
    public static void AddSuffix(ReadOnlySpan<char> s, int start, int end, List<RawToken> output)
    {
        ReadOnlySpan<char> suffix = s[start..end];
        if (suffix.IndexOf('\u2019') < 0)
        {
            output.Add(RawToken.Slice(start, end - start));
            return;
        }
        output.Add(RawToken.Of(suffix.ToString().Replace('\u2019', '\''), RawTokenKind.Text));
    }
}
