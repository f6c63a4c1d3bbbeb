using Prometheus;

namespace Ulmfit.Cli.Serving;

/// <summary>
/// What <c>GET /metrics</c> exports (Prometheus text format, prometheus-net): the HTTP middleware's request counts
/// and latencies by endpoint and status (<c>http_requests_received_total</c>, <c>http_request_duration_seconds</c>),
/// the process's memory and GC (<c>process_*</c>, <c>dotnet_*</c>), and the micro-batcher's own: texts per batch,
/// requests per batch, seconds per batched prediction, and texts waiting. One registry per server, so several servers
/// in one process (tests) count separately.
/// </summary>
internal sealed class ServeMetrics
{
    readonly Histogram _batchTexts, _batchRequests, _batchSeconds;
    readonly Counter _texts;
    long _batchCount, _textCount;

    public ServeMetrics(int maxBatch, Func<int> queuedTexts)
    {
        Registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        Factory = Metrics.WithCustomRegistry(Registry);
        // Powers of two up to the largest possible batch.
        double[] sizes = [.. Enumerable.Range(0, 1 + (int)Math.Ceiling(Math.Log2(Math.Max(maxBatch, 1)))).Select(i => Math.Min(Math.Pow(2, i), maxBatch)).Distinct()];
        _batchTexts = Factory.CreateHistogram("ulmfit_serve_batch_texts", "Texts in one batched prediction.", new HistogramConfiguration { Buckets = sizes });
        _batchRequests = Factory.CreateHistogram("ulmfit_serve_batch_requests", "Requests sharing one batched prediction.", new HistogramConfiguration { Buckets = sizes });
        _batchSeconds = Factory.CreateHistogram("ulmfit_serve_batch_seconds", "Seconds one batched prediction takes.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 14) });
        _texts = Factory.CreateCounter("ulmfit_serve_texts_total", "Texts classified.");
        Gauge queued = Factory.CreateGauge("ulmfit_serve_queued_texts", "Texts waiting for the model.");
        Registry.AddBeforeCollectCallback(() => queued.Set(queuedTexts()));
    }

    public CollectorRegistry Registry { get; }

    public IMetricFactory Factory { get; }

    /// <summary>Batched predictions so far.</summary>
    public long Batches => Interlocked.Read(ref _batchCount);

    /// <summary>Texts classified so far.</summary>
    public long Texts => Interlocked.Read(ref _textCount);

    /// <summary>Records one batched prediction (called on the inference thread: cheap, lock-free counters).</summary>
    public void Observe(BatchRecord batch)
    {
        _batchTexts.Observe(batch.Texts);
        _batchRequests.Observe(batch.Requests);
        _batchSeconds.Observe(batch.Inference.TotalSeconds);
        _texts.Inc(batch.Texts);
        Interlocked.Increment(ref _batchCount);
        Interlocked.Add(ref _textCount, batch.Texts);
    }
}
