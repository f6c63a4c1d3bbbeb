using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ulmfit.Cli;
using Ulmfit.Tests.Cli;

namespace Ulmfit.Tests.Serving;

[Collection(Training.TorchRandomCollection.Name)]
public partial class ServeCommandTests(TinyServedModel tiny) : IClassFixture<TinyServedModel>
{
    const int SIGTERM = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"^listening on http://127\.0\.0\.1:(\d+)$")]
    private static partial Regex ListeningLine();

    [Fact]
    public async Task Should_Print_Listening_Then_Drain_An_In_Flight_Request_On_Sigterm_And_Exit_0()
    {
        // Given the CLI serving the tiny model on a free port, with batches that wait 600 ms for company
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Ulmfit.Cli"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in new[] { "serve", "--model", tiny.Folder, "--port", "0", "--threads", "1", "--max-delay-ms", "600" }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        try
        {
            string? line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var listening = ListeningLine().Match(line ?? "");
            Assert.True(listening.Success, $"stdout: '{line}', stderr: {stderr}");
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{listening.Groups[1].Value}"), Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);

            // When SIGTERM arrives while a request waits in a batch
            var inFlight = client.PostAsync("/v1/classify", new StringContent("""{"texts": ["Where is my parcel?"]}""", Encoding.UTF8, "application/json"));
            await Task.Delay(200);
            Assert.Equal(0, Kill(process.Id, SIGTERM));

            // Then the request is answered, and the server exits 0
            using var response = await inFlight.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(1, body.RootElement.GetProperty("predictions").GetArrayLength());
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}, stderr: {stderr}");
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/healthz"));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Theory]
    [InlineData("--max-batch", "0", "--max-batch must be at least 1 (got 0)")]
    [InlineData("--port", "70000", "--port must be between 0 and 65535 (got 70000)")]
    [InlineData("--host", "example.com", "--host must be an IP address or localhost (got 'example.com')")]
    public void Should_Refuse_Unusable_Options_With_One_Line_And_Exit_2(string option, string value, string error)
    {
        var console = new CapturedConsole();
        Assert.Equal(2, CliApp.Run(["serve", "--model", tiny.Folder, option, value], console));
        Assert.Equal(error, Assert.Single(console.Errors));
        Assert.Empty(console.Results);
    }

    [Fact]
    public void Should_Refuse_A_Port_In_Use_With_One_Line_And_Exit_2()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var console = new CapturedConsole();
        Assert.Equal(2, CliApp.Run(["serve", "--model", tiny.Folder, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--threads", "1"], console));
        Assert.Equal($"cannot listen on 127.0.0.1:{port}: the address is already in use (choose another --port)", Assert.Single(console.Errors));
    }

    [Fact]
    public void Should_Refuse_A_Folder_That_Is_No_Model_With_One_Line_And_Exit_2()
    {
        var console = new CapturedConsole();
        Assert.Equal(2, CliApp.Run(["serve", "--model", Path.GetTempPath(), "--port", "0"], console));
        Assert.Single(console.Errors);
    }
}
