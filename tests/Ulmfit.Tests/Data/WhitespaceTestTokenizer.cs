using Ulmfit.Text;

namespace Ulmfit.Tests.Data;

/// <summary>
/// Test double for the real ULMFiT tokenizer: lower-cases and splits on whitespace, with the same markers
/// (<c>xxbos</c>, <c>xxfld n</c>). Can be told to fail on a word, to test error paths.
/// </summary>
sealed class WhitespaceTestTokenizer(string version = "whitespace-test-1", string? failOn = null) : ITextTokenizer
{
    public string Version => version;

    public IReadOnlyList<string> Tokenize(string text)
    {
        var tokens = new List<string> { SpecialTokens.BeginningOfStream };
        AddWords(text, tokens);
        return tokens;
    }

    public IReadOnlyList<string> TokenizeFields(IReadOnlyList<string> fields)
    {
        var tokens = new List<string> { SpecialTokens.BeginningOfStream };
        for (int i = 0; i < fields.Count; i++)
        {
            tokens.Add(SpecialTokens.Field);
            tokens.Add((i + 1).ToString());
            AddWords(fields[i], tokens);
        }
        return tokens;
    }

    void AddWords(string text, List<string> tokens)
    {
        foreach (string word in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (failOn != null && word == failOn) throw new FormatException($"cannot tokenize '{word}'");
            tokens.Add(word.ToLowerInvariant());
        }
    }
}
