using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Ulmfit.Pipeline;

namespace Ulmfit.Cli.Serving;

/// <summary>What the endpoints serve: the loaded model, its description, the batcher in front of it, and the limits.</summary>
internal sealed record ServedModel(string Name, FittedModel Model, byte[] Description, MicroBatcher Batcher, ServeOptions Options);

/// <summary>
/// The HTTP API of <c>ulmfit serve</c>: <c>POST /v1/classify</c>, <c>GET /v1/model</c>, <c>GET /healthz</c> (and
/// <c>/metrics</c>, mapped by the server). Every error is <c>application/problem+json</c>, including unknown paths (404)
/// and wrong methods (405); a failing request never takes the server down.
/// </summary>
internal static class ServeEndpoints
{
    public const string Classify = "/v1/classify";
    public const string Model = "/v1/model";
    public const string Health = "/healthz";
    public const string Metrics = "/metrics";

    public static void Map(WebApplication app, ServedModel served, CancellationToken stopping)
    {
        app.MapPost(Classify, http => ClassifyAsync(http, served));
        app.MapGet(Model, http => WriteJsonAsync(http, StatusCodes.Status200OK, served.Description));
        app.MapGet(Health, http => stopping.IsCancellationRequested
            ? ProblemResponse.WriteAsync(http, new(StatusCodes.Status503ServiceUnavailable, "Shutting down", "the server is draining its last requests"))
            : WriteJsonAsync(http, StatusCodes.Status200OK, """{"status":"ok"}"""u8.ToArray()));
    }

    /// <summary>Logs one line per request (Information) and turns a failure nobody handled into a 500 problem.</summary>
    public static async Task LogAndGuardAsync(HttpContext http, RequestDelegate next, ILogger logger)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            await next(http);
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted)
        {
            logger.LogError(e, "{Method} {Path} failed", http.Request.Method, http.Request.Path);
            await ProblemResponse.WriteAsync(http, new(StatusCodes.Status500InternalServerError, "Internal error", OneLine(e.Message)));
        }
        if (logger.IsEnabled(LogLevel.Information))
            logger.LogInformation("{Method} {Path} {Status} {Milliseconds:F1} ms", http.Request.Method, http.Request.Path, http.Response.StatusCode,
                Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    /// <summary>The problem body for a status routing produced without one (404 unknown path, 405 wrong method).</summary>
    public static Task StatusProblemAsync(HttpContext http)
    {
        int status = http.Response.StatusCode;
        string paths = $"{Classify} (POST), {Model} (GET), {Health} (GET), {Metrics} (GET)";
        RequestProblem problem = status switch
        {
            StatusCodes.Status404NotFound => new(status, "Not found", $"no endpoint at {http.Request.Path}; the endpoints are {paths}"),
            StatusCodes.Status405MethodNotAllowed => new(status, "Method not allowed", $"{http.Request.Method} is not allowed on {http.Request.Path}; the endpoints are {paths}"),
            _ => new(status, ReasonPhrases(status), $"status {status}"),
        };
        return ProblemResponse.WriteAsync(http, problem);
    }

    static async Task ClassifyAsync(HttpContext http, ServedModel served)
    {
        var (texts, problem) = await ClassifyRequest.ReadAsync(http.Request, served.Options, http.RequestAborted);
        if (problem != null)
        {
            await ProblemResponse.WriteAsync(http, problem);
            return;
        }
        Classification.ClassificationPrediction[] predictions;
        try
        {
            predictions = await served.Batcher.ClassifyAsync(texts!, http.RequestAborted);
        }
        catch (QueueFullException e)
        {
            http.Response.Headers.RetryAfter = "1";
            await ProblemResponse.WriteAsync(http, new(StatusCodes.Status503ServiceUnavailable, "Busy", e.Message));
            return;
        }
        catch (InvalidOperationException e) when (e.Message.Contains("shutting down", StringComparison.Ordinal))
        {
            await ProblemResponse.WriteAsync(http, new(StatusCodes.Status503ServiceUnavailable, "Shutting down", e.Message));
            return;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return; // the client has gone
        }
        var buffer = new ArrayBufferWriter<byte>(256 + 64 * predictions.Length * (served.Model.Classes.Count + 1));
        using (var json = new Utf8JsonWriter(buffer, JsonWriting.Options))
            ClassifyResponse.Write(json, served.Name, served.Model.Classes, served.Model.MultiLabel, predictions);
        await WriteJsonAsync(http, StatusCodes.Status200OK, buffer.WrittenMemory);
    }

    static async Task WriteJsonAsync(HttpContext http, int status, ReadOnlyMemory<byte> body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, http.RequestAborted);
    }

    static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";

    static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
