using Ulmfit.Data;
using Ulmfit.Text;

namespace Ulmfit.Tests.Data;

public class VocabularyTests
{
    static TokenCounter Counts(params (string Token, long Count)[] counts)
    {
        var counter = new TokenCounter();
        foreach (var (token, count) in counts) counter.Add(token, count);
        return counter;
    }

    [Fact]
    public void Special_tokens_come_first_in_fastai_order()
    {
        var vocab = Vocabulary.Build(Counts(("the", 10), ("xxbos", 100)), new VocabularySettings(MinFrequency: 1));

        Assert.Equal(SpecialTokens.All, vocab.Tokens.Take(9));
        Assert.Equal(SpecialTokens.BeginningOfStreamId, vocab.Encode("xxbos"));
        Assert.Equal(9, vocab.Encode("the"));
    }

    [Fact]
    public void Words_are_ordered_by_frequency_then_ordinally()
    {
        var vocab = Vocabulary.Build(Counts(("b", 5), ("a", 5), ("c", 9), ("B", 5), ("d", 3)));

        Assert.Equal(["c", "B", "a", "b", "d"], vocab.Tokens.Skip(9).Take(5));
    }

    [Fact]
    public void Tokens_below_the_minimum_frequency_are_left_out()
    {
        var vocab = Vocabulary.Build(Counts(("often", 3), ("rare", 2)), new VocabularySettings(MinFrequency: 3));

        Assert.True(vocab.Contains("often"));
        Assert.False(vocab.Contains("rare"));
        Assert.Equal(SpecialTokens.UnknownId, vocab.Encode("rare"));
    }

    [Fact]
    public void The_maximum_size_counts_the_special_tokens()
    {
        var counts = Counts(Enumerable.Range(0, 100).Select(i => ($"w{i:D3}", 100L - i)).ToArray());

        var vocab = Vocabulary.Build(counts, new VocabularySettings(MaxSize: 16));

        Assert.Equal(16, vocab.Count);
        Assert.Equal(["w000", "w001", "w002", "w003", "w004", "w005", "w006"], vocab.Tokens.Skip(9));
    }

    [Fact]
    public void The_size_is_padded_to_a_multiple_of_8_with_fillers_that_never_encode()
    {
        var vocab = Vocabulary.Build(Counts(("one", 5), ("two", 4), ("xxfake", 50)));

        Assert.Equal(16, vocab.Count);
        Assert.Equal(["one", "two"], vocab.Tokens.Skip(9).Take(2));
        Assert.All(vocab.Tokens.Skip(11), t => Assert.Equal(Vocabulary.Filler, t));
        Assert.Equal(SpecialTokens.UnknownId, vocab.Encode(Vocabulary.Filler));
        Assert.Equal(Vocabulary.Filler, vocab.Decode(15));
    }

    [Fact]
    public void A_full_multiple_of_8_gets_no_fillers()
    {
        var counts = Counts(Enumerable.Range(0, 7).Select(i => ($"w{i}", 10L)).ToArray());

        Assert.Equal(16, Vocabulary.Build(counts).Count);
    }

    [Fact]
    public void Unknown_tokens_encode_to_xxunk_and_are_counted()
    {
        var vocab = Vocabulary.Build(Counts(("known", 5)));
        var ids = new int[3];

        int unknown = vocab.Encode(["xxbos", "known", "never-seen"], ids);

        Assert.Equal([2, 9, 0], ids);
        Assert.Equal(1, unknown);
        Assert.Equal(["xxbos", "known", "xxunk"], vocab.Decode(ids));
        Assert.Throws<ArgumentOutOfRangeException>(() => vocab.Decode(vocab.Count));
    }

    [Fact]
    public void Json_round_trip_keeps_every_entry_and_the_hash()
    {
        using var dir = new TempDirectory();
        var vocab = Vocabulary.Build(Counts(("héllo", 9), ("\"quoted\"", 8), ("back\\slash", 7)));
        string path = dir.PathOf("vocab.json");

        vocab.Save(path);
        var loaded = Vocabulary.Load(path);

        Assert.Equal(vocab.Tokens, loaded.Tokens);
        Assert.Equal(vocab.Hash, loaded.Hash);
        Assert.Equal(vocab.BuiltWith, loaded.BuiltWith);
        Assert.Equal([path], TempDirectory.FilesIn(dir.Root)); // no temporary file left
    }

    [Fact]
    public void Different_entries_give_different_hashes()
    {
        var ab = Vocabulary.FromTokens([.. SpecialTokens.All, "ab", "c"]);
        var a = Vocabulary.FromTokens([.. SpecialTokens.All, "a", "bc"]);

        Assert.NotEqual(ab.Hash, a.Hash);
    }

    [Theory]
    [InlineData("{\"format_version\": 2, \"tokens\": []}", "format_version 2 is not supported")]
    [InlineData("{\"tokens\": []}", "missing 'format_version'")]
    [InlineData("{\"format_version\": 1, \"tokens\": [\"xxunk\",\"xxpad\",\"xxeos\",\"xxbos\",\"xxfld\",\"xxrep\",\"xxwrep\",\"xxup\",\"xxmaj\"]}",
        "special token 'xxbos' must have id 2, found 'xxeos'")]
    [InlineData("{\"format_version\": 1, \"tokens\": [\"xxunk\",\"xxpad\",\"xxbos\",\"xxeos\",\"xxfld\",\"xxrep\",\"xxwrep\",\"xxup\",\"xxmaj\",\"the\",\"a\",\"the\"]}",
        "token 'the' appears twice in the vocabulary (ids 9 and 11)")]
    [InlineData("{\"format_version\": 1, \"size\": 3, \"tokens\": [\"xxunk\",\"xxpad\",\"xxbos\",\"xxeos\",\"xxfld\",\"xxrep\",\"xxwrep\",\"xxup\",\"xxmaj\"]}",
        "'size' is 3 but there are 9 tokens")]
    [InlineData("{\"format_version\": 1, \"size\": \"9\", \"tokens\": [\"xxunk\",\"xxpad\",\"xxbos\",\"xxeos\",\"xxfld\",\"xxrep\",\"xxwrep\",\"xxup\",\"xxmaj\"]}",
        "malformed vocabulary")]
    [InlineData("{\"format_version\": \"1\", \"tokens\": []}", "missing 'format_version'")]
    public void Loading_rejects_files_that_are_not_valid_vocabularies(string json, string problem)
    {
        using var dir = new TempDirectory();
        string path = dir.Write("vocab.json", json);

        var e = Assert.Throws<InvalidInputException>(() => Vocabulary.Load(path));

        Assert.StartsWith($"{path}: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Loading_broken_json_names_line_and_column()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("vocab.json", "{\n  \"format_version\": 1,\n  \"tokens\": [oops]\n}");

        var e = Assert.Throws<InvalidInputException>(() => Vocabulary.Load(path));

        Assert.StartsWith($"{path}:3:14: not valid JSON", e.Message);
    }

    [Fact]
    public void Counting_on_several_threads_gives_the_same_counts_as_one()
    {
        var tokenizer = new WhitespaceTestTokenizer();
        var docs = Enumerable.Range(0, 500).Select(i => TextDocument.FromText($"w{i % 7} w{i % 13} shared w{i % 3}")).ToList();

        var one = TokenCounter.Count(docs, tokenizer, threads: 1);
        var four = TokenCounter.Count(docs, tokenizer, threads: 4);

        Assert.Equal(one.Counts.OrderBy(kv => kv.Key, StringComparer.Ordinal), four.Counts.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(500, four["shared"]);
        Assert.Equal(500, four["xxbos"]);
        Assert.Equal(2500, four.TotalTokens);
        Assert.Equal(Vocabulary.Build(one).Hash, Vocabulary.Build(four).Hash);
    }

    [Fact]
    public void Extending_keeps_every_pretrained_id_and_appends_the_tasks_new_words_by_frequency()
    {
        var pretrained = Vocabulary.Build(Counts(("the", 50), ("film", 40), ("good", 30)), new VocabularySettings(MinFrequency: 1));
        var task = Counts(("film", 9), ("zombie", 7), ("gore", 4), ("rare", 2), ("xxbos", 99));

        var extended = Vocabulary.Extend(pretrained, task, new VocabularySettings(MinFrequency: 3));

        foreach (string token in pretrained.Tokens.Where(t => t != Vocabulary.Filler))
            Assert.Equal(pretrained.Encode(token), extended.Encode(token));
        Assert.Equal(["zombie", "gore"], extended.Tokens.Skip(pretrained.Tokens.Count(t => t != Vocabulary.Filler)).Take(2));
        Assert.Equal(SpecialTokens.UnknownId, extended.Encode("rare"));   // below the minimum frequency
        Assert.Equal(0, extended.Count % 8);
    }

    [Fact]
    public void Extending_stops_at_the_maximum_size()
    {
        var pretrained = Vocabulary.Build(Counts(("a", 5), ("b", 4)), new VocabularySettings(MinFrequency: 1));
        var task = Counts(Enumerable.Range(0, 50).Select(i => ($"w{i:D2}", 100L - i)).ToArray());

        var extended = Vocabulary.Extend(pretrained, task, new VocabularySettings(MaxSize: 24));

        Assert.Equal(24, extended.Count);
        Assert.Equal(["a", "b", "w00", "w01"], extended.Tokens.Skip(9).Take(4));
        Assert.Equal(pretrained.Encode("b"), extended.Encode("b"));
    }
}
