using Ulmfit.Text;

namespace Ulmfit.Tests.Text;

/// <summary>Decode undoes the markers and re-attaches punctuation for display.</summary>
public class DecodeTests
{
    readonly UlmfitTokenizer _tokenizer = UlmfitTokenizer.Default;

    [Theory]
    [InlineData("xxbos xxmaj hello , xxup world !", "Hello, WORLD!")]
    [InlineData("c xxrep 4 o l", "cooool")]
    [InlineData("s xxrep 3 o good xxrep 4 !", "sooo good!!!!")]
    [InlineData("xxwrep 3 xxup no", "NO NO NO")]
    [InlineData("do n't ca n't i 'm it 's", "don't can't i'm it's")]
    [InlineData("do nt gon na", "dont gonna")]
    [InlineData("xxbos xxfld 1 title xxfld 2 body xxeos xxpad xxpad", "title\nbody")]
    [InlineData("( hello ) $ 5 7 / 10 and 1 - 2 but a - b", "(hello) $5 7/10 and 1-2 but a - b")]
    [InlineData("\" hi \" she said", "\"hi\" she said")]
    [InlineData("my friends ' books", "my friends' books")]
    [InlineData("line \n\n next", "line\n\nnext")]
    [InlineData("xxmaj привет , xxup мир", "Привет, МИР")]
    public void Markers_are_undone_and_punctuation_reattached(string tokens, string expected) =>
        Assert.Equal(expected, _tokenizer.Decode(tokens.Split(' ')));

    [Theory]
    [InlineData("Hello, WORLD! This is state-of-the-art (really).")]
    [InlineData("Don't stop, we'll see: it's 10% of $5.")]
    [InlineData("This is cooool!!!! Wait... what? NO NO NO")]
    [InlineData("The U.S. and e.g. Mr. Smith visit https://example.com/a?b=1 now.")]
    [InlineData("\"Quoted,\" she said [aside] 7/10.\n\nNext paragraph.")]
    [InlineData("Привет, мир! 日本語です。 😂😂😂 👍🏻")]
    public void Decoding_tokens_gives_back_ordinary_text(string text) =>
        Assert.Equal(text, _tokenizer.Decode(_tokenizer.Tokenize(text)));

    [Fact]
    public void Decoding_nothing_or_only_markers_gives_empty_text()
    {
        Assert.Equal("", _tokenizer.Decode([]));
        Assert.Equal("", _tokenizer.Decode(["xxbos", "xxpad", "xxmaj"]));
        Assert.Equal("xxrep", _tokenizer.Decode(["xxrep"]));
    }
}
