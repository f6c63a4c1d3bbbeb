using System.Text.Json;
using Ulmfit.Classification;

namespace Ulmfit.Cli.Serving;

/// <summary>
/// The body of a successful <c>POST /v1/classify</c>: <c>{"model": NAME, "predictions": [{"label": L, "probabilities":
/// {CLASS: p, ...}}, ...]}</c>, one prediction per text in request order; multi-label models add <c>"labels": [...]</c>
/// (the predicted label set; <c>label</c> is then the most probable class).
/// </summary>
internal static class ClassifyResponse
{
    public static void Write(Utf8JsonWriter json, string model, IReadOnlyList<string> classes, bool multiLabel, IReadOnlyList<ClassificationPrediction> predictions)
    {
        json.WriteStartObject();
        json.WriteString("model", model);
        json.WriteStartArray("predictions");
        foreach (var prediction in predictions)
        {
            json.WriteStartObject();
            json.WriteString("label", prediction.Label);
            if (multiLabel)
            {
                json.WriteStartArray("labels");
                foreach (string label in prediction.Labels) json.WriteStringValue(label);
                json.WriteEndArray();
            }
            json.WriteStartObject("probabilities");
            for (int c = 0; c < classes.Count; c++) json.WriteNumber(classes[c], prediction.Probabilities[c]);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
