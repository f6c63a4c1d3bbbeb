namespace Ulmfit.Tests.Text;

/// <summary>Rule 4 and the punctuation part of word splitting.</summary>
public class PunctuationTests
{
    [Theory]
    [InlineData("hello, world!", "xxbos hello , world !")]
    [InlineData("\"Hi,\" she said (quietly).", "xxbos \" xxmaj hi , \" she said ( quietly ) .")]
    [InlineData("[x] {y} <z>", "xxbos [ x ] { y } < z >")]
    [InlineData("'quoted'", "xxbos ' quoted '")]
    [InlineData("¿Qué? ¡Sí!", "xxbos ¿ xxmaj qué ? ¡ xxmaj sí !")]
    [InlineData("wait... what?!", "xxbos wait ... what ? !")]
    [InlineData("Hello…", "xxbos xxmaj hello …")]
    [InlineData("end.Start", "xxbos end . xxmaj start")]
    [InlineData("the movie.I think", "xxbos the movie . i think")]
    [InlineData("a;b:c", "xxbos a ; b : c")]
    public void Punctuation_is_split_from_words(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("and/or 7/10", "xxbos and / or 7 / 10")]
    [InlineData("#1 C# a\\b", "xxbos # 1 c # a \\ b")]
    public void Slash_hash_and_backslash_are_always_tokens(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("yes--no — maybe", "xxbos yes -- no — maybe")]
    [InlineData("well - okay", "xxbos well - okay")]
    public void Dashes_are_tokens(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData(":) :-( <3 ;)", "xxbos :) :-( <3 ;)")]
    [InlineData("great:)", "xxbos great : )")]
    public void Emoticons_stay_whole_only_when_standing_apart(string input, string expected) => Golden.Check(input, expected);
}
