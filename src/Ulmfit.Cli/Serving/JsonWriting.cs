using System.Text.Encodings.Web;
using System.Text.Json;

namespace Ulmfit.Cli.Serving;

/// <summary>How the server writes JSON: quotes, apostrophes and non-ASCII text as themselves, not <c>\u0022</c>
/// escapes (the bodies are served as JSON, never embedded in HTML, so the default encoder's HTML-safety is not needed).</summary>
internal static class JsonWriting
{
    public static JsonWriterOptions Options { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
