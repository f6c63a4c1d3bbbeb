using Ulmfit.Text;

namespace Ulmfit.IO;

/// <summary>
/// The <c>tokenizer</c> section of a model manifest: which version of the text rules produced the vocabulary, and the
/// switches they ran with. A model only understands text tokenized the same way, so whoever loads a package should
/// tokenize with <see cref="ToOptions"/> and compare <see cref="RulesVersion"/> with <see cref="UlmfitTokenizer.RulesVersion"/>.
/// </summary>
public sealed record TokenizerSpec
{
    /// <summary>The rules version string, e.g. <c>"ulmfit-rules-1"</c>.</summary>
    public required string RulesVersion { get; init; }

    /// <summary>The switches (every one is written, so a package never depends on a default that might change).</summary>
    public required TokenizerOptionsSpec Options { get; init; }

    /// <summary>The spec of <paramref name="tokenizer"/>.</summary>
    public static TokenizerSpec From(UlmfitTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        UlmfitTokenizerOptions o = tokenizer.Options;
        return new TokenizerSpec
        {
            RulesVersion = UlmfitTokenizer.RulesVersion,
            Options = new TokenizerOptionsSpec(o.Lowercase, o.MarkCase, o.AddBeginningOfStream, o.AddEndOfStream, o.CleanHtml,
                o.ReplaceCharacterRepetitions, o.ReplaceWordRepetitions, o.KeepLineBreaks),
        };
    }

    /// <summary>Whether this library's tokenizer implements the rules the package was made with.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool MatchesThisLibrary => RulesVersion == UlmfitTokenizer.RulesVersion;

    /// <summary>The tokenizer options to use with this model.</summary>
    public UlmfitTokenizerOptions ToOptions() => new()
    {
        Lowercase = Options.Lowercase,
        MarkCase = Options.MarkCase,
        AddBeginningOfStream = Options.AddBos,
        AddEndOfStream = Options.AddEos,
        CleanHtml = Options.CleanHtml,
        ReplaceCharacterRepetitions = Options.ReplaceCharacterRepetitions,
        ReplaceWordRepetitions = Options.ReplaceWordRepetitions,
        KeepLineBreaks = Options.KeepLineBreaks,
    };

    internal IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(RulesVersion) || RulesVersion.Length > 200 || RulesVersion.Any(char.IsControl))
            yield return "tokenizer.rules_version must be a non-empty single-line string of at most 200 characters";
    }
}

/// <summary>The tokenizer switches (see <see cref="UlmfitTokenizerOptions"/> for what each does).</summary>
public sealed record TokenizerOptionsSpec(
    bool Lowercase, bool MarkCase, bool AddBos, bool AddEos, bool CleanHtml,
    bool ReplaceCharacterRepetitions, bool ReplaceWordRepetitions, bool KeepLineBreaks);
