using System.CommandLine;
using Microsoft.Extensions.Logging;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Cli.Serving;
using Ulmfit.Engine;
using Ulmfit.Pipeline;

namespace Ulmfit.Cli.Commands;

/// <summary>
/// `ulmfit serve`: loads a classifier once and serves it over HTTP (Kestrel) with dynamic micro-batching, until
/// SIGTERM or Ctrl+C, which drain in-flight requests and exit 0. API and limits: <see cref="ServeEndpoints"/>,
/// <see cref="ServeOptions"/>.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        ServeOptions defaults = ServeOptions.Default;
        var model = new Option<string>("--model") { Description = "A classifier package or the folder 'ulmfit fit' wrote.", Required = true };
        var host = new Option<string>("--host") { Description = "Address to listen on: an IP address or localhost (0.0.0.0: every interface).", DefaultValueFactory = _ => defaults.Host };
        var port = new Option<int>("--port") { Description = "TCP port (0: a free one, named in the 'listening on' line).", DefaultValueFactory = _ => defaults.Port };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most texts in one batched forward pass; concurrent requests share batches, larger ones are split.", DefaultValueFactory = _ => defaults.MaxBatch };
        var maxDelay = new Option<double>("--max-delay-ms") { Description = "Longest wait, after the first text of a batch arrives, for others to join it.", DefaultValueFactory = _ => defaults.MaxDelay.TotalMilliseconds };
        var maxTexts = new Option<int>("--max-texts") { Description = "Most texts in one request (more: 400).", DefaultValueFactory = _ => defaults.MaxTexts };
        var maxTextChars = new Option<int>("--max-text-chars") { Description = "Most characters in one text (more: 400).", DefaultValueFactory = _ => defaults.MaxTextChars };
        var maxBodyBytes = new Option<long>("--max-body-bytes") { Description = "Largest request body in bytes (more: 413).", DefaultValueFactory = _ => defaults.MaxBodyBytes };
        var maxQueued = new Option<int>("--max-queued-texts") { Description = "Most texts waiting for the model; requests beyond it get 503 at once.", DefaultValueFactory = _ => defaults.MaxQueuedTexts };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Lowest level of log lines on stderr; Information logs every request.", DefaultValueFactory = _ => defaults.LogLevel };
        var dtype = new DtypeOption(inference: true);
        var command = new Command("serve", "Serve a classifier over HTTP (POST /v1/classify), batching concurrent requests.")
            { model, host, port, maxBatch, maxDelay, maxTexts, maxTextChars, maxBodyBytes, maxQueued, logLevel };
        dtype.AddTo(command);
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, async (context, token) =>
        {
            var parse = context.Parse;
            OneDnnPrimitiveCache.Limit(OneDnnPrimitiveCache.ServingCapacity); // before the first inference
            var options = new ServeOptions
            {
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                MaxBatch = parse.GetValue(maxBatch),
                MaxDelay = TimeSpan.FromMilliseconds(parse.GetValue(maxDelay)),
                MaxTexts = parse.GetValue(maxTexts),
                MaxTextChars = parse.GetValue(maxTextChars),
                MaxBodyBytes = parse.GetValue(maxBodyBytes),
                MaxQueuedTexts = parse.GetValue(maxQueued),
                LogLevel = parse.GetValue(logLevel),
            };
            if (options.Problems() is [string problem, ..]) throw new OptionException(problem);
            string modelPath = parse.GetValue(model)!;
            using var fitted = FittedModel.Load(modelPath, dtype.PredictorOptions(parse));
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelPath)));
            int threads = context.Threads;
            ClassificationServer server;
            try
            {
                server = await ClassificationServer.StartAsync(fitted, name, options, () => TorchRuntime.Initialise(threads), token);
            }
            catch (IOException e) when (e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new OptionException($"cannot listen on {options.Host}:{options.Port}: the address is already in use (choose another --port)");
            }
            // The runner turns Ctrl+C and SIGTERM (process managers, `kill`) into cancellation: the service drains
            // in-flight requests and exits 0.
            await using (server)
            {
                output.Result($"listening on {server.Address.GetLeftPart(UriPartial.Authority)}");
                output.Out.Flush();
                try { await Task.Delay(Timeout.Infinite, token); }
                catch (OperationCanceledException) { }
                output.Info("shutting down: draining in-flight requests");
                await server.StopAsync();
            }
            output.Info($"served {server.Texts:N0} texts in {server.Batches:N0} batches");
            return new CommandSummary
            {
                ["texts"] = server.Texts,
                ["batches"] = server.Batches,
                ["mean_batch_texts"] = server.Batches > 0 ? Math.Round((double)server.Texts / server.Batches, 2) : 0,
                ["dtype"] = Modeling.ComputePrecisions.Name(fitted.Precision),
            };
        }, interruptNote: null);
        return command;
    }
}
