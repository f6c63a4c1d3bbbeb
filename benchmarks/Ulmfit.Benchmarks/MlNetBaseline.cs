using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ulmfit.Data;
using Ulmfit.Training;

namespace Ulmfit.Benchmarks;

/// <summary>
/// The classifier a .NET developer gets without us: ML.NET's <c>FeaturizeText</c> (its defaults: word 1–2-grams and
/// character 3-grams, normalised) feeding <c>SdcaMaximumEntropy</c> on its defaults. It trains and scores on exactly the
/// documents <c>ulmfit fit --train-sample N --seed S</c> and <c>ulmfit evaluate --sample M --seed S</c> draw, so the
/// low-shot benchmark compares the two on identical samples.
/// </summary>
public static class MlNetBaseline
{
    /// <summary>The stream <c>ClassifierPipeline</c> derives its training draw from (<c>DeriveSeed(seed, 7)</c>).</summary>
    const ulong TrainingDrawStream = 7;

    sealed class Row
    {
        public string Text { get; set; } = "";
        public string Label { get; set; } = "";
    }

    sealed class Scored
    {
        [ColumnName("PredictedLabel")] public string Predicted { get; set; } = "";
        [ColumnName("Score")] public float[] Score { get; set; } = [];
    }

    /// <param name="predictionsPath">When given, each test document's actual label and class probabilities are written
    /// there as CSV (header <c>label</c>, then the classes), in the order <c>ulmfit evaluate</c> reads them.</param>
    public static JsonObject Run(string trainPath, string testPath, int? trainSample, int? testSample, int seed, string? predictionsPath = null)
    {
        var reader = new DocumentReaderOptions { LabelRequired = true };
        IReadOnlyList<TextDocument> train = DocumentReader.Read(trainPath, reader).ToList();
        IReadOnlyList<TextDocument> test = DocumentReader.Read(testPath, reader).ToList();
        if (trainSample is int n)
        {
            if (n > train.Count) throw new ArgumentException($"--train-sample {n} is larger than {trainPath}'s {train.Count} labelled documents");
            train = LabelledSample.Pick(train, n, Xoshiro256StarStar.DeriveSeed((ulong)seed, TrainingDrawStream));
        }
        if (testSample is int m) test = LabelledSample.Pick(test, m, (ulong)seed);

        var ml = new MLContext(seed);
        var clock = Stopwatch.StartNew();
        var pipeline = ml.Transforms.Conversion.MapValueToKey("LabelKey", nameof(Row.Label))
            .Append(ml.Transforms.Text.FeaturizeText("Features", nameof(Row.Text)))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("LabelKey", "Features"))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(ml.Data.LoadFromEnumerable(train.Select(ToRow)));
        double fitSeconds = clock.Elapsed.TotalSeconds;

        // A test label the training draw never saw cannot be predicted: it counts as an error, as it does for fit.
        var scoredView = model.Transform(ml.Data.LoadFromEnumerable(test.Select(ToRow)));
        var scored = ml.Data.CreateEnumerable<Scored>(scoredView, reuseRowObject: false).ToList();
        var predicted = scored.Select(s => s.Predicted).ToList();
        if (predictionsPath != null)
        {
            VBuffer<ReadOnlyMemory<char>> slotNames = default;
            scoredView.Schema["Score"].GetSlotNames(ref slotNames);
            var csv = new System.Text.StringBuilder("label");
            foreach (var name in slotNames.DenseValues()) csv.Append(',').Append(name.ToString());
            csv.Append('\n');
            foreach (var (document, score) in test.Zip(scored))
            {
                csv.Append(document.Label);
                foreach (float p in score.Score) csv.Append(',').Append(p.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                csv.Append('\n');
            }
            AtomicFile.WriteText(predictionsPath, csv.ToString());
        }
        int errors = test.Zip(predicted).Count(p => !string.Equals(p.First.Label, p.Second, StringComparison.Ordinal));
        return new JsonObject
        {
            ["baseline"] = "ml.net FeaturizeText + SdcaMaximumEntropy (defaults)",
            ["train"] = trainPath,
            ["test"] = testPath,
            ["train_documents"] = train.Count,
            ["test_documents"] = test.Count,
            ["seed"] = seed,
            ["error_rate"] = test.Count == 0 ? 0 : (double)errors / test.Count,
            ["fit_seconds"] = Math.Round(fitSeconds, 3),
        };
    }

    static Row ToRow(TextDocument d) => new() { Text = string.Join(" ", d.Fields), Label = d.Label! };
}
