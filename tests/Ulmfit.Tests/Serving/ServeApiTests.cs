using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ulmfit.Cli.Serving;
using Ulmfit.Engine;

namespace Ulmfit.Tests.Serving;

[Collection(Training.TorchRandomCollection.Name)]
public class ServeApiTests(TinyServedModel tiny) : IClassFixture<TinyServedModel>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    async Task<ClassificationServer> Start(ServeOptions? options = null) =>
        await ClassificationServer.StartAsync(tiny.Model, "tickets", (options ?? new ServeOptions()) with { Port = 0 },
            () => TorchRuntime.Initialise(1)).WaitAsync(Patience);

    static HttpClient Client(ClassificationServer server) => new() { BaseAddress = server.Address, Timeout = Patience };

    static async Task<(HttpStatusCode Status, string? ContentType, JsonElement Body)> Send(HttpClient client, HttpMethod method, string path,
        string? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body != null) request.Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue(contentType));
        // As curl does for large bodies: the server can refuse one that is too large (413, by its Content-Length) before
        // it is sent; without it the refusal races the upload and the client may see a reset instead.
        request.Headers.ExpectContinue = body != null;
        using var response = await client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    static string Body(IEnumerable<string> texts) => JsonSerializer.Serialize(new { texts });

    /// <summary>Asserts the served predictions are the offline ones, text by text, in order.</summary>
    void AssertSameAsOffline(IReadOnlyList<string> texts, JsonElement body)
    {
        var offline = tiny.Model.Predict(texts);
        var predictions = body.GetProperty("predictions");
        Assert.Equal(texts.Count, predictions.GetArrayLength());
        int i = 0;
        foreach (JsonElement served in predictions.EnumerateArray())
        {
            Assert.Equal(offline[i].Label, served.GetProperty("label").GetString());
            var probabilities = served.GetProperty("probabilities");
            for (int c = 0; c < tiny.Model.Classes.Count; c++)
                Assert.Equal(offline[i].Probabilities[c], probabilities.GetProperty(tiny.Model.Classes[c]).GetSingle(), 4);
            i++;
        }
    }

    [Fact]
    public async Task Should_Answer_Every_Status_Code_Of_The_Contract_With_A_Problem_That_Says_What_Is_Wrong()
    {
        // Given a server with small limits
        await using var server = await Start(new ServeOptions { MaxTexts = 4, MaxTextChars = 50, MaxBodyBytes = 1024 });
        using var client = Client(server);

        // Then health, model and a good request answer 200
        var health = await Send(client, HttpMethod.Get, "/healthz");
        Assert.Equal(HttpStatusCode.OK, health.Status);
        var model = await Send(client, HttpMethod.Get, "/v1/model");
        Assert.Equal(HttpStatusCode.OK, model.Status);
        Assert.Equal(tiny.Model.Classes, model.Body.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("awd-lstm", model.Body.GetProperty("architecture").GetProperty("name").GetString());
        Assert.Equal(Ulmfit.Modeling.ComputePrecisions.Name(tiny.Model.Precision), model.Body.GetProperty("dtype").GetString());
        Assert.Equal(Ulmfit.Modeling.ComputePrecisions.KernelPath(tiny.Model.Precision), model.Body.GetProperty("int8_path").GetString());
        Assert.Equal(1, model.Body.GetProperty("format_version").GetInt32());
        Assert.False(string.IsNullOrEmpty(model.Body.GetProperty("library_version").GetString()));
        string[] texts = ["Where is my parcel?", "I was charged twice"];
        var ok = await Send(client, HttpMethod.Post, "/v1/classify", Body(texts));
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.Equal("application/json", ok.ContentType);
        Assert.Equal("tickets", ok.Body.GetProperty("model").GetString());
        Assert.False(ok.Body.GetProperty("predictions")[0].TryGetProperty("labels", out _)); // single-label model
        AssertSameAsOffline(texts, ok.Body);

        // And every kind of bad request is a 4xx problem naming the fault
        (string Body, string ContentType, HttpStatusCode Status, string Detail)[] bad =
        [
            ("{\"texts\": [\"a\"", "application/json", HttpStatusCode.BadRequest, "the body is not valid JSON"),
            ("", "application/json", HttpStatusCode.BadRequest, "the body is not valid JSON"),
            ("[\"a\"]", "application/json", HttpStatusCode.BadRequest, "not an array"),
            ("{\"text\": [\"a\"]}", "application/json", HttpStatusCode.BadRequest, "'texts' is missing"),
            ("{\"texts\": \"a\"}", "application/json", HttpStatusCode.BadRequest, "'texts' must be an array of strings, not a string"),
            ("{\"texts\": [\"a\", \"b\", 7]}", "application/json", HttpStatusCode.BadRequest, "texts[2] is a number, not a string"),
            ("{\"texts\": [null]}", "application/json", HttpStatusCode.BadRequest, "texts[0] is null, not a string"),
            ("{\"texts\": []}", "application/json", HttpStatusCode.BadRequest, "'texts' is empty"),
            (Body(["a", "b", "c", "d", "e"]), "application/json", HttpStatusCode.BadRequest, "'texts' has 5 texts, more than the limit of 4 a request (--max-texts)"),
            (Body(["ok", new string('x', 51)]), "application/json", HttpStatusCode.BadRequest, "texts[1] has 51 characters, more than the limit of 50 (--max-text-chars)"),
            (Body([new string('x', 2000)]), "application/json", HttpStatusCode.RequestEntityTooLarge, "larger than the limit of 1,024 bytes (--max-body-bytes)"),
            (Body(["a"]), "text/plain", HttpStatusCode.UnsupportedMediaType, "Content-Type: application/json (got 'text/plain"),
        ];
        foreach (var (body, contentType, status, detail) in bad)
        {
            var answer = await Send(client, HttpMethod.Post, "/v1/classify", body, contentType);
            Assert.True(status == answer.Status, $"{body}: expected {status}, got {answer.Status}");
            Assert.Equal(ProblemResponse.ContentType, answer.ContentType);
            Assert.Equal((int)status, answer.Body.GetProperty("status").GetInt32());
            Assert.Contains(detail, answer.Body.GetProperty("detail").GetString());
        }
        var notFound = await Send(client, HttpMethod.Get, "/v2/classify");
        Assert.Equal(HttpStatusCode.NotFound, notFound.Status);
        Assert.Equal(ProblemResponse.ContentType, notFound.ContentType);
        var wrongMethod = await Send(client, HttpMethod.Get, "/v1/classify");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.Status);
        Assert.Equal(ProblemResponse.ContentType, wrongMethod.ContentType);

        // And the metrics endpoint reports requests and batches in Prometheus text format
        string metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("http_requests_received_total", metrics);
        Assert.Contains("ulmfit_serve_batch_texts_count 1", metrics);
    }

    [Fact]
    public async Task Should_Give_Each_Of_Many_Concurrent_Clients_Its_Own_Results_In_Order()
    {
        // Given a server that waits a little for batches to fill
        await using var server = await Start(new ServeOptions { MaxBatch = 32, MaxDelay = TimeSpan.FromMilliseconds(20) });
        using var client = Client(server);
        const int clients = 24, requestsEach = 4;

        // When many clients each send requests of 1-5 texts of their own choosing at once
        var work = Enumerable.Range(0, clients).Select(async c =>
        {
            var random = new Random(c);
            for (int r = 0; r < requestsEach; r++)
            {
                string[] texts = [.. Enumerable.Range(0, random.Next(1, 6)).Select(_ => tiny.Texts[random.Next(tiny.Texts.Count)])];
                var answer = await Send(client, HttpMethod.Post, "/v1/classify", Body(texts));
                Assert.Equal(HttpStatusCode.OK, answer.Status);
                // Then each gets the offline predictions of its own texts, in its order
                AssertSameAsOffline(texts, answer.Body);
            }
        });
        await Task.WhenAll(work).WaitAsync(TimeSpan.FromSeconds(120));

        // And requests shared batched predictions
        Assert.InRange(server.Batches, 1, clients * requestsEach - 1);
    }

    [Fact]
    public async Task Should_Split_A_Request_Larger_Than_Max_Batch_And_Keep_Its_Order()
    {
        await using var server = await Start(new ServeOptions { MaxBatch = 4, MaxDelay = TimeSpan.Zero });
        using var client = Client(server);
        string[] texts = [.. tiny.Texts.Take(11)];

        var answer = await Send(client, HttpMethod.Post, "/v1/classify", Body(texts));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        AssertSameAsOffline(texts, answer.Body);
        Assert.Equal(3, server.Batches); // 4 + 4 + 3
        Assert.Equal(11, server.Texts);
    }

    [Fact]
    public async Task Should_Stay_Healthy_After_A_Flood_Of_Malformed_Requests()
    {
        await using var server = await Start(new ServeOptions { MaxBodyBytes = 4096 });
        using var client = Client(server);
        string[] garbage = ["{", "}", "null", "[]", "{\"texts\": {}}", "{\"texts\": [1, 2]}", "\u0000\u0001", new string('[', 5000), "{\"texts\": []}",
            Body([new string('y', 10_000)]), "{\"texts\": [\"\\ud800\"]}", "{\"texts\": [\"a\"],}"];

        // When hundreds of malformed requests arrive at once
        var flood = Enumerable.Range(0, 400).Select(async i =>
        {
            var answer = await Send(client, HttpMethod.Post, "/v1/classify", garbage[i % garbage.Length], i % 7 == 0 ? "application/xml" : "application/json");
            Assert.InRange((int)answer.Status, 400, 499);
        });
        await Task.WhenAll(flood).WaitAsync(TimeSpan.FromSeconds(120));

        // Then the server is healthy and still classifies
        Assert.Equal(HttpStatusCode.OK, (await Send(client, HttpMethod.Get, "/healthz")).Status);
        string[] texts = ["My card was declined"];
        var ok = await Send(client, HttpMethod.Post, "/v1/classify", Body(texts));
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        AssertSameAsOffline(texts, ok.Body);
    }
}
