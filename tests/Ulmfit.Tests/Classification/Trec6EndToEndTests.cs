using System.Diagnostics;
using TorchSharp;
using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using Ulmfit.Tests.Data;
using Ulmfit.Tests.Training;
using Ulmfit.Text;
using Xunit.Abstractions;

namespace Ulmfit.Tests.Classification;

/// <summary>The whole classifier path on real data: read, tokenize, build a vocabulary, train from scratch, evaluate.</summary>
[Collection(TorchRandomCollection.Name)]
public class Trec6EndToEndTests(ITestOutputHelper output)
{
    static (List<TextDocument> Train, List<TextDocument> Test) Read()
    {
        var options = new DocumentReaderOptions { LabelRequired = true };
        return (DocumentReader.Read(SharedData.PathOf("data/trec6/train.csv"), options).Take(1500).ToList(),
                DocumentReader.Read(SharedData.PathOf("data/trec6/test.csv"), options).ToList());
    }

    [SkippableFact]
    public async Task A_small_classifier_trained_from_scratch_on_1500_trec6_questions_beats_the_majority_class_by_far()
    {
        Skip.If(SharedData.Folder is null, "../shared is not present next to the repository");
        TorchRuntime.Initialise(1); // a small model is bound by per-operator overhead; one thread is not slowed by a busy machine
        var clock = Stopwatch.StartNew();
        var (trainDocuments, testDocuments) = Read();
        var labels = LabelSetCheck.Check(trainDocuments, "trec6/train.csv");
        var tokenizer = UlmfitTokenizer.Default;
        var trainTokens = trainDocuments.Select(d => tokenizer.Tokenize(d)).ToList();
        var counter = new TokenCounter();
        foreach (var tokens in trainTokens) counter.Add(tokens);
        var vocabulary = Vocabulary.Build(counter, new VocabularySettings(MaxSize: 60_000, MinFrequency: 2));
        var train = ClassificationDataset.FromLabelStrings(new InMemoryTokenDocuments([.. trainTokens.Select(vocabulary.Encode)]),
            [.. trainDocuments.Select(d => d.Label)], labels.Classes);
        var test = ClassificationDataset.FromLabelStrings(
            new InMemoryTokenDocuments([.. testDocuments.Select(d => vocabulary.Encode(tokenizer.Tokenize(d)))]),
            [.. testDocuments.Select(d => d.Label)], labels.Classes, source: "trec6/test.csv");

        torch.manual_seed(1);
        var config = TextClassifierConfig.ForLanguageModel(
            new AwdLstmConfig(vocabulary.Count) { EmbeddingSize = 64, HiddenSize = 128, Layers = 3 }, labels.Classes, dropMult: 0.3);
        using var classifier = new TextClassifier(config);
        var options = new ClassifierTrainerOptions
        {
            Stages = UnfreezingStage.AllAtOnce(epochs: 8, learningRate: 1e-2),
            GroupLearningRateFactor = 1, // from scratch: nothing pretrained to protect
            Batching = new ClassifierBatchingOptions { BatchSize = 32 },
            Seed = 7,
        };
        var result = await new ClassifierTrainer(classifier, train, null, options).TrainAsync();
        var evaluation = ClassifierEvaluator.Evaluate(classifier, test);

        // The best constant answer on the test set: its most frequent class (DESC, 138 of 500).
        int[] testCounts = test.ClassCounts();
        double majority = (double)testCounts.Max() / test.Count;
        output.WriteLine($"test accuracy {evaluation.Accuracy:P1} (majority {majority:P1}), macro-F1 {evaluation.MacroF1:F3}, " +
                         $"best epoch {result.BestEpoch}, {result.DocumentsPerSecond:F0} docs/s training, {clock.Elapsed.TotalSeconds:F1} s in all");
        Assert.Equal(0.276, majority, 3);
        Assert.True(evaluation.Accuracy > majority + 0.3, $"test accuracy {evaluation.Accuracy:P1} vs majority {majority:P1}");
        Assert.Equal(500, evaluation.SingleLabel!.ConfusionMatrix.Sum(row => row.Sum()));
    }
}
