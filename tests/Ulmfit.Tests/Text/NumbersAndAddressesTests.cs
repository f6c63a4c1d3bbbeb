namespace Ulmfit.Tests.Text;

/// <summary>Numbers, abbreviations, hyphenated words and addresses stay whole.</summary>
public class NumbersAndAddressesTests
{
    [Theory]
    [InlineData("3.5 1,000 -2 +7 .5", "xxbos 3.5 1,000 -2 +7 .5")]
    [InlineData("10% $5 5$ €20", "xxbos 10 % $ 5 5 $ € 20")]
    [InlineData("10:30 on 1-2 (-3)", "xxbos 10:30 on 1 - 2 ( -3 )")]
    [InlineData("10km 5kg 10pm 12:30am 1990s 2nd", "xxbos 10 km 5 kg 10 pm 12:30 am 1990s 2nd")]
    [InlineData("It cost 1,000.", "xxbos xxmaj it cost 1,000 .")]
    public void Numbers_stay_whole_and_units_and_currency_come_off(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("e.g. i.e. a.m. etc.", "xxbos e.g. i.e. a.m. etc.")]
    [InlineData("Ph.D. J. Smith", "xxbos ph.d. xxup j. xxmaj smith")]
    [InlineData("Dr. Who at St. Louis", "xxbos xxmaj dr. xxmaj who at xxmaj st. xxmaj louis")]
    [InlineData("said I.", "xxbos said i .")]
    public void Abbreviations_keep_their_period(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("state-of-the-art covid-19 3-year-old", "xxbos state-of-the-art covid-19 3-year-old")]
    [InlineData("AT&T f*ck C++", "xxbos xxup at&t f*ck xxup c++")]
    public void Words_with_inner_punctuation_stay_whole(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("see https://en.wikipedia.org/wiki/Foo_(bar)).", "xxbos see https://en.wikipedia.org/wiki/foo_(bar) ) .")]
    [InlineData("www.imdb.com/title/tt0111161/", "xxbos www.imdb.com/title/tt0111161/")]
    [InlineData("at imdb.com/title/x, ok", "xxbos at imdb.com/title/x , ok")]
    [InlineData("Mail john.smith@example.org.", "xxbos xxmaj mail john.smith@example.org .")]
    [InlineData("@user hi", "xxbos @user hi")]
    [InlineData("http://wwww.x.com/#!/a!!!", "xxbos http://wwww.x.com/#!/a xxrep 3 !")]
    public void Web_and_mail_addresses_stay_whole(string input, string expected) => Golden.Check(input, expected);
}
