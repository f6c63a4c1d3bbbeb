namespace Ulmfit.Text;

/// <summary>
/// Switches for <see cref="UlmfitTokenizer"/>. The defaults are fastai's ULMFiT rules; every switch that is not at its
/// default shows up in <see cref="UlmfitTokenizer.Version"/>, so caches keyed by the version never mix outputs.
/// </summary>
public sealed record UlmfitTokenizerOptions
{
    /// <summary>fastai's defaults: everything on except the end-of-stream marker.</summary>
    public static UlmfitTokenizerOptions Default { get; } = new();

    /// <summary>Lower-case every token (after case marking). Default true.</summary>
    public bool Lowercase { get; init; } = true;

    /// <summary>Put <c>xxup</c> before ALL-CAPS tokens and <c>xxmaj</c> before Capitalised ones. Default true.</summary>
    public bool MarkCase { get; init; } = true;

    /// <summary>Start each document with <c>xxbos</c>. Default true.</summary>
    public bool AddBeginningOfStream { get; init; } = true;

    /// <summary>End each document with <c>xxeos</c>. Default false (as fastai).</summary>
    public bool AddEndOfStream { get; init; }

    /// <summary>Undo HTML and WikiText escapes (<c>&lt;br /&gt;</c>, <c>&amp;amp;</c>, <c>@-@</c>, ...). Default true.</summary>
    public bool CleanHtml { get; init; } = true;

    /// <summary>Replace 3 or more repeats of one character by <c>xxrep n c</c>. Default true.</summary>
    public bool ReplaceCharacterRepetitions { get; init; } = true;

    /// <summary>Replace 3 or more repeats of one word by <c>xxwrep n w</c>. Default true.</summary>
    public bool ReplaceWordRepetitions { get; init; } = true;

    /// <summary>
    /// Keep line breaks inside a document as tokens: <c>"\n"</c> for one, <c>"\n\n"</c> for two or more (a paragraph,
    /// as fastai's IMDb vocabulary has it). When false they are plain spaces. Default true.
    /// </summary>
    public bool KeepLineBreaks { get; init; } = true;

    /// <summary>The non-default switches in a fixed order, for the version string; empty for the defaults.</summary>
    internal string Signature()
    {
        var parts = new List<string>();
        void Add(string name, bool value, bool fallback)
        {
            if (value != fallback) parts.Add($"{name}={(value ? 1 : 0)}");
        }
        Add("lower", Lowercase, true);
        Add("case", MarkCase, true);
        Add("bos", AddBeginningOfStream, true);
        Add("eos", AddEndOfStream, false);
        Add("html", CleanHtml, true);
        Add("rep", ReplaceCharacterRepetitions, true);
        Add("wrep", ReplaceWordRepetitions, true);
        Add("nl", KeepLineBreaks, true);
        return string.Join(",", parts);
    }
}
