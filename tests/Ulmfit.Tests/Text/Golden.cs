using Ulmfit.Text;

namespace Ulmfit.Tests.Text;

/// <summary>Golden-case helper: an input and its exact tokens, written as one space-separated string.</summary>
static class Golden
{
    public static void Check(string input, string expected, UlmfitTokenizerOptions? options = null)
    {
        var tokenizer = options is null ? UlmfitTokenizer.Default : new UlmfitTokenizer(options);
        Assert.Equal(expected.Split(' '), tokenizer.Tokenize(input));
    }
}
