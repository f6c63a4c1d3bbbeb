using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Modeling;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Classification;

/// <summary>Small classifiers and documents for the classification tests.</summary>
internal static class TinyClassifiers
{
    public const int Vocab = 40;
    public static readonly string[] Classes = ["alpha", "beta", "gamma"];

    /// <summary>emb 8, hidden 12, 3 layers, bptt 4, pooled window 12 tokens.</summary>
    public static TextClassifierConfig Config(AwdLstmDropouts? dropouts = null, int bptt = 4, int maxLength = 12,
        bool multiLabel = false, bool backwards = false, int vocab = Vocab, string[]? classes = null) =>
        new(new AwdLstmConfig(vocab) { EmbeddingSize = 8, HiddenSize = 12, Layers = 3, Dropouts = dropouts ?? AwdLstmDropouts.Classifier, DropMult = 0.5 },
            classes ?? Classes)
        { Bptt = bptt, MaxLength = maxLength, HeadHiddenSize = 6, MultiLabel = multiLabel, Backwards = backwards };

    /// <summary>Random documents of the given lengths with ids in [2, vocab) (never padding).</summary>
    public static int[][] Documents(IReadOnlyList<int> lengths, ulong seed, int vocab = Vocab)
    {
        var random = new Xoshiro256StarStar(seed);
        return [.. lengths.Select(n => Enumerable.Range(0, n).Select(_ => 2 + random.NextInt(vocab - 2)).ToArray())];
    }

    /// <summary>A padded batch of <paramref name="documents"/> (rows in the given order).</summary>
    public static ClassifierBatch Batch(TextClassifierConfig config, IReadOnlyList<int[]> documents)
    {
        var batcher = new ClassifierBatcher(new InMemoryTokenDocuments(documents), config);
        return batcher.Build(Enumerable.Range(0, documents.Count).ToArray());
    }

    /// <summary>
    /// A separable synthetic task: class c documents are mostly words from band c (ids 10c+2 … 10c+11) mixed with
    /// shared noise words, 3 to 14 tokens long.
    /// </summary>
    public static ClassificationDataset BandTask(int count, ulong seed, int classCount = 3)
    {
        var random = new Xoshiro256StarStar(seed);
        var documents = new int[count][];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int c = i % classCount;
            labels[i] = c;
            documents[i] = Enumerable.Range(0, 3 + random.NextInt(12))
                .Select(_ => random.NextDouble() < 0.7 ? 2 + 10 * c + random.NextInt(10) : 2 + 10 * classCount + random.NextInt(6))
                .ToArray();
        }
        string[] classes = [.. Enumerable.Range(0, classCount).Select(c => $"class{c}")];
        return ClassificationDataset.SingleLabel(new InMemoryTokenDocuments(documents), labels, classes);
    }

    public static float MaxAbsDifference(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        using var d = (a - b).abs().max();
        return d.item<float>();
    }
}
