namespace Ulmfit.Text;

/// <summary>
/// Gives one string instance per distinct short token, per thread: tokenizing a corpus then allocates each word
/// once instead of once per occurrence (less garbage, and token lists that share their strings). Bounded, so an
/// endless stream of new words only stops being cached. Not thread-safe: each thread has its own.
/// </summary>
internal sealed class TokenStringCache
{
    const int MaxEntries = 1 << 18;
    const int MaxLength = 32;

    readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public TokenStringCache()
    {
        _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (string marker in SpecialTokens.All) _strings[marker] = marker;
    }

    public string Get(ReadOnlySpan<char> text)
    {
        if (text.Length > MaxLength) return new string(text);
        if (_lookup.TryGetValue(text, out string? known)) return known;
        string made = new(text);
        if (_strings.Count < MaxEntries) _strings.Add(made, made);
        return made;
    }
}
