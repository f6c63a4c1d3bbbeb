namespace Ulmfit.Text;

/// <summary>
/// The marker tokens of ULMFiT's text rules, in the order that gives them ids 0..8 in every vocabulary
/// (the same order fastai uses, so imported vocabularies line up).
/// </summary>
public static class SpecialTokens
{
    /// <summary>Unknown word (id 0).</summary>
    public const string Unknown = "xxunk";
    /// <summary>Padding (id 1).</summary>
    public const string Padding = "xxpad";
    /// <summary>Beginning of a document (id 2).</summary>
    public const string BeginningOfStream = "xxbos";
    /// <summary>End of a document (id 3).</summary>
    public const string EndOfStream = "xxeos";
    /// <summary>Field marker, followed by the field number (id 4).</summary>
    public const string Field = "xxfld";
    /// <summary>Character repetition: <c>xxrep n c</c> (id 5).</summary>
    public const string Repeat = "xxrep";
    /// <summary>Word repetition: <c>xxwrep n w</c> (id 6).</summary>
    public const string WordRepeat = "xxwrep";
    /// <summary>The next word was written in capitals (id 7).</summary>
    public const string AllCaps = "xxup";
    /// <summary>The next word was capitalised (id 8).</summary>
    public const string Capitalised = "xxmaj";

    /// <summary>All markers in id order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Unknown, Padding, BeginningOfStream, EndOfStream, Field, Repeat, WordRepeat, AllCaps, Capitalised];

    public const int UnknownId = 0;
    public const int PaddingId = 1;
    public const int BeginningOfStreamId = 2;
    public const int EndOfStreamId = 3;
}
