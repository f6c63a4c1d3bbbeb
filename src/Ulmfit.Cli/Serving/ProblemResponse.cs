using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Ulmfit.Cli.Serving;

/// <summary>Writes an error as <c>application/problem+json</c> (RFC 9457): <c>type</c>, <c>title</c>, <c>status</c>, <c>detail</c>.</summary>
internal static class ProblemResponse
{
    public const string ContentType = "application/problem+json";

    public static async Task WriteAsync(HttpContext http, RequestProblem problem)
    {
        http.Response.StatusCode = problem.Status;
        http.Response.ContentType = ContentType;
        // The rest of a too-large body is never read, so the connection cannot carry another request: say so, or
        // a client reusing it would see its next request fail.
        if (problem.Status == StatusCodes.Status413PayloadTooLarge) http.Response.Headers.Connection = "close";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonWriting.Options))
        {
            json.WriteStartObject();
            json.WriteString("type", "about:blank");
            json.WriteString("title", problem.Title);
            json.WriteNumber("status", problem.Status);
            json.WriteString("detail", problem.Detail);
            json.WriteEndObject();
        }
        http.Response.ContentLength = buffer.Length;
        await http.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), http.RequestAborted);
    }
}
