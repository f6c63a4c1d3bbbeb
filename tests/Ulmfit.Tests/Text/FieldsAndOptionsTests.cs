using Ulmfit.Text;

namespace Ulmfit.Tests.Text;

/// <summary>Multi-field documents (fastai's mark_fields), the switches, and the version string.</summary>
public class FieldsAndOptionsTests
{
    readonly UlmfitTokenizer _tokenizer = UlmfitTokenizer.Default;

    [Fact]
    public void Fields_are_numbered_from_one_after_xxbos()
    {
        Assert.Equal("xxbos xxfld 1 xxmaj title xxfld 2 xxmaj body".Split(' '), _tokenizer.TokenizeFields(["Title", "Body"]));
        Assert.Equal("xxbos xxfld 1 title xxfld 2 body".Split(' '), _tokenizer.TokenizeFields(["title", "body"]));
    }

    [Fact]
    public void Empty_fields_keep_their_number_and_no_fields_is_just_xxbos()
    {
        Assert.Equal("xxbos xxfld 1 xxfld 2 x".Split(' '), _tokenizer.TokenizeFields(["", "x"]));
        Assert.Equal(["xxbos"], _tokenizer.TokenizeFields([]));
    }

    [Fact]
    public void Word_repetition_does_not_reach_across_fields()
    {
        Assert.Equal("xxbos xxfld 1 no no xxfld 2 no".Split(' '), _tokenizer.TokenizeFields(["no no", "no"]));
    }

    [Fact]
    public void A_null_field_is_rejected_with_its_number()
    {
        var error = Assert.Throws<ArgumentException>(() => _tokenizer.TokenizeFields(["a", null!]));
        Assert.Contains("Field 2", error.Message);
    }

    [Fact]
    public void Case_can_be_kept_or_dropped()
    {
        Golden.Check("Hello WORLD", "xxbos Hello WORLD", new UlmfitTokenizerOptions { Lowercase = false, MarkCase = false });
        Golden.Check("Hello WORLD", "xxbos hello world", new UlmfitTokenizerOptions { MarkCase = false });
        Golden.Check("Hello WORLD", "xxbos xxmaj Hello xxup WORLD", new UlmfitTokenizerOptions { Lowercase = false });
    }

    [Fact]
    public void Stream_markers_line_breaks_html_and_repetitions_can_be_switched()
    {
        Golden.Check("a b", "a b xxeos", new UlmfitTokenizerOptions { AddBeginningOfStream = false, AddEndOfStream = true });
        Golden.Check("a\nb", "xxbos a b", new UlmfitTokenizerOptions { KeepLineBreaks = false });
        Golden.Check("a<br />b", "xxbos a < br / > b", new UlmfitTokenizerOptions { CleanHtml = false });
        Golden.Check("cooool!!! no no no", "xxbos cooool ! ! ! no no no",
            new UlmfitTokenizerOptions { ReplaceCharacterRepetitions = false, ReplaceWordRepetitions = false });
    }

    [Fact]
    public void Version_names_the_rules_and_every_non_default_switch()
    {
        Assert.Equal("ulmfit-rules-1", UlmfitTokenizer.Default.Version);
        Assert.Equal(UlmfitTokenizer.RulesVersion, new UlmfitTokenizer(new UlmfitTokenizerOptions()).Version);
        Assert.Equal("ulmfit-rules-1+lower=0,eos=1", new UlmfitTokenizer(new UlmfitTokenizerOptions { Lowercase = false, AddEndOfStream = true }).Version);
        Assert.NotEqual(new UlmfitTokenizer(new UlmfitTokenizerOptions { KeepLineBreaks = false }).Version,
            new UlmfitTokenizer(new UlmfitTokenizerOptions { CleanHtml = false }).Version);
    }

    [Fact]
    public void The_tokenizer_is_the_shared_interface()
    {
        ITextTokenizer tokenizer = new UlmfitTokenizer();
        Assert.Equal(["xxbos", "hi"], tokenizer.Tokenize("hi"));
        Assert.Throws<ArgumentNullException>(() => tokenizer.Tokenize(null!));
    }
}
