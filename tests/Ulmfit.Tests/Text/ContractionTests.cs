namespace Ulmfit.Tests.Text;

/// <summary>Contractions and possessives split the way spaCy's English rules split them.</summary>
public class ContractionTests
{
    [Theory]
    [InlineData("don't", "xxbos do n't")]
    [InlineData("I'm", "xxbos i 'm")]
    [InlineData("we'll", "xxbos we 'll")]
    [InlineData("can't", "xxbos ca n't")]
    [InlineData("won't", "xxbos wo n't")]
    [InlineData("they've", "xxbos they 've")]
    [InlineData("he's", "xxbos he 's")]
    [InlineData("I'd", "xxbos i 'd")]
    [InlineData("you're", "xxbos you 're")]
    [InlineData("shouldn't've", "xxbos should n't 've")]
    public void Contractions_split_before_the_apostrophe(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("John's", "xxbos xxmaj john 's")]
    [InlineData("NASA's", "xxbos xxup nasa 's")]
    [InlineData("the 1990's", "xxbos the 1990 's")]
    [InlineData("students' essays", "xxbos students ' essays")]
    public void Possessives_split_off(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("don’t it’s", "xxbos do n't it 's")]
    [InlineData("DON'T", "xxbos xxup do xxup n't")]
    [InlineData("it 's do n't", "xxbos it 's do n't")] // already tokenised text stays as it is
    [InlineData("'em", "xxbos 'em")]
    public void Typographic_apostrophes_capitals_and_pretokenised_text_give_the_same_suffixes(string input, string expected) =>
        Golden.Check(input, expected);

    [Theory]
    [InlineData("dont cant wont didnt", "xxbos do nt ca nt wo nt did nt")]
    [InlineData("gonna wanna gotta cannot", "xxbos gon na wan na got ta can not")]
    [InlineData("im ive youre", "xxbos i m i ve you re")]
    [InlineData("ill well were its", "xxbos ill well were its")]
    public void Contractions_without_apostrophe_split_unless_they_are_words(string input, string expected) =>
        Golden.Check(input, expected);

    [Theory]
    [InlineData("o'clock rock'n'roll y'all O'Neil", "xxbos o'clock rock'n'roll y'all o'neil")]
    public void Apostrophes_inside_words_stay(string input, string expected) => Golden.Check(input, expected);
}
