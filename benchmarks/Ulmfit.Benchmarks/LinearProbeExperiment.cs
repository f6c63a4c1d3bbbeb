using System.Diagnostics;
using System.Text.Json.Nodes;
using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Modeling;
using Ulmfit.Pipeline;
using Ulmfit.Text;
using Ulmfit.Training;

namespace Ulmfit.Benchmarks;

/// <summary>
/// A linear probe of a language model's encoder on the low-shot benchmark's draws: the frozen encoder's concat-pooled
/// features of each document, an L2 logistic regression on them with the penalty chosen by 5-fold cross-validation,
/// scored on the same test documents <c>ulmfit evaluate --sample M --seed S</c> draws.
/// </summary>
public static class LinearProbeExperiment
{
    public static JsonObject Run(string languageModel, bool backwards, string trainPath, string testPath, int? trainSample, int? testSample, int seed)
    {
        var reader = new DocumentReaderOptions { LabelRequired = true };
        IReadOnlyList<TextDocument> train = DocumentReader.Read(trainPath, reader).ToList();
        IReadOnlyList<TextDocument> test = DocumentReader.Read(testPath, reader).ToList();
        if (trainSample is int n) train = LabelledSample.Pick(train, n, Xoshiro256StarStar.DeriveSeed((ulong)seed, 7));
        if (testSample is int m) test = LabelledSample.Pick(test, m, (ulong)seed);
        var classes = train.Select(d => d.Label!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);

        var clock = Stopwatch.StartNew();
        var (lm, vocabulary, _) = LanguageModelFolder.Load(languageModel, AwdLstmDropouts.None);
        using var classifier = new TextClassifier(TextClassifierConfig.ForLanguageModel(lm.Config, classes, backwards: backwards));
        classifier.LoadEncoderWeights(lm);
        lm.Dispose();
        float[][] Features(IReadOnlyList<TextDocument> documents) => ClassifierEvaluator.PooledFeatures(classifier,
            new InMemoryTokenDocuments([.. documents.Select(d => vocabulary.Encode(UlmfitTokenizer.Default.Tokenize(d)))]));
        var trainFeatures = Features(train);
        var testFeatures = Features(test);
        double featureSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        int[] labels = [.. train.Select(d => index[d.Label!])];
        var (model, estimates) = LogisticRegression.FitCrossValidated(trainFeatures, labels, classes.Count, seed: (ulong)seed);
        double fitSeconds = clock.Elapsed.TotalSeconds;
        int errors = 0;
        for (int i = 0; i < test.Count; i++)
            if (!index.TryGetValue(test[i].Label!, out int actual) || ClassifierEvaluation.ArgMax(model.Probabilities(testFeatures[i])) != actual) errors++;
        return new JsonObject
        {
            ["probe"] = "frozen encoder, concat pooling, L2 logistic regression (5-fold CV penalty)",
            ["lm"] = languageModel,
            ["train"] = trainPath,
            ["train_documents"] = train.Count,
            ["test_documents"] = test.Count,
            ["seed"] = seed,
            ["penalty"] = model.Penalty,
            ["cv"] = new JsonArray([.. estimates.Select(e => (JsonNode)new JsonObject { ["penalty"] = e.Penalty, ["loss"] = Math.Round(e.HeldOutLoss, 4), ["error"] = Math.Round(e.HeldOutError, 4) })]),
            ["error_rate"] = test.Count == 0 ? 0 : (double)errors / test.Count,
            ["feature_seconds"] = Math.Round(featureSeconds, 2),
            ["fit_seconds"] = Math.Round(fitSeconds, 2),
        };
    }
}
