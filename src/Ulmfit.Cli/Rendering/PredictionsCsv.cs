using System.Globalization;
using CsvHelper;
using Ulmfit.Classification;
using Ulmfit.Data;

namespace Ulmfit.Cli.Rendering;

/// <summary>`evaluate --predictions`: one row per evaluated document, in the order read — its actual label, the
/// predicted one, then one probability column per class (the model's class order) — written whole or not at all.</summary>
internal static class PredictionsCsv
{
    public static void Write(string path, IReadOnlyList<string> classes, IReadOnlyList<TextDocument> documents,
        IReadOnlyList<ClassificationPrediction> predictions)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = CsvWriter.Create(text, new CsvWriterOptions { NewLine = "\n" }, leaveOpen: true))
        {
            csv.WriteRecord(["label", "predicted", .. classes]);
            for (int i = 0; i < documents.Count; i++)
                csv.WriteRecord([documents[i].Label ?? "", predictions[i].Label,
                    .. predictions[i].Probabilities.Select(p => p.ToString("R", CultureInfo.InvariantCulture))]);
        }
        AtomicFile.WriteText(path, text.ToString());
    }
}
