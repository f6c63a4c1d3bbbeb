using System.Text.Json;
using Ulmfit.IO;
using Ulmfit.Pipeline;

namespace Ulmfit.Cli.Serving;

/// <summary>
/// The body of <c>GET /v1/model</c>, made once at start-up: the model's name, classes, dtype, and per member package
/// (forward, backward) its architecture and package version, read from each manifest; and the server's batching
/// limits, so a client can size its requests.
/// </summary>
internal static class ModelDescription
{
    public static byte[] Create(string name, FittedModel model, ServeOptions options)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonWriting.Options with { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("model", name);
            json.WriteStartArray("classes");
            foreach (string c in model.Classes) json.WriteStringValue(c);
            json.WriteEndArray();
            json.WriteBoolean("multi_label", model.MultiLabel);
            json.WriteString("dtype", Modeling.ComputePrecisions.Name(model.Precision));
            json.WriteString("int8_path", Modeling.ComputePrecisions.KernelPath(model.Precision));   // null unless int8
            ModelManifest first = ModelPackage.ReadManifest(model.Members[0]);
            WriteArchitecture(json, first.Architecture);
            json.WriteNumber("format_version", first.FormatVersion);
            json.WriteString("library_version", first.LibraryVersion);
            json.WriteStartArray("members");
            foreach (string member in model.Members)
            {
                ModelManifest manifest = member == model.Members[0] ? first : ModelPackage.ReadManifest(member);
                json.WriteStartObject();
                json.WriteString("direction", manifest.Architecture.Backwards ? "backward" : "forward");
                json.WriteString("path", Path.GetFullPath(member));
                WriteArchitecture(json, manifest.Architecture);
                json.WriteNumber("format_version", manifest.FormatVersion);
                json.WriteString("library_version", manifest.LibraryVersion);
                json.WriteString("created_utc", manifest.CreatedUtc);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartObject("limits");
            json.WriteNumber("max_batch", options.MaxBatch);
            json.WriteNumber("max_delay_ms", options.MaxDelay.TotalMilliseconds);
            json.WriteNumber("max_texts", options.MaxTexts);
            json.WriteNumber("max_text_chars", options.MaxTextChars);
            json.WriteNumber("max_body_bytes", options.MaxBodyBytes);
            json.WriteNumber("max_queued_texts", options.MaxQueuedTexts);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    static void WriteArchitecture(Utf8JsonWriter json, ArchitectureSpec architecture)
    {
        json.WriteStartObject("architecture");
        json.WriteString("name", architecture.Name);
        json.WriteNumber("vocab_size", architecture.VocabSize);
        json.WriteNumber("emb", architecture.EmbeddingSize);
        json.WriteNumber("hidden", architecture.HiddenSize);
        json.WriteNumber("layers", architecture.Layers);
        json.WriteEndObject();
    }
}
