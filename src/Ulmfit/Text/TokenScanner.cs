namespace Ulmfit.Text;

/// <summary>
/// Rules 2 and 4 and the word splitting, in one forward pass over the cleaned text: white space separates,
/// repeated characters become <c>xxrep n c</c>, and each stretch without white space is cut into words,
/// numbers, addresses and single punctuation marks with spaCy's English conventions (see <see cref="ScanWord"/>).
/// Every decision looks at most a few characters ahead, except address and repeat matches, which consume what
/// they look at, so the time is linear in the text length.
/// </summary>
internal ref struct TokenScanner
{
    readonly ReadOnlySpan<char> _s;
    readonly List<RawToken> _out;
    readonly bool _repeats;
    readonly bool _lineBreaks;

    // Minimum number of copies for xxrep: fastai v2's replace_rep, "(\S)(\1{2,})" (v1 wanted four).
    const int MinRepeats = 3;

    TokenScanner(ReadOnlySpan<char> text, List<RawToken> output, UlmfitTokenizerOptions options)
    {
        _s = text;
        _out = output;
        _repeats = options.ReplaceCharacterRepetitions;
        _lineBreaks = options.KeepLineBreaks;
    }

    /// <summary>Appends the raw tokens of <paramref name="text"/> to <paramref name="output"/>.</summary>
    public static void Scan(ReadOnlySpan<char> text, List<RawToken> output, UlmfitTokenizerOptions options) =>
        new TokenScanner(text, output, options).Run();

    void Run()
    {
        int i = 0, n = _s.Length, first = _out.Count, pendingBreaks = 0;
        while (i < n)
        {
            if (CharClass.IsWhitespace(_s[i]))
            {
                int breaks = 0;
                for (; i < n && CharClass.IsWhitespace(_s[i]); i++)
                    if (CharClass.IsLineBreak(_s[i]) && !(_s[i] == '\n' && i > 0 && _s[i - 1] == '\r')) breaks++;
                // Line breaks at the start or end of a document say nothing (fastai strips them).
                if (breaks > 0 && _lineBreaks && _out.Count > first) pendingBreaks = breaks;
                continue;
            }
            if (pendingBreaks > 0)
            {
                _out.Add(RawToken.Of(pendingBreaks == 1 ? "\n" : "\n\n"));
                pendingBreaks = 0;
            }
            i = ScanToken(i);
        }
    }

    bool BoundaryBefore(int i) => i == 0 || !CharClass.IsLetterOrDigit(CharClass.CodePointBefore(_s, i));

    bool DigitAt(int i) => i < _s.Length && CharClass.IsDigit(_s[i]);

    /// <summary>Scans the token(s) starting at <paramref name="i"/> (not white space); returns where the next begins.</summary>
    int ScanToken(int i)
    {
        int cp = CharClass.CodePointAt(_s, i, out int len);
        bool boundary = BoundaryBefore(i);
        if (boundary && (cp | 0x20) is 'h' or 'f' or 'w')
        {
            int end = UrlMatcher.MatchSchemeUrl(_s, i);
            if (end > i) return Add(i, end);
        }
        if (_repeats)
        {
            int end = MatchRepetition(i, cp, len);
            if (end > i) return end;
        }
        if (CharClass.IsWordChar(cp)) return ScanWord(i, i);

        switch (cp)
        {
            case '.':
            {
                if (boundary && DigitAt(i + 1)) return ScanWord(i, i + 1); // ".5"
                // One token for "." "..", and "..." (the repeat rule leaves exactly three dots alone).
                return Add(i, i + RunLength(i, '.'));
            }
            case '-':
            {
                // A sign belongs to its number ("-2", "-.5"), but not after a word or number ("1-2" is 1 - 2).
                if (boundary && (DigitAt(i + 1) || (i + 2 < _s.Length && _s[i + 1] == '.' && DigitAt(i + 2))))
                    return ScanWord(i, i + 1);
                return Add(i, i + RunLength(i, '-')); // "-", and "--" as one dash
            }
            case '+':
                if (boundary && DigitAt(i + 1)) return ScanWord(i, i + 1);
                break;
            case '@':
                // Handles ("@user") stay whole, as in spaCy.
                if (boundary && i + 1 < _s.Length && CharClass.IsWordChar(CharClass.CodePointAt(_s, i + 1, out _)))
                    return ScanWord(i, i + 1);
                break;
            case '\'':
            case '\u2019':
            {
                int end = MatchDetachedSuffix(i);
                if (end > i)
                {
                    WordRules.AddSuffix(_s, i, end, _out);
                    return end;
                }
                break;
            }
            case ':' or ';' or '=' or '<' or '^' when boundary:
            {
                int end = Emoticons.Match(_s, i);
                if (end > i) return Add(i, end);
                break;
            }
        }
        if (CharClass.IsSymbol(cp)) return Add(i, i + CharClass.SymbolClusterLength(_s, i));
        // Any other punctuation, currency or math sign is a token by itself, with the emoji presentation
        // marks that may follow it ("↔️", "#️⃣").
        int stop = i + len;
        while (stop < _s.Length && _s[stop] is '\uFE0E' or '\uFE0F' or '\u20E3') stop++;
        return Add(i, stop);
    }

    int Add(int start, int end)
    {
        _out.Add(RawToken.Slice(start, end - start));
        return end;
    }

    int RunLength(int i, char c)
    {
        int j = i;
        while (j < _s.Length && _s[j] == c) j++;
        return j - i;
    }

    /// <summary>
    /// A contraction suffix standing alone, as in already tokenised text ("it 's", "do n't" is a word): "'s",
    /// "'ll", "'em", ... followed by neither a letter nor another quote ("'D'" is a quoted D).
    /// </summary>
    int MatchDetachedSuffix(int i)
    {
        int p = i + 1;
        while (p < _s.Length && p - i <= 3 && char.IsAsciiLetter(_s[p])) p++;
        ReadOnlySpan<char> letters = _s[(i + 1)..p];
        if (letters.Length == 0 || (p < _s.Length && (CharClass.IsLetterOrDigit(_s[p]) || WordRules.IsApostrophe(_s[p])))) return i;
        bool known = WordRules.IsContractionSuffix(letters) || letters.Equals("em", StringComparison.OrdinalIgnoreCase);
        return known ? p : i;
    }

    /// <summary>
    /// Rule 2 (fastai's replace_rep): three or more copies of one character, or of one emoji, become
    /// <c>xxrep n c</c>. Left alone: digits ("1000" stays a number), exactly three dots (the ellipsis), and a
    /// copy that carries a combining mark ("aaá" is a, a and á). Returns the end of the run, or <paramref name="i"/>.
    /// </summary>
    int MatchRepetition(int i, int cp, int len)
    {
        int n = _s.Length;
        bool symbol = CharClass.IsSymbol(cp);
        // Fast exit for the usual case: the next character differs.
        if (!symbol && (i + 2 * len >= n || _s[i + len] != _s[i] || CharClass.IsDigit(cp))) return i;
        int unit = symbol ? CharClass.SymbolClusterLength(_s, i) : len;
        ReadOnlySpan<char> first = _s.Slice(i, unit);
        int count = 1, p = i + unit;
        while (p + unit <= n && _s.Slice(p, unit).SequenceEqual(first) && (!symbol || CharClass.SymbolClusterLength(_s, p) == unit))
        {
            count++;
            p += unit;
        }
        if (!symbol && p < n && CharClass.IsMark(CharClass.CodePointAt(_s, p, out _)))
        {
            count--;
            p -= unit;
        }
        if (count < MinRepeats || (cp == '.' && count == 3)) return i;
        _out.Add(RawToken.Of(SpecialTokens.Repeat));
        _out.Add(RawToken.Of(Counts.Text(count)));
        _out.Add(RawToken.Slice(i, unit, RawTokenKind.RepeatUnit));
        return p;
    }

    /// <summary>Whether a repeat run (one that <see cref="MatchRepetition"/> would take) starts at <paramref name="j"/> inside a word.</summary>
    bool RepetitionStartsAt(int j)
    {
        int n = _s.Length;
        if (!_repeats || j + 2 >= n) return false;
        char c = _s[j];
        if (_s[j + 1] != c || _s[j + 2] != c || char.IsAsciiDigit(c)) return false;
        int p = j + 3;
        while (p < n && _s[p] == c) p++;
        // Same exceptions as MatchRepetition: the last copy may carry a mark, and digits of other scripts.
        if (p < n && CharClass.IsMark(_s[p]) && p - j == 3) return false;
        return !CharClass.IsDigit(c) && !char.IsSurrogate(c);
    }

    /// <summary>
    /// Scans a word, number or address from <paramref name="start"/> (word characters start at <paramref name="j"/>,
    /// after a sign or <c>@</c>) and appends its tokens. Inside a word these join (as spaCy's infix rules keep them):
    /// an apostrophe between letters ("o'clock"); a hyphen between letters or digits, but not digit-digit
    /// ("state-of-the-art", "covid-19", but "1 - 2"); a period between digits ("3.5") or letters, unless an
    /// upper-case letter follows a lower-case one ("U.S", "e.g", "Ph.D", but "end . Start"); a comma or colon between
    /// digits ("1,000", "10:30"); <c>&amp;</c> and <c>*</c> between letters ("AT&amp;T", "f*ck"); trailing <c>+</c>
    /// ("C++"). An <c>@</c> with a domain after it makes an e-mail address; a domain followed by <c>/</c> a web address.
    /// </summary>
    int ScanWord(int start, int j)
    {
        int n = _s.Length;
        int prev = j > start ? _s[j - 1] : -1;
        while (j < n)
        {
            int cp = CharClass.CodePointAt(_s, j, out int len);
            if (CharClass.IsWordChar(cp))
            {
                if (j > start && RepetitionStartsAt(j)) break;
                prev = cp;
                j += len;
                continue;
            }
            int next = j + 1 < n ? CharClass.CodePointAt(_s, j + 1, out _) : -1;
            bool join = cp switch
            {
                '\'' or '\u2019' => CharClass.IsLetter(prev) && CharClass.IsLetter(next),
                '-' => CharClass.IsLetterOrDigit(prev) && CharClass.IsLetterOrDigit(next)
                       && !(CharClass.IsDigit(prev) && CharClass.IsDigit(next)),
                '.' => (CharClass.IsDigit(prev) && CharClass.IsDigit(next))
                       || (CharClass.IsLetter(prev) && CharClass.IsLetter(next) && !SplitsLowerFromUpper(prev, j + 1)),
                ',' or ':' => CharClass.IsDigit(prev) && CharClass.IsDigit(next),
                '&' => CharClass.IsLetter(prev) && CharClass.IsLetter(next),
                _ => false,
            };
            if (join && !RepetitionStartsAt(j + 1))
            {
                j++;
                continue;
            }
            if (cp == '*' && CharClass.IsLetter(prev))
            {
                int k = j + RunLength(j, '*');
                if (k - j < MinRepeats && k < n && CharClass.IsLetter(_s[k]))
                {
                    j = k;
                    continue;
                }
            }
            if (cp == '+' && CharClass.IsLetter(prev))
            {
                int k = j + RunLength(j, '+');
                if (k - j <= 2 && (k == n || !CharClass.IsLetterOrDigit(CharClass.CodePointAt(_s, k, out _)))) j = k;
            }
            else if (cp == '@' && j > start && !CharClass.IsWhitespace(_s[j - 1]))
            {
                int end = UrlMatcher.MatchEmailDomain(_s, j);
                if (end > j) return Add(start, end);
            }
            break;
        }

        int url = UrlMatcher.MatchPathAfterHost(_s, start, j);
        if (url > j) return Add(start, url);
        // "Mr." "U.S." "J." keep their period, unless it starts an ellipsis.
        if (j < n && _s[j] == '.' && (j + 1 == n || (_s[j + 1] != '.' && !CharClass.IsLetterOrDigit(_s[j + 1])))
            && WordRules.KeepsTrailingPeriod(_s[start..j]))
            j++;
        WordRules.Append(_s, start, j, _out);
        return j;
    }

    /// <summary>
    /// spaCy's infix rule for a period between letters: it splits a lower-case letter from an upper-case one
    /// ("end.Start", "movie.I"), unless the upper-case letter ends a dotted abbreviation ("Ph.D.").
    /// </summary>
    bool SplitsLowerFromUpper(int prev, int p)
    {
        if (!CharClass.IsLower(prev) || !CharClass.IsUpper(CharClass.CodePointAt(_s, p, out int len))) return false;
        return p + len >= _s.Length || _s[p + len] != '.';
    }
}
