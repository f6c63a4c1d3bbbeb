using System.Text;
using Ulmfit.Text;

namespace Ulmfit.Tests.Text;

/// <summary>Random mixtures of awkward characters and fragments never break the tokenizer or its invariants.</summary>
public class RobustnessTests
{
    const string Alphabet =
        "aAbBzZ09 .,;:!?'\"-+*&@#/\\<>()[]{}$%^_=~`|\n\t\r’…—–😂❤\uFE0F\u200D\u0301\u00ADéПж日ا\uD800\uDFFF\uD83C\uDDFA\uD83C\uDDF8";

    static readonly string[] Fragments =
    [
        "http://", "www.", "&amp;", "&#39;", "#39;", "quot;", " @-@ ", "<br />", "n't", "'s", "U.S.", "e.g.", "Mr.", "...",
        ":)", "xxbos", "xxrep", ".com/", "@x.org", "\\n", "<unk>", "&#x1F600;", "&#999999999;", "cooool", "no no no",
    ];

    [Fact]
    public void Random_text_gives_non_empty_tokens_without_white_space_the_same_every_time()
    {
        var tokenizer = UlmfitTokenizer.Default;
        var random = new Random(2024);
        for (int iteration = 0; iteration < 20_000; iteration++)
        {
            var sb = new StringBuilder();
            for (int k = random.Next(0, 40); k > 0; k--)
                sb.Append(random.Next(4) == 0 ? Fragments[random.Next(Fragments.Length)] : Alphabet[random.Next(Alphabet.Length)]);
            string text = sb.ToString();

            IReadOnlyList<string> tokens = tokenizer.Tokenize(text);

            Assert.Equal(SpecialTokens.BeginningOfStream, tokens[0]);
            foreach (string token in tokens)
            {
                Assert.NotEmpty(token);
                // Line-break tokens are made of line breaks only; no other token holds white space.
                if (token[0] == '\n') Assert.True(token is "\n" or "\n\n", $"line-break token from {text}");
                else Assert.DoesNotContain(token, c => char.IsWhiteSpace(c) || char.IsControl(c));
            }
            Assert.Equal(tokens, tokenizer.Tokenize(text));
            Assert.NotNull(tokenizer.Decode(tokens));
        }
    }
}
