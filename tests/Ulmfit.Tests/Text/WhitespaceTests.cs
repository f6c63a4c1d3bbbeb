namespace Ulmfit.Tests.Text;

/// <summary>White space separates tokens; line breaks inside a document are tokens.</summary>
public class WhitespaceTests
{
    [Theory]
    [InlineData("", "xxbos")]
    [InlineData("   ", "xxbos")]
    [InlineData("\t\n\r\n ", "xxbos")]
    [InlineData("\n\nhello\n\n", "xxbos hello")]
    public void Empty_and_blank_documents_are_just_xxbos(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("a \t  b", "xxbos a b")]
    [InlineData("a\nb", "xxbos a \n b")]
    [InlineData("a\r\nb", "xxbos a \n b")]
    [InlineData("a\n\n\n\nb", "xxbos a \n\n b")]
    [InlineData("a \n \n b", "xxbos a \n\n b")]
    [InlineData("\u00A0a\u2003b\u200Bc\u0001d\u200Ee\uFEFFf", "xxbos a b c d e f")]
    [InlineData("co\u00ADoperate", "xxbos co\u00ADoperate")] // a soft hyphen does not split a word
    public void Runs_of_white_space_separate_and_line_breaks_count_once_or_as_a_paragraph(string input, string expected) =>
        Golden.Check(input, expected);

    [Fact]
    public void Marker_words_in_the_text_are_kept_as_markers()
    {
        Golden.Check("xxbos xxunk", "xxbos xxbos xxunk");
    }
}
