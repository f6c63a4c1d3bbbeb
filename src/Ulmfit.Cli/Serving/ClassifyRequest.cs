using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Ulmfit.Cli.Serving;

/// <summary>What is wrong with a request: an HTTP status and one sentence for the client (RFC 9457 problem details).</summary>
internal sealed record RequestProblem(int Status, string Title, string Detail);

/// <summary>
/// The body of <c>POST /v1/classify</c>, <c>{"texts": ["...", ...]}</c>, read and checked against the limits; every
/// way it can be wrong is a <see cref="RequestProblem"/> that says exactly what (and, for a text, which one).
/// </summary>
internal static class ClassifyRequest
{
    const string Shape = "the body must be a JSON object {\"texts\": [\"...\", ...]}";

    /// <summary>The texts of the request, or the problem with it.</summary>
    public static async Task<(string[]? Texts, RequestProblem? Problem)> ReadAsync(HttpRequest request, ServeOptions limits, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
            return (null, new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"the body must be JSON with Content-Type: application/json (got {(string.IsNullOrEmpty(request.ContentType) ? "no Content-Type" : $"'{request.ContentType}'")})"));
        if (request.ContentLength > limits.MaxBodyBytes) return (null, TooLarge(limits));
        JsonDocument document;
        try
        {
            // Kestrel enforces the same limit on bodies without a length (chunked) while they are read.
            document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(limits));
        }
        catch (JsonException e)
        {
            return (null, new(StatusCodes.Status400BadRequest, "Invalid JSON", $"the body is not valid JSON: {Describe(e)}"));
        }
        using (document)
        {
            var problem = Check(document.RootElement, limits, out string[]? texts);
            return (texts, problem);
        }
    }

    /// <summary>Checks a parsed body; on success <paramref name="texts"/> holds the texts in order.</summary>
    public static RequestProblem? Check(JsonElement root, ServeOptions limits, out string[]? texts)
    {
        texts = null;
        if (root.ValueKind != JsonValueKind.Object) return Bad("Invalid request", $"{Shape}, not {Kind(root.ValueKind)}");
        if (!root.TryGetProperty("texts", out JsonElement list)) return Bad("Missing texts", $"{Shape}: 'texts' is missing");
        if (list.ValueKind != JsonValueKind.Array) return Bad("Invalid texts", $"'texts' must be an array of strings, not {Kind(list.ValueKind)}");
        int count = list.GetArrayLength();
        if (count == 0) return Bad("Empty texts", "'texts' is empty: give at least one text to classify");
        if (count > limits.MaxTexts)
            return Bad("Too many texts", $"'texts' has {count:N0} texts, more than the limit of {limits.MaxTexts:N0} a request (--max-texts); split it into several requests");
        var values = new string[count];
        int i = 0;
        foreach (JsonElement item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) return Bad("Invalid text", $"texts[{i}] is {Kind(item.ValueKind)}, not a string");
            string text;
            try
            {
                text = item.GetString()!;
            }
            catch (InvalidOperationException)
            {
                // Valid JSON syntax, but an escape that is no text: a lone UTF-16 surrogate such as "\ud800".
                return Bad("Invalid text", $"texts[{i}] is not valid Unicode text (an unpaired surrogate escape)");
            }
            if (text.Length > limits.MaxTextChars)
                return Bad("Text too long", $"texts[{i}] has {text.Length:N0} characters, more than the limit of {limits.MaxTextChars:N0} (--max-text-chars)");
            values[i++] = text;
        }
        texts = values;
        return null;
    }

    static RequestProblem Bad(string title, string detail) => new(StatusCodes.Status400BadRequest, title, detail);

    static RequestProblem TooLarge(ServeOptions limits) => new(StatusCodes.Status413PayloadTooLarge, "Request body too large",
        $"the body is larger than the limit of {limits.MaxBodyBytes:N0} bytes (--max-body-bytes); split it into several requests");

    static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    // System.Text.Json's message names the line and byte ("... LineNumber: 0 | BytePositionInLine: 7."): keep it on one line.
    static string Describe(JsonException e) => e.Message.ReplaceLineEndings(" ").Trim();
}
