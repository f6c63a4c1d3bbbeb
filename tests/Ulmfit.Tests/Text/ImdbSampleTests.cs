using System.IO.Compression;
using CsvHelper;
using Ulmfit.Text;

namespace Ulmfit.Tests.Text;

/// <summary>The tokenizer on real reviews from the shared IMDb training set (skipped when the data is absent).</summary>
public class ImdbSampleTests
{
    static string? SharedFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ulmfit.slnx")))
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
        return null;
    }

    static List<string> FirstReviews(string path, int count)
    {
        var texts = new List<string>(count);
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var csv = CsvReader.Create(gzip, null, false);
        while (texts.Count < count && csv.Read()) texts.Add(csv.GetString("text"));
        return texts;
    }

    [SkippableFact]
    public void Real_reviews_tokenize_cleanly()
    {
        string? shared = SharedFolder();
        string path = Path.Combine(shared ?? "", "data", "imdb", "train.csv.gz");
        Skip.If(shared == null || !File.Exists(path), $"IMDb training data not found at {path}");

        List<string> reviews = FirstReviews(path, 500);
        var tokenizer = UlmfitTokenizer.Default;
        IReadOnlyList<string>[] documents = tokenizer.TokenizeMany(reviews, threads: 2);

        // The first review, as fastai would tokenize it (from the start).
        Assert.Equal("xxbos xxmaj story of a man who has unnatural feelings for a pig . xxmaj starts out".Split(' '),
            documents[0].Take(17));
        foreach (var tokens in documents)
        {
            Assert.Equal(SpecialTokens.BeginningOfStream, tokens[0]);
            Assert.DoesNotContain(tokens, t => t.Length == 0 || t.Contains(' ') || t.Contains("<br") || t.Any(char.IsUpper));
            Assert.NotEqual(SpecialTokens.Capitalised, tokens[^1]);
            for (int k = 0; k < tokens.Count; k++)
                if (tokens[k] == SpecialTokens.Repeat) Assert.True(int.Parse(tokens[k + 1]) >= 3);
        }
        // Paragraph breaks from "<br /><br />" are kept.
        Assert.Contains(documents, tokens => tokens.Contains("\n\n"));
    }
}
