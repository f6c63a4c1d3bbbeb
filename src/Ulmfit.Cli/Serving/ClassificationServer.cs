using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Prometheus;
using Ulmfit.Pipeline;

namespace Ulmfit.Cli.Serving;

/// <summary>
/// A loaded classifier behind Kestrel: the endpoints of <see cref="ServeEndpoints"/>, a <see cref="MicroBatcher"/>
/// in front of the model, Prometheus metrics, and request logging through <see cref="ILogger"/> (to stderr, so stdout
/// carries only the <c>listening on</c> line). Start with <see cref="StartAsync"/>; <see cref="StopAsync"/> stops
/// accepting connections, lets in-flight requests finish (up to <see cref="ServeOptions.DrainTimeout"/>), then stops
/// the batcher. The caller owns the model.
/// </summary>
internal sealed class ClassificationServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly MicroBatcher _batcher;
    readonly ServeMetrics _metrics;
    bool _stopped;

    ClassificationServer(WebApplication app, MicroBatcher batcher, ServeMetrics metrics, Uri address)
    {
        _app = app;
        _batcher = batcher;
        _metrics = metrics;
        Address = address;
    }

    /// <summary>Where the server listens, with the port Kestrel bound (when 0 was asked for).</summary>
    public Uri Address { get; }

    /// <summary>Batched predictions run so far.</summary>
    public long Batches => _metrics.Batches;

    /// <summary>Texts classified so far.</summary>
    public long Texts => _metrics.Texts;

    /// <param name="name">The model's name in responses.</param>
    /// <param name="initialiseInference">Runs first on the inference thread (the engine's per-thread settings).</param>
    public static async Task<ClassificationServer> StartAsync(FittedModel model, string name, ServeOptions options,
        Action? initialiseInference = null, CancellationToken cancellationToken = default)
    {
        var problems = options.Problems();
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [], // the CLI parsed its own arguments; none of them are host settings
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(options.LogLevel);
        // ASP.NET Core's own per-request lines repeat ours; keep them for Debug and Trace.
        builder.Logging.AddFilter("Microsoft.AspNetCore", level => level >= LogLevel.Warning || (options.LogLevel <= LogLevel.Debug && level >= options.LogLevel));
        // Signals are the CLI's (its cancellation token stops the server), not the host's own console lifetime.
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.DrainTimeout);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            kestrel.Listen(ListenAddress(options.Host), options.Port);
        });

        MicroBatcher? batcher = null;
        var metrics = new ServeMetrics(options.MaxBatch, () => batcher?.QueuedTexts ?? 0);
        batcher = new MicroBatcher(texts => model.Predict(texts), options.MaxBatch, options.MaxDelay, options.MaxQueuedTexts, initialiseInference, metrics.Observe);
        WebApplication? app = null;
        try
        {
            app = builder.Build();
            var served = new ServedModel(name, model, ModelDescription.Create(name, model, options), batcher, options);
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Ulmfit.Serve");
            app.Use((http, next) => ServeEndpoints.LogAndGuardAsync(http, next, logger));
            app.UseStatusCodePages(context => ServeEndpoints.StatusProblemAsync(context.HttpContext));
            app.UseRouting();
            app.UseHttpMetrics(o => o.SetMetricFactory(metrics.Factory));
            app.MapMetrics(ServeEndpoints.Metrics, metrics.Registry);
            ServeEndpoints.Map(app, served, app.Lifetime.ApplicationStopping);
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            if (app != null) await app.DisposeAsync();
            batcher.Dispose();
            throw;
        }
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        int port = new Uri(bound).Port;
        string host = IPAddress.TryParse(options.Host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{options.Host}]" : options.Host;
        return new ClassificationServer(app, batcher, metrics, new Uri($"http://{host}:{port}"));
    }

    /// <summary>Stops accepting requests, drains those in flight, and stops the inference thread.</summary>
    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        await _app.StopAsync(CancellationToken.None); // Kestrel waits up to HostOptions.ShutdownTimeout for requests
        _batcher.Complete();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
        _batcher.Dispose();
    }

    // "localhost" is the IPv4 loopback: Kestrel cannot bind "localhost" to a port it picks (0).
    static IPAddress ListenAddress(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(host);

    /// <summary>A host lifetime that leaves signals alone.</summary>
    sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
