namespace Ulmfit.Text;

/// <summary>What a scanned token is, which decides the later rules that apply to it.</summary>
internal enum RawTokenKind : byte
{
    /// <summary>Text from the document: may be repeated (<c>xxwrep</c>), case-marked and lower-cased.</summary>
    Text,
    /// <summary>A marker or count the rules produced (<c>xxrep</c>, <c>4</c>): emitted exactly as written.</summary>
    Verbatim,
    /// <summary>The character of an <c>xxrep</c>: lower-cased, but never part of a word repetition.</summary>
    RepeatUnit,
}

/// <summary>
/// One token as the scanner found it: a slice of the cleaned text, or a literal string when the rules changed the
/// characters (markers, counts, normalised apostrophes, line breaks). Strings are made only once, at the end.
/// </summary>
internal readonly struct RawToken
{
    public readonly int Start;
    public readonly int Length;
    public readonly string? Literal;
    public readonly RawTokenKind Kind;

    RawToken(int start, int length, string? literal, RawTokenKind kind)
    {
        Start = start;
        Length = length;
        Literal = literal;
        Kind = kind;
    }

    public static RawToken Slice(int start, int length, RawTokenKind kind = RawTokenKind.Text) => new(start, length, null, kind);
    public static RawToken Of(string literal, RawTokenKind kind = RawTokenKind.Verbatim) => new(0, literal.Length, literal, kind);

    public ReadOnlySpan<char> Text(ReadOnlySpan<char> source) => Literal is null ? source.Slice(Start, Length) : Literal.AsSpan();
}
