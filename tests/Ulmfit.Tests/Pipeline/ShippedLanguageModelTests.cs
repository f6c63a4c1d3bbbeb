using Ulmfit.Data;
using Ulmfit.Modeling;
using Ulmfit.Pipeline;
using Ulmfit.Text;
using Ulmfit.Training;

namespace Ulmfit.Tests.Pipeline;

/// <summary>The pretrained LMs committed under models/ (copied next to the program by the build) really model English.</summary>
[Collection(Ulmfit.Tests.Training.TorchRandomCollection.Name)]
public class ShippedLanguageModelTests
{
    static readonly string[] Sentences =
    [
        "The city is located on the northern bank of the river and was founded in the twelfth century.",
        "He was born in London and studied mathematics at the University of Cambridge before joining the army.",
        "The species is found in tropical forests, where it feeds mainly on insects and small fruit.",
        "In 1905 the company began to build cars, and by the end of the decade it was the largest manufacturer in the country.",
    ];

    [SkippableTheory]
    [InlineData(ShippedLanguageModels.ForwardName, false)]
    [InlineData(ShippedLanguageModels.BackwardName, true)]
    public void A_shipped_model_finds_real_sentences_far_likelier_than_their_words_shuffled(string name, bool backwards)
    {
        string? path = ShippedLanguageModels.Find(name);
        Skip.If(path == null, $"models/{name} is not installed next to the tests (it ships in the repository's models/ folder)");

        var (model, vocabulary, manifest) = LanguageModelFolder.Load(path!, AwdLstmDropouts.None);
        using var _ = model;
        Assert.Equal(backwards, manifest.Architecture.Backwards);
        var tokenizer = UlmfitTokenizer.Default;
        var real = Sentences.Select(s => vocabulary.Encode(tokenizer.Tokenize(s))).ToArray();
        var random = new Random(3);
        var shuffled = real.Select(ids => ids.Take(1).Concat(ids.Skip(1).OrderBy(_ => random.Next())).ToArray()).ToArray();

        var batching = new LanguageModelBatcherOptions { BatchSize = 1, Bptt = 70, Backwards = backwards };
        double realLoss = LanguageModelEvaluator.Evaluate(model, new InMemoryTokenDocuments(real), batching).Loss;
        double shuffledLoss = LanguageModelEvaluator.Evaluate(model, new InMemoryTokenDocuments(shuffled), batching).Loss;
        // A model that learned English word order scores the real text at least one nat per token better.
        Assert.True(realLoss + 1.0 < shuffledLoss, $"real {realLoss:F3} vs shuffled {shuffledLoss:F3} nats per token");
    }
}
