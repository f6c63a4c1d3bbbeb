namespace Ulmfit.Tests.Text;

/// <summary>Rule 1: HTML and WikiText escapes are undone before anything else.</summary>
public class HtmlCleanupTests
{
    [Theory]
    [InlineData("a<br />b", "xxbos a \n b")]
    [InlineData("one<br /><br />two", "xxbos one \n\n two")]
    [InlineData("x<BR>y<br/>z</br>w", "xxbos x \n y \n z \n w")]
    [InlineData("line\\nbreak", "xxbos line \n break")]
    [InlineData("Tom &amp; Jerry", "xxbos xxmaj tom & xxmaj jerry")]
    [InlineData("&quot;Hi&quot; &lt;b&gt;", "xxbos \" xxmaj hi \" < b >")]
    [InlineData("it&#39;s &#x263A;", "xxbos it 's ☺")]
    [InlineData("caf&eacute; na&iuml;ve&nbsp;&copy;", "xxbos café naïve ©")]
    [InlineData("wait&#150;no", "xxbos wait – no")]
    [InlineData("double &amp;quot;escaped&amp;quot;", "xxbos double \" escaped \"")]
    public void Html_tags_and_character_references_are_undone(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    // AG News and IMDb dumps lost the "&" of their references.
    [InlineData("Oil quot;rises quot; #36;40 it#39;s", "xxbos xxmaj oil \" rises \" $ 40 it 's")]
    [InlineData("I#146;m", "xxbos i 'm")]
    [InlineData("a camp; b", "xxbos a camp ; b")]
    [InlineData("top #1; #10; x", "xxbos top # 1 ; # 10 ; x")]
    public void References_without_their_ampersand_are_undone_only_where_unambiguous(string input, string expected) =>
        Golden.Check(input, expected);

    [Theory]
    [InlineData("state @-@ of @-@ the @-@ art", "xxbos state-of-the-art")]
    [InlineData("3 @.@ 5 and 1 @,@ 000", "xxbos 3.5 and 1,000")]
    [InlineData("the <unk> sat", "xxbos the xxunk sat")]
    [InlineData("a<unk>b", "xxbos a xxunk b")]
    public void WikiText_escapes_and_unknown_words_are_undone(string input, string expected) => Golden.Check(input, expected);
}
