using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Ulmfit.Text;

/// <summary>
/// Turns tokens back into text for people to read (generated text, examples in reports). Markers are undone:
/// <c>xxmaj w</c> → <c>W</c>, <c>xxup w</c> → <c>W…</c> in capitals, <c>xxrep n c</c> → c n times, <c>xxwrep n w</c>
/// → w n times, <c>xxfld n</c> → a new line, <c>xxbos xxeos xxpad</c> dropped. Words are joined by spaces, except
/// that closing punctuation and contractions attach to the word before (<c>do n't</c> → <c>don't</c>), opening
/// brackets and currency signs to the word after, <c>/</c> to both, quotes alternate between opening and closing,
/// a hyphen between numbers joins them, and repeated letters rejoin their word (<c>c xxrep 4 o l</c> → <c>cooool</c>,
/// <c>s xxrep 3 o good</c> → <c>sooo good</c>: only a rest of one or two letters is taken as the same word).
/// What tokenizing threw away (case of one-letter words, exact spacing) cannot come back.
/// </summary>
internal static class TokenDecoder
{
    [Flags]
    enum Attach : byte
    {
        None = 0,
        NoSpaceBefore = 1,
        NoSpaceAfter = 2,
        Both = NoSpaceBefore | NoSpaceAfter,
        /// <summary>Repeated letters: no space next to a neighbour that is letters too.</summary>
        JoinsLetters = 4,
    }

    readonly record struct Piece(string Text, Attach Attach);

    static readonly FrozenSet<string> Closing = new[]
    {
        ".", ",", "!", "?", ";", ":", "%", ")", "]", "}", "...", "..", "\u2026", "\u201D", "\u2019", "\u00BB",
        "'s", "'m", "'d", "'ll", "'ve", "'re", "n't", "\u3002", "\uFF0C", "\u3001", "\uFF01", "\uFF1F", "\uFF1A",
        "\uFF1B", "\uFF09", "\u300D", "\u300F",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    static readonly FrozenSet<string> Opening = new[]
    {
        "(", "[", "{", "\u201C", "\u2018", "\u00AB", "\u00BF", "\u00A1", "$", "\u00A3", "\u20AC", "\u00A5", "#",
        "\uFF08", "\u300C", "\u300E",
    }.ToFrozenSet(StringComparer.Ordinal);

    // Short words that are more likely to follow a stretched word ("sooo is") than to end it ("cooo l").
    static readonly FrozenSet<string> ShortWords = new[]
    {
        "a", "i", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me", "my", "no", "of", "oh",
        "ok", "on", "or", "so", "to", "up", "us", "we",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    static readonly FrozenSet<string> Quotes = new[] { "\"", "'", "`", "``", "''" }.ToFrozenSet(StringComparer.Ordinal);

    public static string Decode(IEnumerable<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        IReadOnlyList<string> list = tokens as IReadOnlyList<string> ?? tokens.ToList();
        var pieces = new List<Piece>(list.Count);
        bool quoteOpen = false;
        for (int i = 0; i < list.Count;)
        {
            string t = list[i] ?? throw new ArgumentException($"Token {i} is null.", nameof(tokens));
            switch (t)
            {
                case SpecialTokens.BeginningOfStream or SpecialTokens.EndOfStream or SpecialTokens.Padding:
                    i++;
                    continue;
                case SpecialTokens.Field:
                    i++;
                    if (i < list.Count && IsCount(list[i], out _)) i++;
                    if (pieces.Count > 0) pieces.Add(new Piece("\n", Attach.Both));
                    continue;
                case SpecialTokens.Repeat or SpecialTokens.WordRepeat when i + 2 < list.Count && IsCount(list[i + 1], out int n):
                {
                    string unit = ReadWord(list, i + 2, out int next);
                    i = next;
                    if (t == SpecialTokens.Repeat)
                    {
                        var sb = new StringBuilder(unit.Length * n);
                        for (int k = 0; k < n; k++) sb.Append(unit);
                        pieces.Add(new Piece(sb.ToString(), RepeatAttach(unit)));
                    }
                    else
                    {
                        pieces.Add(new Piece(string.Join(' ', Enumerable.Repeat(unit, n)), Attach.None));
                    }
                    continue;
                }
                default:
                {
                    string word = ReadWord(list, i, out int next);
                    i = next;
                    if (word.Length > 0) pieces.Add(new Piece(word, Classify(word, pieces, ref quoteOpen)));
                    continue;
                }
            }
        }
        return Join(pieces);
    }

    static bool IsCount(string token, out int count) =>
        int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count is > 0 and <= 1_000_000;

    /// <summary>The word at <paramref name="i"/> with the case markers before it applied; <paramref name="next"/> is after it.</summary>
    static string ReadWord(IReadOnlyList<string> tokens, int i, out int next)
    {
        bool title = false, upper = false;
        while (i < tokens.Count && tokens[i] is SpecialTokens.Capitalised or SpecialTokens.AllCaps)
        {
            if (tokens[i] == SpecialTokens.Capitalised) title = true;
            else upper = true;
            i++;
        }
        next = i < tokens.Count ? i + 1 : i;
        if (i >= tokens.Count) return "";
        string word = tokens[i];
        if (upper) return ChangeCase(word, all: true);
        if (title) return ChangeCase(word, all: false);
        return word;
    }

    static string ChangeCase(string word, bool all)
    {
        var sb = new StringBuilder(word.Length);
        for (int k = 0; k < word.Length;)
        {
            int cp = CharClass.CodePointAt(word, k, out int len);
            if ((all || k == 0) && Rune.IsValid(cp)) sb.Append(new Rune(CharClass.ToUpper(cp)).ToString());
            else sb.Append(word, k, len);
            k += len;
        }
        return sb.ToString();
    }

    static Attach RepeatAttach(string unit)
    {
        int cp = CharClass.CodePointAt(unit, 0, out _);
        if (CharClass.IsLetter(cp)) return Attach.JoinsLetters;
        if (Closing.Contains(unit) || unit is "-" or "*" or "~") return Attach.NoSpaceBefore;
        if (Opening.Contains(unit)) return Attach.NoSpaceAfter;
        return Attach.None;
    }

    static Attach Classify(string word, List<Piece> before, ref bool quoteOpen)
    {
        if (word[0] == '\n') return Attach.Both;
        if (Closing.Contains(word)) return Attach.NoSpaceBefore;
        if (Opening.Contains(word)) return Attach.NoSpaceAfter;
        if (word is "/" or "\\") return Attach.Both;
        // "friends ' statuses": after a plural, an apostrophe that opens nothing is a possessive.
        if (word is "'" or "\u2019" && !quoteOpen && before.Count > 0 && before[^1].Text[^1] is 's' or 'S') return Attach.NoSpaceBefore;
        if (Quotes.Contains(word))
        {
            quoteOpen = !quoteOpen;
            return quoteOpen ? Attach.NoSpaceAfter : Attach.NoSpaceBefore;
        }
        // "do nt" → "dont", "gon na" → "gonna": the pairs the tokenizer splits without an apostrophe.
        if (before.Count > 0 && WordRules.IsUnapostrophisedSplit(before[^1].Text, word)) return Attach.NoSpaceBefore;
        return Attach.None;
    }

    static string Join(List<Piece> pieces)
    {
        var sb = new StringBuilder();
        for (int k = 0; k < pieces.Count; k++)
        {
            if (k > 0 && NeedsSpace(pieces, k)) sb.Append(' ');
            sb.Append(pieces[k].Text);
        }
        return sb.ToString();
    }

    static bool NeedsSpace(List<Piece> pieces, int k)
    {
        Piece a = pieces[k - 1], b = pieces[k];
        if ((a.Attach & Attach.NoSpaceAfter) != 0 || (b.Attach & Attach.NoSpaceBefore) != 0) return false;
        // The rest of a stretched word is short ("c xxrep 4 o l" → "cooool"); a longer word is the next word.
        if ((a.Attach & Attach.JoinsLetters) != 0 && StartsWithLetter(b.Text) && b.Text.Length <= 2 && !ShortWords.Contains(b.Text))
            return false;
        if ((b.Attach & Attach.JoinsLetters) != 0 && EndsWithLetter(a.Text)) return false;
        // "1 - 2" was "1-2" as often as not; between numbers the hyphen joins.
        if (b.Text == "-" && k + 1 < pieces.Count && EndsWithDigit(a.Text) && char.IsAsciiDigit(pieces[k + 1].Text[0])) return false;
        if (a.Text == "-" && k >= 2 && EndsWithDigit(pieces[k - 2].Text) && char.IsAsciiDigit(b.Text[0])) return false;
        return true;
    }

    static bool StartsWithLetter(string s) => CharClass.IsLetter(CharClass.CodePointAt(s, 0, out _));
    static bool EndsWithLetter(string s) => CharClass.IsLetter(CharClass.CodePointBefore(s, s.Length));
    static bool EndsWithDigit(string s) => char.IsAsciiDigit(s[^1]);
}
