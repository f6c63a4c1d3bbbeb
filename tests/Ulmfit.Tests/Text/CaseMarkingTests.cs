namespace Ulmfit.Tests.Text;

/// <summary>
/// Rule 5's case markers, with fastai v1's per-token tests in Python's terms: xxup when the token has two or more
/// characters and <c>isupper()</c>; xxmaj when it has two or more, its first is upper case and the rest
/// <c>islower()</c>. One-letter words ("I", "A") and mixed case ("iPhone", "McDonald") get no marker.
/// </summary>
public class CaseMarkingTests
{
    [Theory]
    [InlineData("Hello World", "xxbos xxmaj hello xxmaj world")]
    [InlineData("GREAT movie", "xxbos xxup great movie")]
    [InlineData("I saw A film", "xxbos i saw a film")]
    [InlineData("iPhone McDonald eBay", "xxbos iphone mcdonald ebay")]
    [InlineData("Mr. Smith", "xxbos xxmaj mr. xxmaj smith")]
    [InlineData("the U.S. OK.", "xxbos the xxup u.s. xxup ok .")]
    [InlineData("3D A1 B-52", "xxbos xxup 3d xxup a1 xxup b-52")] // Python: "3D".isupper() is True
    [InlineData("ÉCOLE Élan", "xxbos xxup école xxmaj élan")]
    [InlineData("ПРИВЕТ Мир", "xxbos xxup привет xxmaj мир")]
    [InlineData("I'M HERE", "xxbos i xxup 'm xxup here")]
    public void Case_is_marked_and_then_lowered(string input, string expected) => Golden.Check(input, expected);
}
