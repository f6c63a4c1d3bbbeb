namespace Ulmfit.Text;

/// <summary>The decimal text of repeat counts, made once for the common small ones.</summary>
internal static class Counts
{
    static readonly string[] Small = Enumerable.Range(0, 128).Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public static string Text(int count) =>
        (uint)count < (uint)Small.Length ? Small[count] : count.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// Rule 3 (fastai's replace_wrep): three or more copies in a row of one word become <c>xxwrep n w</c>
/// ("this is is is good" → "this xxwrep 3 is good"). Words compare exactly, before lower-casing, as in fastai.
/// A word here is a token of word characters only (fastai's <c>\w+</c>); punctuation, markers, line breaks and
/// the character of an <c>xxrep</c> never count, so "xxx x x" does not become "xxrep 3 xxwrep 3 x".
/// </summary>
internal static class WordRepetition
{
    const int MinRepeats = 3;

    /// <summary>
    /// Replaces runs of repeated words in <paramref name="tokens"/>, in place: a run of k ≥ 3 tokens becomes 3,
    /// so the write position never passes the read position.
    /// </summary>
    public static void Apply(ReadOnlySpan<char> source, List<RawToken> tokens)
    {
        int count = tokens.Count, write = 0;
        for (int i = 0; i < count;)
        {
            RawToken token = tokens[i];
            int j = i + 1;
            if (token.Kind == RawTokenKind.Text)
            {
                ReadOnlySpan<char> text = token.Text(source);
                while (j < count && tokens[j].Kind == RawTokenKind.Text && tokens[j].Text(source).SequenceEqual(text)) j++;
                if (j - i >= MinRepeats && IsWord(text))
                {
                    tokens[write++] = RawToken.Of(SpecialTokens.WordRepeat);
                    tokens[write++] = RawToken.Of(Counts.Text(j - i));
                    tokens[write++] = token;
                    i = j;
                    continue;
                }
            }
            // The whole run of equal tokens at once: going token by token would compare each run quadratically.
            for (int k = i; k < j; k++) tokens[write++] = tokens[k];
            i = j;
        }
        tokens.RemoveRange(write, count - write);
    }

    static bool IsWord(ReadOnlySpan<char> text)
    {
        for (int k = 0; k < text.Length;)
        {
            if (!CharClass.IsWordChar(CharClass.CodePointAt(text, k, out int len))) return false;
            k += len;
        }
        return text.Length > 0;
    }
}
