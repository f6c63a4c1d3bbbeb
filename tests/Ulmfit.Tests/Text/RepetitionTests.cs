namespace Ulmfit.Tests.Text;

/// <summary>Rules 2 and 3: repeated characters become xxrep, repeated words xxwrep.</summary>
public class RepetitionTests
{
    [Theory]
    [InlineData("cooool", "xxbos c xxrep 4 o l")]
    [InlineData("Wow!!!!", "xxbos xxmaj wow xxrep 4 !")]
    [InlineData("Hmmm...", "xxbos h xxrep 3 m ...")]
    [InlineData("wait....", "xxbos wait xxrep 4 .")]
    [InlineData("SOOOO", "xxbos s xxrep 4 o")]
    [InlineData("no---", "xxbos no xxrep 3 -")]
    [InlineData("😂😂😂😂 ❤️❤️❤️", "xxbos xxrep 4 😂 xxrep 3 ❤️")]
    public void Three_or_more_copies_of_a_character_become_xxrep(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("1000000 people", "xxbos 1000000 people")]
    [InlineData("wait...", "xxbos wait ...")]
    [InlineData("aa", "xxbos aa")]
    [InlineData("aaa\u0301", "xxbos aaa\u0301")] // the third a carries an accent: only two plain copies
    public void Digits_the_ellipsis_and_short_runs_are_not_repetitions(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("this is is is good", "xxbos this xxwrep 3 is good")]
    [InlineData("no no no no!", "xxbos xxwrep 4 no !")]
    [InlineData("NO NO NO", "xxbos xxwrep 3 xxup no")]
    public void Three_or_more_copies_of_a_word_become_xxwrep(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("Very very very", "xxbos xxmaj very very very")] // words compare exactly, as in fastai
    [InlineData("ha ha", "xxbos ha ha")]
    [InlineData(", , , ,", "xxbos , , , ,")]
    [InlineData("xxx x x", "xxbos xxrep 3 x x x")] // the x of xxrep is not a word to repeat
    public void Word_repetition_needs_three_identical_words(string input, string expected) => Golden.Check(input, expected);
}
