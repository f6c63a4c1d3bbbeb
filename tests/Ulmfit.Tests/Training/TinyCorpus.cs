using Ulmfit.Data;
using Ulmfit.Text;

namespace Ulmfit.Tests.Training;

/// <summary>Small synthetic corpora for trainer tests.</summary>
internal static class TinyCorpus
{
    /// <summary>Vocabulary of <see cref="Counting"/>: the 9 special tokens, then 10 "digits" (ids 9..18).</summary>
    public const int CountingVocab = 19;

    /// <summary>Documents "xxbos d, d+1, d+2, …" (digits wrapping round 10): each token after the first digit is
    /// fully predictable, so a small LSTM can drive its loss far below the uniform ln(19) ≈ 2.94.</summary>
    public static InMemoryTokenDocuments Counting(int documents, int length, int seed)
    {
        var random = new Random(seed);
        var docs = new List<int[]>();
        for (int d = 0; d < documents; d++)
        {
            var doc = new int[length];
            doc[0] = SpecialTokens.BeginningOfStreamId;
            int digit = random.Next(10);
            for (int i = 1; i < length; i++) doc[i] = 9 + (digit + i - 1) % 10;
            docs.Add(doc);
        }
        return new InMemoryTokenDocuments(docs);
    }

    /// <summary>Documents of distinct ids: document d holds d*1000 + 0, 1, 2, … so every token says where it came from.</summary>
    public static InMemoryTokenDocuments Labelled(params int[] lengths) =>
        new([.. lengths.Select((length, d) => Enumerable.Range(0, length).Select(i => d * 1000 + i).ToArray())]);
}
